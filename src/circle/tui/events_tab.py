"""The Events tab: upcoming meetups with their next occurrence, and your RSVP; planning,
editing and cancelling your own."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from circle.domain.recurrence import next_occurrence
from circle.domain.models import Event
from circle.errors import CircleError
from circle.tui.dialogs import ConfirmDialog
from circle.tui.event_dialog import EventDialog, EventDraft
from circle.tui.plain import block, row
from circle.domain.times import readable

REPEAT_WORDS = {"none": "once", "weekly": "every week", "monthly": "every month"}


class EventsTab(Vertical):
    BINDINGS = [
        Binding("y", "rsvp('yes')", "Going", id="events.yes"),
        Binding("m", "rsvp('maybe')", "Maybe", id="events.maybe"),
        Binding("n", "rsvp('no')", "Not going", id="events.no"),
        Binding("plus,a", "plan", "Plan", id="events.plan"),
        Binding("e", "edit", "Edit", show=False, id="events.edit"),
        Binding("x", "cancel_event", "Cancel event", show=False, id="events.cancel"),
    ]

    def __init__(self, circle_id: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.circle_id = circle_id

    def compose(self) -> ComposeResult:
        yield Static("y going · m maybe · n not going · a plan an event · e edit · x cancel (yours)",
                     classes="tab-hint", markup=False)
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
            ((next_occurrence(e.when, e.repeat, now, e.tz), e) for e in service.events(self.circle_id)),
            key=lambda pair: (pair[1].cancelled, pair[0] < now, pair[0]),
        )
        for when, event in upcoming:
            answers = list(event.rsvps.values())
            going = f"{answers.count('yes')} yes, {answers.count('maybe')} maybe"
            label = readable(when, self.app.display_tz) + (" (past)" if when < now else "")
            title = f"{event.title} (cancelled)" if event.cancelled else event.title
            table.add_row(*row(title, label, REPEAT_WORDS.get(event.repeat, event.repeat), event.where or "-",
                              going, event.rsvps.get(me, "no answer")), key=event.id)
        if upcoming:
            table.move_cursor(row=min(keep, len(upcoming) - 1))
        else:
            self.query_one("#event-notes", Static).update("No events yet. Press a to plan one.")

    def _selected(self) -> Event | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        event_id = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        found = [e for e in self.app.service.events(self.circle_id) if e.id == event_id]
        return found[0] if found else None

    def _run(self, method, *args, **kwargs) -> None:
        try:
            method(self.circle_id, *args, **kwargs)
        except CircleError as exc:
            self.notify(str(exc), severity="error")

    def action_rsvp(self, answer: str) -> None:
        event = self._selected()
        if event is not None:
            self._run(self.app.service.rsvp, event.id, answer)

    def action_plan(self) -> None:
        def plan(draft: EventDraft | None) -> None:
            if draft:
                self._run(self.app.service.add_event, draft.title, draft.when, repeat=draft.repeat,
                          where=draft.where, notes=draft.notes, tz=draft.tz, minutes=draft.minutes)

        self.app.push_screen(EventDialog("Plan an event", self.app.service.local_zone()), plan)

    def _own_open(self, doing: str) -> Event | None:
        event = self._selected()
        if event is None:
            return None
        if event.author_id != self.app.service.whoami().member_id:
            self.notify(f"Only the member who planned an event can {doing} it.", severity="warning")
            return None
        if event.cancelled:
            self.notify("This event is cancelled.", severity="warning")
            return None
        return event

    def action_edit(self) -> None:
        event = self._own_open("edit")
        if event is None:
            return

        def save(draft: EventDraft | None) -> None:
            if draft:
                self._run(self.app.service.edit_event, event.id, title=draft.title, when=draft.when,
                          repeat=draft.repeat, where=draft.where, notes=draft.notes, tz=draft.tz,
                          minutes=draft.minutes)

        self.app.push_screen(EventDialog("Edit event", event.tz, event), save)

    def action_cancel_event(self) -> None:
        event = self._own_open("cancel")
        if event is None:
            return

        def cancel(yes: bool | None) -> None:
            if yes:
                self._run(self.app.service.cancel_event, event.id)

        self.app.push_screen(ConfirmDialog("Cancel event", f"Cancel \"{event.title}\" for everyone? "
                                           "It stays listed as cancelled."), cancel)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        found = [e for e in self.app.service.events(self.circle_id) if e.id == event.row_key.value]
        if not found:
            self.query_one("#event-notes", Static).update("")
            return
        shown = found[0]
        zone = f"repeats on {shown.tz or 'UTC'} time · " if shown.repeat != "none" else ""
        detail = f"{zone}{shown.minutes} min" + (f"\n{shown.notes}" if shown.notes else "")
        self.query_one("#event-notes", Static).update(block(detail))
