"""The Events tab: planning an event in its own zone, editing and cancelling it, and
not touching someone else's."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from textual.widgets import Select

from circle.tui.circle_screen import CircleScreen
from circle.tui.dialogs import ConfirmDialog
from circle.tui.event_dialog import EventDialog

from .world import make_app, screen_text, type_into, until

LONDON = ZoneInfo("Europe/London")


async def events_tab(app, pilot) -> None:
    await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
    await pilot.press("3")
    await until(pilot, lambda: "Tuesday walk" in screen_text(app), what="the events tab")


async def test_plan_edit_and_cancel_an_event(world):
    service = world.ana()
    app = make_app(service)
    async with app.run_test(size=(110, 40)) as pilot:
        await events_tab(app, pilot)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, EventDialog), what="the event dialog")
        await type_into(pilot, "#title", "Sunday walk")
        await type_into(pilot, "#tz", "Europe/Atlantis")
        await type_into(pilot, "#when", "2025-03-23 10:00")
        await pilot.press("enter")
        await until(pilot, lambda: "Unknown time zone" in screen_text(app), what="the zone refused")
        await type_into(pilot, "#tz", "Europe/London")
        app.screen.query_one("#repeat", Select).value = "weekly"
        await type_into(pilot, "#where", "Lake, east side")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: len(service.events(world.circle_id)) == 2, what="the new event")
        walk = next(e for e in service.events(world.circle_id) if e.title == "Sunday walk")
        assert (walk.tz, walk.repeat, walk.where) == ("Europe/London", "weekly", "Lake, east side")
        assert walk.when == datetime(2025, 3, 23, 10, tzinfo=LONDON)
        # Shown in UTC (the tests' display zone): 10:00 GMT on the 23rd is still ahead.
        await until(pilot, lambda: "Sun 23 Mar 2025 10:00" in screen_text(app), what="the new row")

        table = app.screen.query_one("#event-table")
        table.move_cursor(row=table.get_row_index(walk.id))
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, EventDialog), what="the edit dialog")
        assert app.screen.query_one("#when").value == "2025-03-23 10:00"
        await type_into(pilot, "#title", "Lake walk")
        await type_into(pilot, "#minutes", "90")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: service.resolve_event(world.circle_id, walk.id).title == "Lake walk",
                    what="the edit")
        assert service.resolve_event(world.circle_id, walk.id).minutes == 90

        table.move_cursor(row=table.get_row_index(walk.id))
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the question")
        await pilot.press("y")
        await until(pilot, lambda: service.resolve_event(world.circle_id, walk.id).cancelled, what="the cancel")
        await until(pilot, lambda: "Lake walk (cancelled)" in screen_text(app), what="shown cancelled")
    service.close()


async def test_someone_elses_event_cannot_be_edited_or_cancelled(world):
    service = world.ben()  # the walk is Ana's
    app = make_app(service)
    async with app.run_test(size=(110, 40)) as pilot:
        await events_tab(app, pilot)
        await pilot.press("e")
        await until(pilot, lambda: any("Only the member who planned" in n.message for n in app._notifications),
                    what="the notice")
        await pilot.press("x")
        await pilot.pause()
        assert not isinstance(app.screen, (EventDialog, ConfirmDialog))
        assert not service.events(world.circle_id)[0].cancelled
    service.close()
