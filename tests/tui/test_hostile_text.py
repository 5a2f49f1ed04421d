"""Every screen, tab and dialog of the app, shown to a moderator of a circle whose other members
wrote hostile text in every field they control (tests/helpers/hostile_world.py): nothing they wrote may
reach the terminal as a control sequence or bidi control, no markup of theirs may be parsed
(or crash the app), and what they wrote still shows, as text."""

from __future__ import annotations

import re

from textual.screen import ModalScreen
from textual.widgets import DataTable, TabbedContent

from tests.helpers.hostile_world import MARKERS_SEEN_BY_MODERATOR, NOW, PASSPHRASE, build, hostile
from circle.service import Service
from circle.tui.circle_list import CircleListScreen
from circle.tui.circle_screen import CircleScreen
from circle.tui.feed_view import FeedView
from circle.tui.join_flow import JoinScreen

from .world import make_app, until

# What a terminal acts on or reorders: C0 (but newline) and DEL, C1, bidi and zero-width controls.
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u202a-\u202e"
                    "\u2060-\u2064\u2066-\u2069\ufeff]")


def painted(app) -> str:
    """The text of every cell the current screen paints (Textual's own control segments left out)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip if not seg.control) for strip in strips)


class Looker:
    def __init__(self, app) -> None:
        self.app, self.seen, self.places = app, set(), []

    async def look(self, pilot, where: str, *expected: str) -> str:
        await pilot.pause()
        text = painted(self.app)
        found = sorted({hex(ord(c)) for c in UNSAFE.findall(text)})
        assert not found, f"{where}: control characters painted: {found}"
        assert "[/]" in text or not expected, f"{where}: the markup was not shown as text"
        for marker in expected:
            assert marker in text, f"{where}: {marker} not shown"
        self.seen |= {m for m in MARKERS_SEEN_BY_MODERATOR if m in text}
        self.places.append(where)
        return text


async def test_every_screen_shows_hostile_text_as_text(tmp_path):
    ids = build(tmp_path / "world")
    cid = ids["circle"]
    ana = Service.unlock(tmp_path / "world" / "ana", PASSPHRASE, clock=lambda: NOW)
    app = make_app(ana)
    async with app.run_test(size=(180, 60)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
        eyes = Looker(app)

        async def dialog(pilot, key: str, where: str, *expected: str) -> None:
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, ModalScreen), f"{where}: no dialog opened; {[n.message for n in app._notifications]} {app.focused}"
            await eyes.look(pilot, where, *expected)
            await pilot.press("escape")
            await pilot.pause()
        first_sight = ("NAMEC", "POST2", "HIDE1", "CIRCLEN")
        await until(pilot, lambda: all(marker in painted(app) for marker in first_sight),
                    what="the feed and the inbox notice", detail=lambda: painted(app))
        await eyes.look(pilot, "feed and the inbox notice", *first_sight)

        feed = app.screen.query_one(FeedView)
        feed.selected_id = ids["bad_post"]
        await pilot.press("o")  # open its content warning
        await eyes.look(pilot, "the opened post", "POST1", "CW1")

        tabs = {"checkins": ("NOTE1", "TAG1"), "events": ("EVTITLE", "EVWHERE"), "members": ("NAMEB", "NAMEC"),
                "guidelines": ("PURPOSE", "GUIDE", "RESNAME"), "inbox": (), "log": ("MUTE1",),
                "moderation": ("REASON1",)}
        for tab_id, markers in tabs.items():
            app.screen.query_one(TabbedContent).active = tab_id
            await pilot.pause()
            await eyes.look(pilot, f"tab {tab_id}", *markers)
            tables = app.screen.query_one(TabbedContent).query(DataTable)
            for table in tables:
                if table.display and table.row_count > 1:
                    table.focus()
                    for _ in range(table.row_count):  # every row's detail pane
                        await pilot.press("down")
                        await eyes.look(pilot, f"tab {tab_id}, row {table.cursor_row}")
        app.screen.query_one(TabbedContent).active = "events"
        await pilot.pause()
        await eyes.look(pilot, "event notes", "EVNOTES")
        app.screen.query_one(TabbedContent).active = "inbox"
        await pilot.pause()
        table = app.screen.query_one("#inbox-table", DataTable)
        for row in range(table.row_count):
            table.move_cursor(row=row)
            await eyes.look(pilot, f"inbox item {row}")
        assert {"WARN1", "REACH1"} <= eyes.seen

        app.screen.query_one(TabbedContent).active = "moderation"
        await pilot.pause()
        app.screen.query_one("#moderation-table", DataTable).focus()
        await dialog(pilot, "M", "unmute dialog (names on its buttons)", "NAMEC")  # the queue: Ana's own post
        await pilot.press("a")  # all posts
        await eyes.look(pilot, "moderation, all posts", "NAMEC", "CW1", "POST2")
        table = app.screen.query_one("#moderation-table", DataTable)
        table.move_cursor(row=table.get_row_index(ids["bad_post"]))
        for key, where in (("w", "warn dialog"), ("m", "mute dialog")):
            await dialog(pilot, key, where, "NAMEC")

        app.screen.query_one(TabbedContent).active = "feed"
        await pilot.pause()
        feed.focus()
        feed.selected_id = ids["bad_post"]
        for key, where in (("r", "reply dialog"), ("a", "react dialog")):
            feed.selected_id = ids["bad_post"]
            await dialog(pilot, key, where, "NAMEC")
        await dialog(pilot, "c", "check-in dialog", "CIRCLEN")

        await pilot.press("f1")
        await eyes.look(pilot, "help panel", "RESNAME", "RESCONTACT", "RESHOURS")
        await pilot.press("escape")

        await pilot.press("f3")
        await eyes.look(pilot, "settings screen (read-only for a moderator)", "CIRCLEN", "PURPOSE", "RESNAME")
        await pilot.press("escape")

        app.network.problem(hostile("NETPROB"))
        await pilot.press("f2")
        await eyes.look(pilot, "network panel", "NETPROB")
        await pilot.press("escape")

        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, CircleListScreen), what="the circle list")
        await eyes.look(pilot, "circle list", "CIRCLEN")

        await pilot.press("j")
        await until(pilot, lambda: isinstance(app.screen, JoinScreen), what="the join screen")
        join = app.screen
        join._error(f"That code does not work: {hostile('JOINERR')}")
        await eyes.look(pilot, "join error", "JOINERR")
        join.circle_id = cid  # as once the member let us in
        join._show_guidelines()
        join._sync_status(f"Could not finish syncing now ({hostile('SYNCERR')}).")
        await eyes.look(pilot, "join: the circle's welcome and guidelines", "CIRCLEN", "PURPOSE", "GUIDE",
                        "SYNCERR")
        assert app.is_running  # no [@click=app.quit] got through
    missing = set(MARKERS_SEEN_BY_MODERATOR) - eyes.seen
    assert not missing, f"never shown: {sorted(missing)} (looked at {eyes.places})"
    ana.close()
