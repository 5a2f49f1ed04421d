"""The Log tab: the circle's moderation log, which every member can read.

An entry that does not check out says so in words ("TAMPERED: …", "REFUSED: …",
"WAITING: …") in its own column, never by colour alone.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from circle.domain.models import ModlogEntry
from circle.domain.times import readable
from circle.tui.plain import block, row


def status_text(entry: ModlogEntry) -> str:
    return "ok" if entry.status == "valid" else f"{entry.status.upper()}: {entry.why}"


def who(entry: ModlogEntry, names: Mapping[str, str]) -> str:
    if entry.actor_id is None:
        return "unknown"
    return names.get(entry.actor_id, f"member {entry.actor_id[:6]}")


class LogTab(Vertical):
    def __init__(self, circle_id: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.circle_id = circle_id
        self.entries: dict[str, ModlogEntry] = {}

    def compose(self) -> ComposeResult:
        yield Static("What moderators and organizers did, newest first. Every member sees the same log; "
                     "each entry is signed.", classes="tab-hint", markup=False)
        table: DataTable[object] = DataTable(id="log-table", cursor_type="row")
        table.add_columns("When", "Who", "What", "Reason", "Check")
        yield table
        yield Static("", id="log-detail", markup=False)

    def reload(self) -> None:
        service = self.app.service
        names = service.member_names(self.circle_id)
        entries = list(reversed(service.modlog(self.circle_id)))
        self.entries = {entry.id: entry for entry in entries}
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        for entry in entries:
            when = readable(entry.at, self.app.display_tz) if entry.at else "-"
            table.add_row(*row(when, who(entry, names), entry.summary, entry.reason or "-", status_text(entry)),
                          key=entry.id)
        if entries:
            table.move_cursor(row=min(keep, len(entries) - 1))
        else:
            self.query_one("#log-detail", Static).update("Nothing yet.")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        entry = self.entries.get(key) if key is not None else None
        if entry is None:
            return
        names = self.app.service.member_names(self.circle_id)
        lines = [f"{who(entry, names)} {entry.summary}", f"Reason: {entry.reason or '(none given)'}"]
        if entry.status != "valid":
            lines.append(f"{entry.status.upper()}: {entry.why}")
        self.query_one("#log-detail", Static).update(block("\n".join(lines)))
