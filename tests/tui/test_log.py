"""The moderation log: every member reads the same entries; one that no longer
checks out is flagged in words."""

from __future__ import annotations

import sqlite3

from textual.widgets import DataTable

from circle.tui.circle_screen import CircleScreen

from .world import make_app, screen_text, until, plain_row


def log_rows(app) -> list[list]:
    table = app.screen.query_one("#log-table", DataTable)
    return [plain_row(table.get_row_at(i)) for i in range(table.row_count)]


async def open_log(app, pilot) -> None:
    await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
    await pilot.press("7")
    await until(pilot, lambda: log_rows(app), what="the log")


async def test_every_member_reads_the_log(world):
    ana = world.ana()
    ana.hide(world.circle_id, world.posts["reply"], "off topic")
    ana.warn(world.circle_id, "Ben", "please keep it kind")
    ben = world.ben()
    ben.receive_bundle(ana.bundle_for(world.circle_id, ben.whoami().device_id))
    ana.close()
    app = make_app(ben)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_log(app, pilot)
        rows = log_rows(app)
        assert rows[0][1:] == ["Ana", "privately warned Ben", "please keep it kind", "ok"]  # newest first
        assert rows[1][1:] == ["Ana", f"hid post {world.posts['reply'][:8]}", "off topic", "ok"]
        assert [row[2] for row in rows[2:]] == ["added crisis resource Walkers phone tree",
                                                "updated the guidelines (version 1)"]
        assert "Tue 04 Mar 2025 12:00" in rows[0][0]
        assert "Reason: please keep it kind" in screen_text(app)  # the selected entry in full
    ben.close()


async def test_an_entry_altered_on_disk_is_flagged_tampered(world):
    ana = world.ana()
    ana.hide(world.circle_id, world.posts["reply"], "off topic")
    [hide] = [e for e in ana.modlog(world.circle_id) if e.kind == "hide"]
    blob = dict(ana.profile.store.actions(world.circle_id))[hide.id]
    wire = ana.profile.open(blob, "action", world.circle_id, hide.id)
    assert b"off topic" in wire
    forged = ana.profile.seal(wire.replace(b"off topic", b"all fine!"), "action", world.circle_id, hide.id)
    ana.close()
    with sqlite3.connect(world.home / "circle.db") as db:
        db.execute("UPDATE actions SET blob = ? WHERE action_id = ?", (forged, hide.id))

    ana = world.ana()
    app = make_app(ana)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_log(app, pilot)
        flagged = [row for row in log_rows(app) if row[4] != "ok"]
        assert len(flagged) == 1
        when, who, what, _, check = flagged[0]
        assert (when, who) == ("-", "unknown") and check.startswith("TAMPERED: altered after it was signed")
        assert not any(row[2].startswith("hid post") for row in log_rows(app))  # not applied
    ana.close()
