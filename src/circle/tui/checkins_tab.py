"""The Check-ins tab: my mood trend (30 or 90 days), the circle's pulse, recent check-ins."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from circle.domain.models import CheckIn
from circle.tui.mood_chart import MOOD_WORDS, circle_pulse, mood_trend, render_pulse, render_trend
from circle.domain.times import readable
from circle.tui.plain import row

RECENT = 50


class CheckinsTab(VerticalScroll):
    BINDINGS = [Binding("t", "toggle_range", "30/90 days", id="checkins.range")]

    def __init__(self, circle_id: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.circle_id = circle_id
        self.days = 30

    def compose(self) -> ComposeResult:
        yield Static("Press c, then 1-5, to check in. t switches the trend between 30 and 90 days.",
                     classes="tab-hint", markup=False)
        yield Static("", id="trend-title", classes="section-title", markup=False)
        yield Static("", id="trend", markup=False)
        yield Static("", id="pulse", markup=False)
        yield Static("Recent check-ins", classes="section-title", markup=False)
        table: DataTable[object] = DataTable(id="checkin-table", cursor_type="row")
        table.add_columns("When", "Who", "Mood", "Note", "Tags", "Seen by")
        yield table

    def reload(self) -> None:
        service = self.app.service
        checkins = service.checkins(self.circle_id)
        now = service.clock()
        me = service.whoami().member_id
        self.query_one("#trend-title", Static).update(f"Your mood, last {self.days} days")
        self.query_one("#trend", Static).update(render_trend(mood_trend(checkins, me, now, self.days)))
        self.query_one("#pulse", Static).update(render_pulse(circle_pulse(checkins, now)))
        names = service.member_names(self.circle_id)
        table = self.query_one(DataTable)
        table.clear()
        for c in sorted(checkins, key=lambda c: c.created_at, reverse=True)[:RECENT]:
            table.add_row(*row(
                readable(c.created_at, self.app.display_tz),
                "you" if c.author_id == me else names.get(c.author_id, "?"),
                c.band_text if c.mood is None else f"{c.mood}/5 {MOOD_WORDS[c.mood]}",
                c.note,
                ", ".join(c.tags),
                seen_by(c)),
                key=c.id,
            )

    def action_toggle_range(self) -> None:
        self.days = 90 if self.days == 30 else 30
        self.reload()


def seen_by(checkin: CheckIn) -> str:
    if checkin.visibility == "me":
        return "only you"
    if checkin.visibility == "band":
        return f"circle: \"{checkin.band_text}\" only"
    return "circle"
