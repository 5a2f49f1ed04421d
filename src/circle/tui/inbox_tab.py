"""The Inbox tab: what was sent to this member alone, a moderators' warning or a
request to reach out. Showing it marks it seen; the app announces new items
when they arrive (CircleApp.announce_inbox)."""

from __future__ import annotations

from collections.abc import Mapping

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from circle.domain.models import InboxItem
from circle.domain.times import readable
from circle.tui.plain import block, row


def headline(item: InboxItem, names: Mapping[str, str]) -> str:
    """One line saying what arrived and from whom; a warning speaks for the moderators."""
    if item.kind == "warning":
        return "A private warning from the moderators"
    return f"{names.get(item.sender_id, 'A member')} asks you to reach out"


def details(item: InboxItem, names: Mapping[str, str]) -> str:
    if item.kind == "warning":
        return (f"{item.text}\n\nOnly you and the moderators can read this. "
                "The moderation log shows everyone that a warning was sent, not what it says.")
    sender = names.get(item.sender_id, "A member")
    others = ", ".join(names.get(m, "a member") for m in item.also_asked)
    lines = [
        f"{sender} would like you to get in touch: a message, a call, a walk.",
        f"Their note: {item.text}" if item.text else "They left no note.",
        f"They asked {others} too." if others else "They asked only you.",
        "Only the people asked can read this.",
    ]
    return "\n".join(lines)


class InboxTab(Vertical):
    def __init__(self, circle_id: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.circle_id = circle_id
        self.fresh: set[str] = set()  # unseen when this visit began: marked "● new" until you leave
        self.items: dict[str, InboxItem] = {}

    def compose(self) -> ComposeResult:
        yield Static("Sent to you alone. Up/down shows each in full below.", classes="tab-hint", markup=False)
        table: DataTable[object] = DataTable(id="inbox-table", cursor_type="row")
        table.add_columns("When", "What", "New")
        yield table
        yield Static("", id="inbox-detail", markup=False)

    def reload(self) -> None:
        service = self.app.service
        names = service.member_names(self.circle_id)
        self.fresh |= {item.id for item in service.unseen_inbox(self.circle_id)}
        items = list(reversed(service.inbox(self.circle_id)))  # newest first
        self.items = {item.id: item for item in items}
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        for item in items:
            table.add_row(*row(readable(item.created_at, self.app.display_tz), headline(item, names),
                              "● new" if item.id in self.fresh else ""), key=item.id)
        if items:
            table.move_cursor(row=min(keep, len(items) - 1))
        else:
            self.query_one("#inbox-detail", Static).update(
                "Nothing yet. When a member asks you to reach out, or the moderators write to you, "
                "it shows here and the app tells you.")
        service.mark_inbox_seen(self.circle_id, self.items)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        item = self.items.get(key) if key is not None else None
        if item is not None:
            names = self.app.service.member_names(self.circle_id)
            self.query_one("#inbox-detail", Static).update(block(details(item, names)))
