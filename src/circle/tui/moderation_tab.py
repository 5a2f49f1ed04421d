"""The Moderation tab (organizers and moderators): the queue of reported posts and
everything done about them, from one place.

`a` switches between the queue and all posts; every key acts on the selected
post or its author. Each act is signed into the log every member can read.
"""

from __future__ import annotations

from datetime import timedelta

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from circle.domain.models import Post
from circle.domain.roles import Role
from circle.errors import CircleError
from circle.tui.dialogs import ChoiceDialog, ConfirmDialog, PromptDialog
from circle.tui.moderation_queue import EVIDENCE, QueueEntry, build_queue, excerpt, status_words
from circle.domain.times import readable
from circle.tui.plain import block, row

MUTE_FOR = (("1 hour", timedelta(hours=1)), ("1 day", timedelta(days=1)), ("1 week", timedelta(weeks=1)))
HINT = ("h hide · u unhide · x dismiss the reports · w warn the author · m mute · M unmute · "
        "R remove the author (organizers) · a queue / all posts · p report policy (organizers)")


class ModerationTab(Vertical):
    BINDINGS = [
        Binding("h", "hide", "Hide", id="moderation.hide"),
        Binding("x", "dismiss_reports", "Dismiss", id="moderation.dismiss"),
        Binding("w", "warn", "Warn", id="moderation.warn"),
        Binding("m", "mute", "Mute", id="moderation.mute"),
        Binding("a", "toggle_all", "Queue/all", id="moderation.all"),
        Binding("u", "unhide", "Unhide", show=False, id="moderation.unhide"),
        Binding("M", "unmute", "Unmute", show=False, id="moderation.unmute"),
        Binding("R", "remove", "Remove", show=False, id="moderation.remove"),
        Binding("p", "policy", "Report policy", show=False, id="moderation.policy"),
    ]

    def __init__(self, circle_id: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.circle_id = circle_id
        self.all_posts = False
        self.posts: dict[str, Post] = {}
        self.queue: dict[str, QueueEntry] = {}

    def compose(self) -> ComposeResult:
        yield Static(HINT, classes="tab-hint", markup=False)
        yield Static("", id="policy", markup=False)
        yield Static("", id="moderation-title", classes="section-title", markup=False)
        yield DataTable(id="moderation-table", cursor_type="row")
        yield Static("", id="moderation-detail", markup=False)
        yield Static("", id="muted", markup=False)

    # -- showing ---------------------------------------------------------------------

    def reload(self) -> None:
        service = self.app.service
        names = service.member_names(self.circle_id)
        self.posts = {p.id: p for p in service.feed(self.circle_id)}
        self.queue = {e.post_id: e for e in build_queue(service.reports(self.circle_id), self.posts)}
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear(columns=True)
        if self.all_posts:
            self._fill_posts(table, names)
        else:
            self._fill_queue(table, names)
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1))
        else:
            self.query_one("#moderation-detail", Static).update(
                "" if self.all_posts else "No open reports. a shows all posts.")
        self._show_policy()
        muted = [f"{names.get(member, '?')} until " + readable(until, self.app.display_tz)
                 for member, until in service.muted(self.circle_id).items()]
        self.query_one("#muted", Static).update(block("Muted: " + ("; ".join(muted) if muted else "nobody")))

    def _fill_queue(self, table: DataTable, names) -> None:
        count = len(self.queue)
        self.query_one("#moderation-title", Static).update(
            f"Queue: {count} reported post{'s' * (count != 1)} waiting, longest first (a: all posts)")
        table.add_columns("Author", "Post", "Reports", "Reasons", "Status", "Evidence")
        for entry in self.queue.values():
            table.add_row(*row(
                names.get(entry.author_id or "", "?"),
                excerpt(entry.text, 32),
                str(len(entry.reports)),
                excerpt("; ".join(r.reason for r in entry.reports), 24),
                status_words(entry),
                entry.evidence),
                key=entry.post_id,
            )

    def _fill_posts(self, table: DataTable, names) -> None:
        self.query_one("#moderation-title", Static).update("All posts, newest first (a: back to the queue)")
        table.add_columns("Posted", "Author", "Post", "Status", "Reports")
        for p in sorted(self.posts.values(), key=lambda p: p.created_at, reverse=True):
            text = f"CW {p.content_warning}: {p.body}" if p.content_warning else p.body
            entry = self.queue.get(p.id)
            table.add_row(*row(readable(p.created_at, self.app.display_tz), names.get(p.author_id, "?"),
                               excerpt(text, 40), post_status(p), str(len(entry.reports)) if entry else "-"),
                          key=p.id)

    def _show_policy(self) -> None:
        after = self.app.service.report_policy(self.circle_id)
        text = (f"Reported posts fold for members after {after} report{'s' * (after != 1)} "
                "from different members, until a moderator acts." if after
                else "Reported posts never fold by themselves (policy 0).")
        if self._organizer():
            text += " p changes this."
        self.query_one("#policy", Static).update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        post_id = event.row_key.value
        if post_id is None:  # every row is added with its post id as key
            return
        names = self.app.service.member_names(self.circle_id)
        entry, post = self.queue.get(post_id), self.posts.get(post_id)
        status = status_words(entry, long=True) if entry else post_status(post)
        lines = [f"Post {post_id[:8]} by {names.get(self._author_id(post_id) or '', '?')} · {status}",
                 excerpt(entry.text if entry else post.body if post else None, 300)]
        for r in entry.reports if entry else ():
            when = readable(r.created_at, self.app.display_tz)
            lines.append(f"• {when} {names.get(r.reporter_id, '?')}: {r.reason}")
        if entry:
            lines.append(f"Evidence: {EVIDENCE[entry.evidence]}")
        self.query_one("#moderation-detail", Static).update(block("\n".join(lines)))

    # -- helpers ---------------------------------------------------------------------

    def _selected(self, *, quiet: bool = False) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            if not quiet:
                self.notify("Nothing to act on." if self.all_posts else "The queue is empty; a shows all posts.",
                            severity="warning")
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def _author_id(self, post_id: str | None) -> str | None:
        """Who wrote the post: from a verified report, else from the post on this device."""
        entry, post = self.queue.get(post_id or ""), self.posts.get(post_id or "")
        return (entry.author_id if entry else None) or (post.author_id if post else None)

    def _selected_author(self) -> tuple[str, str] | None:
        """(member id, name) of the selected post's author, unless it is you or unknown."""
        post_id = self._selected()
        if post_id is None:
            return None
        author = self._author_id(post_id)
        if author is None:
            self.notify("This post's author is not known on this device yet.", severity="warning")
            return None
        if author == self.app.service.whoami().member_id:
            self.notify("That is your own post.", severity="warning")
            return None
        return author, self.app.service.member_names(self.circle_id).get(author, "this member")

    def _organizer(self) -> bool:
        return self.app.service.my_role(self.circle_id) == Role.ORGANIZER

    def _run(self, done: str, what, *args) -> None:
        """Call the service; say `done` if it worked, its one-line reason if not."""
        try:
            what(self.circle_id, *args)
        except CircleError as exc:
            self.notify(str(exc), severity="error")
            return
        self.notify(done)

    def _ask_reason(self, title: str, then) -> None:
        """An optional reason (it goes into the log), then `then(reason)`; Esc does nothing."""
        def answered(reason: str | None) -> None:
            if reason is not None:
                then(reason)

        self.app.push_screen(PromptDialog(title, "Reason (optional; in the log):", optional=True), answered)

    # -- actions ---------------------------------------------------------------------

    def action_toggle_all(self) -> None:
        self.all_posts = not self.all_posts
        self.reload()

    def action_hide(self) -> None:
        post_id = self._selected()
        if post_id is None:
            return

        def hide(reason: str | None) -> None:
            if reason:
                self._run("Hidden. Members see that it was hidden, and why.", self.app.service.hide, post_id, reason)

        self.app.push_screen(PromptDialog("Hide post", "Reason (members will see it):"), hide)

    def action_unhide(self) -> None:
        post_id = self._selected()
        if post_id is not None:
            self._run("Shown again to everyone.", self.app.service.unhide, post_id)

    def action_dismiss_reports(self) -> None:
        post_id = self._selected()
        if post_id is None:
            return
        entry = self.queue.get(post_id)
        if entry is None:
            self.notify("This post has no open reports.", severity="warning")
            return
        count = len(entry.reports)
        self._ask_reason("Dismiss the reports: no action needed", lambda reason: self._run(
            f"Dismissed {count} report{'s' * (count != 1)}; the post is unfolded.",
            self.app.service.dismiss, entry.reports[0].id, reason))

    def action_warn(self) -> None:
        author = self._selected_author()
        if author is None:
            return
        member, name = author

        def warn(reason: str | None) -> None:
            if reason:
                self._run(f"Warning sent. Only {name} and the moderators can read it.",
                          self.app.service.warn, member, reason)

        self.app.push_screen(PromptDialog(f"Warn {name} privately",
                                          "What they should know (they read it as from the moderators):"), warn)

    def action_mute(self) -> None:
        author = self._selected_author()
        if author is None:
            return
        member, name = author

        def mute(duration: timedelta | None) -> None:
            if duration:
                self._ask_reason(f"Mute {name}", lambda reason: self._run(
                    f"{name} is muted: they can read but not post.", self.app.service.mute, member, duration, reason))

        self.app.push_screen(ChoiceDialog(f"Mute {name}", MUTE_FOR, "They can read but not post until then."), mute)

    def action_unmute(self) -> None:
        """Unmute the selected post's author if muted, else pick from everyone muted."""
        names = self.app.service.member_names(self.circle_id)
        muted = list(self.app.service.muted(self.circle_id))
        author = self._author_id(self._selected(quiet=True))

        def unmute(member: str | None) -> None:
            if member:
                self._run(f"{names.get(member, 'They')} can post again.", self.app.service.unmute, member)

        if author in muted:
            unmute(author)
        elif muted:
            options = [(names.get(m, "?"), m) for m in muted][:9]  # ChoiceDialog keys are 1-9
            self.app.push_screen(ChoiceDialog("Unmute", options, "Whose mute ends now?"), unmute)
        else:
            self.notify("Nobody is muted.", severity="warning")

    def action_remove(self) -> None:
        if not self._organizer():
            self.notify("Only organizers can remove members.", severity="warning")
            return
        author = self._selected_author()
        if author is None:
            return
        member, name = author

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._ask_reason(f"Remove {name}", lambda reason: self._run(
                    f"{name} was removed; the circle has a new key.", self.app.service.remove, member, reason))

        self.app.push_screen(ConfirmDialog(
            f"Remove {name}", f"Remove {name} from the circle? They will not read anything written from now on. "
                              "What they wrote stays."), confirmed)

    def action_policy(self) -> None:
        if not self._organizer():
            self.notify("Only organizers set the report policy.", severity="warning")
            return

        def set_policy(answer: str | None) -> None:
            if answer is None:
                return
            if not answer.isdigit():
                self.notify("Give a whole number: 0 (never fold) to 100.", severity="error")
                return
            self._run("Report policy saved.", self.app.service.set_report_policy, int(answer))

        current = str(self.app.service.report_policy(self.circle_id))
        self.app.push_screen(PromptDialog("Report policy", "Fold a post for review after how many reports from "
                                          "different members? 0 = never.", current), set_policy)


def post_status(post: Post | None) -> str:
    if post is None:
        return "not on this device yet"
    if post.deleted:
        return "deleted by author"
    if post.hidden:
        return f"HIDDEN: {post.hidden_reason}"
    return "visible"
