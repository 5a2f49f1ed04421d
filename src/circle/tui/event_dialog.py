"""Planning or editing an event: title, first time on the event's own clock, its zone,
how it repeats, how long it lasts, where, notes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input, Label, Select, Static

from circle.domain.models import DEFAULT_EVENT_MINUTES, MAX_EVENT_MINUTES, Event
from circle.domain.recurrence import zone
from circle.tui.base import Dialog
from circle.tui.plain import line

WHEN_FORMAT = "%Y-%m-%d %H:%M"
REPEAT_CHOICES = [("once", "none"), ("every week", "weekly"), ("every month (skips months without the day)",
                                                                "monthly")]


@dataclass(frozen=True)
class EventDraft:
    title: str
    when: datetime
    tz: str
    repeat: str
    minutes: int
    where: str
    notes: str


class EventDialog(Dialog):
    """Returns an EventDraft, or None if cancelled. Nothing is saved until ctrl+s (or Enter)."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True, id="event.save"),
        Binding("escape", "cancel", "Cancel", id="event.cancel"),
    ]

    def __init__(self, title: str, tz: str, event: Event | None = None) -> None:
        super().__init__()
        self.title_text, self.event = title, event
        self.tz = (event.tz or "UTC") if event else tz

    def compose(self) -> ComposeResult:
        event = self.event
        when = event.when.astimezone(zone(self.tz)).strftime(WHEN_FORMAT) if event else ""
        fields = [
            ("Title", Input(event.title if event else "", id="title", max_length=120)),
            ("First time", Input(when, placeholder="YYYY-MM-DD HH:MM on the zone's clock", id="when")),
            ("Time zone", Input(self.tz, placeholder="e.g. Europe/London", id="tz")),
            ("Repeats", Select(REPEAT_CHOICES, value=event.repeat if event else "none", allow_blank=False,
                               id="repeat")),
            ("Minutes", Input(str(event.minutes if event else DEFAULT_EVENT_MINUTES), id="minutes",
                              type="integer")),
            ("Where", Input(event.where if event else "", id="where")),
            ("Notes", Input(event.notes if event else "", id="notes")),
        ]
        with Vertical(classes="dialog event-form") as box:
            box.border_title = line(self.title_text)
            for label, widget in fields:
                with Horizontal(classes="event-field"):
                    yield Label(label)
                    yield widget
            yield Static("", id="event-problem", markup=False)
            yield Static("ctrl+s or Enter saves · Esc cancels · Tab moves between fields", classes="dialog-hint",
                         markup=False)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#title", Input).focus()

    def _value(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value.strip()

    def _problem(self, text: str) -> None:
        self.query_one("#event-problem", Static).update(text)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        title, tz = self._value("title"), self._value("tz")
        if not title:
            return self._problem("Give the event a title.")
        try:
            tzinfo = zone(tz)
        except ValueError:
            return self._problem(f"Unknown time zone {tz!r}: use a name such as Europe/London.")
        try:
            when = datetime.strptime(self._value("when"), WHEN_FORMAT).replace(tzinfo=tzinfo)
        except ValueError:
            return self._problem("Write the time as YYYY-MM-DD HH:MM, e.g. 2026-03-22 10:00.")
        minutes = int(self._value("minutes")) if self._value("minutes").isdigit() else 0
        if not 0 < minutes <= MAX_EVENT_MINUTES:
            return self._problem(f"Minutes: 1 to {MAX_EVENT_MINUTES}.")
        repeat = self.query_one("#repeat", Select).value
        self.dismiss(EventDraft(title, when, tz, str(repeat), minutes, self._value("where"), self._value("notes")))
