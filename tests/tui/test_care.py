"""Care between members: a check-in shared as a band only, "reach out to me" with its
in-app notice and inbox, and guidelines that change under a member's feet."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable

from circle.errors import NotAllowed
from circle.tui.circle_screen import CircleScreen
from circle.tui.compose_dialog import ComposeDialog
from circle.tui.guidelines_dialog import GuidelinesDialog

from .world import GUIDELINES, make_app, screen_text, type_into, until, plain_row


async def in_circle(app, pilot) -> None:
    await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
    await pilot.pause()


def notices(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_a_band_only_check_in_reaches_others_as_words_only(world):
    ana = world.ana()
    me = ana.whoami().member_id
    app = make_app(ana)
    async with app.run_test(size=(110, 40)) as pilot:
        await in_circle(app, pilot)
        await pilot.press("c", "n", *"rough night", "enter", "p")  # p: circle -> band
        await pilot.press("2")
        await until(pilot, lambda: any(c.note == "rough night" for c in ana.checkins(world.circle_id)),
                    what="the check-in")
        [mine] = [c for c in ana.checkins(world.circle_id) if c.note == "rough night"]
        assert (mine.mood, mine.visibility, mine.band) == (2, "band", "support")  # all of it, here
        await pilot.press("2")
        await until(pilot, lambda: 'circle: "could use support" only' in screen_text(app), what="the row")
    ben = world.ben()
    ben.receive_bundle(ana.bundle_for(world.circle_id, ben.whoami().device_id))
    ana.close()
    [seen] = [c for c in ben.checkins(world.circle_id) if c.id == mine.id]
    assert (seen.author_id, seen.mood, seen.note, seen.band_text) == (me, None, "", "could use support")
    app = make_app(ben)
    async with app.run_test(size=(110, 40)) as pilot:
        await in_circle(app, pilot)
        await pilot.press("2")
        await until(pilot, lambda: "Shared as a band only: 1 could use support" in screen_text(app),
                    what="the pulse")
        table = app.screen.query_one("#checkin-table", DataTable)
        assert plain_row(table.get_row(mine.id))[1:4] == ["Ana", "could use support", ""]  # no number, no note
    ben.close()


async def test_reach_out_notifies_the_member_asked_and_waits_in_their_inbox(world):
    ana = world.ana()
    app = make_app(ana)
    async with app.run_test(size=(110, 36)) as pilot:
        await in_circle(app, pilot)
        await pilot.press("4")
        table = app.screen.query_one("#member-table", DataTable)
        table.move_cursor(row=table.get_row_index(world.ben_member_id()))
        await pilot.press("space")
        await until(pilot, lambda: "✓ chosen" in screen_text(app), what="the choice")
        await pilot.press("r")
        await type_into(pilot, "#answer", "coffee this week?")
        await pilot.press("enter")
        await until(pilot, lambda: any("Asked Ben" in n for n in notices(app)), what="the confirmation")

    ben = world.ben()
    courier = world.ben()  # another process on Ben's profile takes delivery while his app runs
    app = make_app(ben)
    async with app.run_test(size=(110, 36)) as pilot:
        await in_circle(app, pilot)
        assert not notices(app)
        courier.receive_bundle(ana.bundle_for(world.circle_id, courier.whoami().device_id))
        await until(pilot, lambda: any("Ana asks you to reach out" in n for n in notices(app)),
                    what="the notice", detail=lambda: notices(app))
        await until(pilot, lambda: "6 Inbox (1 new)" in screen_text(app), what="the tab's count")
        await pilot.press("6")
        await until(pilot, lambda: "Their note: coffee this week?" in screen_text(app), what="the inbox")
        assert "● new" in screen_text(app)
        assert ben.unseen_inbox(world.circle_id) == []  # shown: seen
    courier.close()
    ben.close()
    ana.close()


async def test_changed_guidelines_block_posting_until_accepted(world):
    ben = world.ben()
    courier = world.ben()
    app = make_app(ben)
    async with app.run_test(size=(110, 36)) as pilot:
        await in_circle(app, pilot)
        ana = world.ana()
        ana.set_guidelines(world.circle_id, GUIDELINES + "\n4. No selling.")
        courier.receive_bundle(ana.bundle_for(world.circle_id, courier.whoami().device_id))
        await until(pilot, lambda: isinstance(app.screen, GuidelinesDialog), what="the request to re-read")
        await until(pilot, lambda: "4. No selling." in screen_text(app), what="the new guidelines shown")
        text = screen_text(app)
        assert "changed (now version 2)" in text and "4. No selling." in text and "Welcome" not in text
        await pilot.press("escape")  # later
        assert isinstance(app.screen, CircleScreen)
        assert "Posting waits until you accept" in screen_text(app)
        with pytest.raises(NotAllowed):
            ben.post(world.circle_id, "sneaking in")
        ben.checkin(world.circle_id, 3)  # check-ins never wait

        await pilot.press("n")  # writing leads to the guidelines first
        assert isinstance(app.screen, GuidelinesDialog)
        await pilot.press("ctrl+a")
        await until(pilot, lambda: isinstance(app.screen, ComposeDialog), what="the compose dialog")
        assert not ben.guidelines_pending(world.circle_id)
        app.screen.query_one("#body").text = "Read them, all good."
        await pilot.press("ctrl+s")
        await until(pilot, lambda: any(p.body == "Read them, all good." for p in ben.feed(world.circle_id)),
                    what="the post")
        await until(pilot, lambda: "Posting waits" not in screen_text(app), what="the banner to go")

        ana.receive_bundle(ben.bundle_for(world.circle_id, ana.whoami().device_id))
        assert ana.guideline_acceptance(world.circle_id)[ben.whoami().member_id]
        ana.close()
    courier.close()
    ben.close()


async def test_organizers_see_who_has_not_accepted_the_guidelines(world):
    ana = world.ana()
    ana.set_guidelines(world.circle_id, GUIDELINES + "\n4. No selling.")
    app = make_app(ana)
    async with app.run_test(size=(110, 40)) as pilot:
        await in_circle(app, pilot)
        await pilot.press("5")
        await until(pilot, lambda: "Guidelines, version 2" in screen_text(app), what="the version")
        text = screen_text(app)
        assert "You accepted version 2." in text  # whoever writes them accepts them
        assert "Not accepted yet (they cannot post until they do): Ben" in text
    ana.close()
