"""The Moderation tab (organizers and moderators): hide and unhide posts, mute members."""

from __future__ import annotations

from datetime import timedelta

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from circle.errors import CircleError
from circle.tui.dialogs import ChoiceDialog, PromptDialog
from circle.tui.when import moment

MUTE_FOR = (("1 hour", timedelta(hours=1)), ("1 day", timedelta(days=1)), ("1 week", timedelta(weeks=1)))


class ModerationTab(Vertical):
    BINDINGS = [
        Binding("h", "hide", "Hide", id="moderation.hide"),
        Binding("u", "unhide", "Unhide", id="moderation.unhide"),
        Binding("m", "mute", "Mute author", id="moderation.mute"),
    ]

    def __init__(self, circle_id: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.circle_id = circle_id
        self.authors: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Static("h hide the selected post (members see only that it was hidden) · u unhide · "
                     "m mute its author for a while", classes="tab-hint", markup=False)
        table = DataTable(id="moderation-table", cursor_type="row")
        table.add_columns("Posted", "Author", "Post", "Status")
        yield table
        yield Static("", id="muted", markup=False)

    def reload(self) -> None:
        service = self.app.service
        names = service.member_names(self.circle_id)
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        posts = sorted(service.feed(self.circle_id), key=lambda p: p.created_at, reverse=True)
        self.authors = {p.id: p.author_id for p in posts}
        for p in posts:
            if p.deleted:
                status = "deleted by author"
            elif p.hidden:
                status = f"HIDDEN: {p.hidden_reason}"
            else:
                status = "visible"
            text = f"CW {p.content_warning}: {p.body}" if p.content_warning else p.body
            table.add_row(moment(p.created_at, self.app.display_tz), names.get(p.author_id, "?"),
                          " ".join(text.split())[:60], status, key=p.id)
        if posts:
            table.move_cursor(row=min(keep, len(posts) - 1))
        muted = [
            f"{names.get(member, '?')} until " + moment(until, self.app.display_tz)
            for member, until in service.muted(self.circle_id).items()
        ]
        self.query_one("#muted", Static).update("Muted: " + ("; ".join(muted) if muted else "nobody"))

    def _selected(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def _run(self, what, *args) -> None:
        try:
            what(self.circle_id, *args)
        except CircleError as exc:
            self.notify(str(exc), severity="error")

    def action_hide(self) -> None:
        post_id = self._selected()
        if post_id is None:
            return

        def hide(reason: str | None) -> None:
            if reason:
                self._run(self.app.service.hide, post_id, reason)

        self.app.push_screen(PromptDialog("Hide post", "Reason (members will see it):"), hide)

    def action_unhide(self) -> None:
        post_id = self._selected()
        if post_id is not None:
            self._run(self.app.service.unhide, post_id)

    def action_mute(self) -> None:
        post_id = self._selected()
        if post_id is None:
            return
        author = self.authors[post_id]
        name = self.app.service.member_names(self.circle_id).get(author, "this member")

        def mute(duration: timedelta | None) -> None:
            if duration:
                self._run(self.app.service.mute, author, duration)

        self.app.push_screen(ChoiceDialog(f"Mute {name}", MUTE_FOR, "They can read but not post until then."), mute)
