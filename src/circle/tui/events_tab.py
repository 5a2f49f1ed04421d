"""The Events tab: upcoming meetups with their next occurrence, and your RSVP."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from circle.domain.recurrence import next_occurrence
from circle.errors import CircleError
from circle.tui.when import moment
from circle.tui.plain import block, row

REPEAT_WORDS = {"none": "once", "weekly": "every week", "monthly": "every month"}


class EventsTab(Vertical):
    BINDINGS = [
        Binding("y", "rsvp('yes')", "Going", id="events.yes"),
        Binding("m", "rsvp('maybe')", "Maybe", id="events.maybe"),
        Binding("n", "rsvp('no')", "Not going", id="events.no"),
    ]

    def __init__(self, circle_id: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.circle_id = circle_id

    def compose(self) -> ComposeResult:
        yield Static("y going · m maybe · n not going (for the selected event)", classes="tab-hint", markup=False)
        table: DataTable[object] = DataTable(id="event-table", cursor_type="row")
        table.add_columns("Event", "Next", "Repeats", "Where", "Going", "You")
        yield table
        yield Static("", id="event-notes", markup=False)

    def reload(self) -> None:
        service = self.app.service
        now = service.clock()
        me = service.whoami().member_id
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        upcoming = sorted(
            ((next_occurrence(e.when, e.repeat, now), e) for e in service.events(self.circle_id)),
            key=lambda pair: (pair[0] < now, pair[0]),
        )
        for when, event in upcoming:
            answers = list(event.rsvps.values())
            going = f"{answers.count('yes')} yes, {answers.count('maybe')} maybe"
            label = moment(when, self.app.display_tz) + (" (past)" if when < now else "")
            table.add_row(*row(event.title, label, REPEAT_WORDS.get(event.repeat, event.repeat), event.where or "-",
                              going, event.rsvps.get(me, "no answer")), key=event.id)
        if upcoming:
            table.move_cursor(row=min(keep, len(upcoming) - 1))
        else:
            self.query_one("#event-notes", Static).update("No events yet.")

    def action_rsvp(self, answer: str) -> None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return
        event_id = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        try:
            self.app.service.rsvp(self.circle_id, event_id, answer)
        except CircleError as exc:
            self.notify(str(exc), severity="error")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        found = [e for e in self.app.service.events(self.circle_id) if e.id == event.row_key.value]
        notes = found[0].notes if found else ""
        self.query_one("#event-notes", Static).update(block(notes))
