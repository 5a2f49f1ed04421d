"""The Feed tab: the circle's threads, and writing, replying, reacting, editing, deleting,
opening folded posts and reporting them."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from circle.errors import CircleError
from circle.tui.compose_dialog import ComposeDialog, Draft
from circle.tui.dialogs import ChoiceDialog, ConfirmDialog, PromptDialog
from circle.tui.feed_items import FeedItem, build_feed_items
from circle.tui.feed_view import FeedView
from circle.tui.guidelines_dialog import GuidelinesDialog
from circle.tui.poll_dialog import PollDialog, PollDraft, VoteDialog
from circle.tui.search_dialog import SearchDialog

REACTIONS = (("♥ heart", "heart"), ("hug", "hug"), ("+1", "+1"), ("thanks", "thanks"))


class FeedTab(Vertical):
    BINDINGS = [
        Binding("n", "compose", "New post", id="feed.compose"),
        Binding("r", "reply", "Reply", id="feed.reply"),
        Binding("plus,a", "react", "React", id="feed.react"),
        Binding("e", "edit", "Edit", show=False, id="feed.edit"),
        Binding("d", "delete", "Delete", show=False, id="feed.delete"),
        Binding("o", "reveal", "Open", show=False, id="feed.reveal"),
        Binding("exclamation_mark", "report", "Report", id="feed.report"),
        Binding("G", "latest", "Latest", show=False, id="feed.latest"),
        Binding("slash", "search", "Search", show=False, id="feed.search"),
        Binding("w", "quiet", "Quiet posts", show=False, id="feed.quiet"),
        Binding("v", "vote", "Vote", show=False, id="feed.vote"),
        Binding("p", "ask", "Poll", show=False, id="feed.poll"),
    ]

    def __init__(self, circle_id: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.circle_id = circle_id
        self.unread: set[str] = set()  # new this visit: the marker stays until you leave
        self.items: dict[str, FeedItem] = {}
        self.waiting: frozenset[str] = frozenset()  # posts waiting for a reply (service/quiet.py)
        self.only_quiet = False  # the "quiet posts" view: only those, to answer one
        self._loaded = False

    def compose(self) -> ComposeResult:
        yield Static("", id="feed-status", markup=False)
        yield FeedView(id="feed-view", clock=self.app.service.clock, tz=self.app.display_tz)

    @property
    def view(self) -> FeedView:
        return self.query_one(FeedView)

    def on_mount(self) -> None:
        # Posts start waiting as time passes, not only when something arrives.
        self.set_interval(300, self._check_waiting)

    def _check_waiting(self) -> None:
        if frozenset(p.id for p in self.app.service.quiet_posts(self.circle_id)) != self.waiting:
            self.reload()

    def reload(self) -> None:
        service = self.app.service
        posts = service.feed(self.circle_id)
        me = service.whoami().member_id
        seen = service.seen_posts(self.circle_id)
        fresh = {p.id for p in posts if p.author_id != me and not p.deleted and not p.hidden and p.id not in seen}
        self.unread |= fresh
        self.waiting = frozenset(p.id for p in service.quiet_posts(self.circle_id))
        items = build_feed_items(posts, service.member_names(self.circle_id), me, self.unread, self.waiting,
                                 service.polls(self.circle_id))
        self.items = {item.id: item for item in items}
        self.view.set_items([i for i in items if i.waiting] if self.only_quiet else items)
        service.mark_seen(self.circle_id, fresh)
        new = f", {len(self.unread)} new" if self.unread else ""
        if self.only_quiet:
            status = (f"Quiet posts: {len(self.waiting)} waiting for a reply · r reply · a react · w all posts"
                      if self.waiting else "Nobody is waiting for a reply. · w all posts")
        else:
            # Never counted for the author: their own posts are not among the waiting.
            quiet = f" · {len(self.waiting)} waiting for a reply (w)" if self.waiting else ""
            status = (f"{len(items)} posts{new}{quiet} · n post · r reply · a react · o open · ! report · "
                      "e edit · d delete · G latest")
        self.query_one("#feed-status", Static).update(status)
        if not self._loaded:
            self._loaded = True
            self.view.jump_to_latest()

    def selected(self) -> FeedItem | None:
        item = self.items.get(self.view.selected_id or "")
        if item is None:
            self.notify("Select a post first (up/down).", severity="warning")
        return item

    def _run(self, what, *args, **kwargs) -> bool:
        try:
            what(self.circle_id, *args, **kwargs)
        except CircleError as exc:
            self.notify(str(exc), severity="error")
            return False
        return True

    def _when_accepted(self, then: Callable[[], object]) -> None:
        """Run `then` (opening a compose dialog) now, or once the member accepts guidelines
        they have not accepted yet: the service refuses posts until then, and finding that
        out after typing would waste the words."""
        if not self.app.service.guidelines_pending(self.circle_id):
            then()
            return
        note = "Then you can write your post."

        def after(accepted: bool | None) -> None:
            if accepted:
                then()

        self.app.push_screen(GuidelinesDialog(self.circle_id, note), after)

    # -- actions -----------------------------------------------------------------

    def action_compose(self) -> None:
        def send(draft: Draft | None) -> None:
            if draft and self._run(self.app.service.post, draft.body, content_warning=draft.content_warning):
                self.reload()  # now, not when the store's news arrives: the cursor goes to it
                self.view.jump_to_latest()

        self._when_accepted(lambda: self.app.push_screen(ComposeDialog("New post"), send))

    def action_reply(self) -> None:
        item = self.selected()
        if item is None:
            return
        if item.deleted:
            self.notify("That post was deleted.", severity="warning")
            return

        def send(draft: Draft | None) -> None:
            if draft:
                self._run(self.app.service.post, draft.body, reply_to=item.id,
                          content_warning=draft.content_warning)

        if self.view.is_closed(item.id):  # quote no more than the feed shows
            excerpt = f"({item.collapsed_reason or 'content warning: ' + (item.content_warning or '')})"
        else:
            excerpt = item.body[:200]
        dialog = ComposeDialog(f"Reply to {item.author}", context=f"{item.author}: {excerpt}")
        self._when_accepted(lambda: self.app.push_screen(dialog, send))

    def action_react(self) -> None:
        item = self.selected()
        if item is None:
            return
        mine = {kind for kind, _, is_mine in item.reactions if is_mine}

        def react(kind: str | None) -> None:
            if kind:
                self._run(self.app.service.react, item.id, kind, on=kind not in mine)

        given = f"You reacted: {', '.join(sorted(mine))}. Choosing one again takes it back." if mine else ""
        self.app.push_screen(ChoiceDialog(f"React to {item.author}", REACTIONS, given), react)

    def action_edit(self) -> None:
        item = self.selected()
        if item is None:
            return
        if not item.is_mine or item.deleted:
            self.notify("You can edit only your own posts.", severity="warning")
            return

        def save(draft: Draft | None) -> None:
            if draft:
                self._run(self.app.service.edit, item.id, draft.body)

        self._when_accepted(
            lambda: self.app.push_screen(ComposeDialog("Edit post", body=item.body, allow_cw=False), save))

    def action_delete(self) -> None:
        item = self.selected()
        if item is None:
            return
        if not item.is_mine or item.deleted:
            self.notify("You can delete only your own posts.", severity="warning")
            return

        def delete(yes: bool | None) -> None:
            if yes:
                self._run(self.app.service.delete, item.id)

        self.app.push_screen(ConfirmDialog("Delete post", "Delete this post for everyone? Replies stay."), delete)

    def action_reveal(self) -> None:
        item = self.selected()
        if item is None:
            return
        if item.hidden and not item.body:
            self.notify("Moderators hid this post; only they can open it.", severity="warning")
            return
        self.view.reveal(item.id)

    def action_report(self) -> None:
        item = self.selected()
        if item is None:
            return
        if item.is_mine:
            self.notify("That is your own post: edit or delete it instead.", severity="warning")
            return
        if item.deleted or item.hidden:
            gone = "was deleted" if item.deleted else "is already hidden by moderators"
            self.notify(f"That post {gone}.", severity="warning")
            return

        def report(reason: str | None) -> None:
            if reason and self._run(self.app.service.report, item.id, reason):
                self.notify("Reported. Only the moderators can read it and see that it came from you.")

        self.app.push_screen(PromptDialog(
            f"Report {item.author}'s post",
            "What is wrong with it? Only the circle's moderators will read this.",
        ), report)

    def action_latest(self) -> None:
        self.view.jump_to_latest()

    def action_search(self) -> None:
        def jump(post_id: str | None) -> None:
            if post_id:
                self.view.selected_id = post_id  # selects and scrolls to it; a folded post stays folded
                self.view.focus()

        self.app.push_screen(SearchDialog(self.circle_id), jump)

    def action_quiet(self) -> None:
        """Show only the posts waiting for a reply, or everything again."""
        self.only_quiet = not self.only_quiet
        self.reload()

    def action_ask(self) -> None:
        """Ask the circle about the selected post: the poll shows under it."""
        item = self.selected()
        if item is None:
            return
        if item.deleted or item.hidden:
            self.notify("That post is gone; ask under another one.", severity="warning")
            return

        def ask(draft: PollDraft | None) -> None:
            if draft:
                self._run(self.app.service.create_poll, draft.question, draft.options, post=item.id,
                          closes_in=draft.closes_in)

        self._when_accepted(lambda: self.app.push_screen(PollDialog(f"A poll under {item.author}'s post"), ask))

    def action_vote(self) -> None:
        item = self.selected()
        if item is None:
            return
        if not item.poll_ids:
            self.notify("There is no poll under this post (p asks one).", severity="warning")
            return
        service = self.app.service
        results = [service.resolve_poll(self.circle_id, poll_id) for poll_id in item.poll_ids]
        open_ones = [r for r in results if r.open]
        if not open_ones:
            self.notify("That poll is closed.", severity="warning")
            return
        result = open_ones[-1]  # the newest open one under this post

        def vote(number: int | None) -> None:
            if number is not None:
                self._run(service.vote, result.poll.id, number)

        self._when_accepted(lambda: self.app.push_screen(VoteDialog(result), vote))

    def on_feed_view_activated(self, message: FeedView.Activated) -> None:
        self.action_reply()  # enter on a post answers it (a collapsed warning opens first)
