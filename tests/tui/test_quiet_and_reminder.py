"""The feed's calm marker and "quiet posts" view for posts waiting for a reply, and the
daily check-in reminder, driven by the world's injected clock."""

from __future__ import annotations

from datetime import timedelta

from circle.tui.circle_screen import CircleScreen
from circle.tui.feed_render import WAITING_MARK
from circle.tui.feed_tab import FeedTab

from .world import NOW, make_app, screen_text, until


async def in_circle(app, pilot) -> None:
    await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
    await pilot.pause()


def notices(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_a_post_nobody_answered_gets_a_calm_marker_and_a_quiet_view(world):
    ben = world.ben()
    world.clock.now = NOW - timedelta(hours=1)
    lonely = ben.post(world.circle_id, "Up since four. Anyone around?")
    ana = world.ana()
    ana.receive_bundle(ben.bundle_for(world.circle_id, ana.whoami().device_id))
    world.clock.now = NOW + timedelta(hours=10, minutes=59)
    app = make_app(ana)
    async with app.run_test(size=(110, 40)) as pilot:
        await in_circle(app, pilot)
        tab = app.screen.query_one(FeedTab)
        assert tab.waiting == frozenset() and WAITING_MARK not in screen_text(app)
        world.clock.now = NOW + timedelta(hours=11)  # twelve hours after Ben's post
        tab._check_waiting()  # what its timer does every few minutes
        await until(pilot, lambda: WAITING_MARK in screen_text(app), what="the marker")
        assert tab.waiting == {lonely.id}
        assert "1 waiting for a reply (w)" in screen_text(app)
        await pilot.press("w")
        await until(pilot, lambda: "Quiet posts: 1 waiting for a reply" in screen_text(app), what="the view")
        assert [item.id for item in tab.view._items] == [lonely.id]
        assert "Walk on Tuesday?" not in screen_text(app)
        await pilot.press("a", "2")  # a hug from Ana ends the wait
        await until(pilot, lambda: "Nobody is waiting for a reply." in screen_text(app), what="the answer")
        await pilot.press("w")
        await until(pilot, lambda: "Walk on Tuesday?" in screen_text(app), what="all posts again")
        assert WAITING_MARK not in screen_text(app)
    ana.close()
    ben.close()


async def test_the_author_sees_no_marker_or_count_on_their_own_waiting_post(world):
    ben = world.ben()
    world.clock.now = NOW - timedelta(hours=1)
    ben.post(world.circle_id, "Up since four. Anyone around?")
    world.clock.now = NOW + timedelta(days=2)
    app = make_app(ben)
    async with app.run_test(size=(110, 40)) as pilot:
        await in_circle(app, pilot)
        text = screen_text(app)
        assert "Up since four" in text and WAITING_MARK not in text and "waiting" not in text
    ben.close()


async def test_the_reminder_offers_a_check_in_once_after_its_time_unless_one_was_made(world):
    ana = world.ana()
    ana.set_checkin_reminder("13:00")
    app = make_app(ana)  # NOW is 12:00 in the app's zone (UTC)
    async with app.run_test(size=(110, 40)) as pilot:
        await in_circle(app, pilot)
        assert not any("check-in" in n for n in notices(app))
        assert app.offer_checkin() is False
        world.clock.now = NOW + timedelta(hours=1)
        assert app.offer_checkin() is True
        await until(pilot, lambda: any("A moment for a check-in" in n for n in notices(app)), what="the prompt")
        assert app.offer_checkin() is False  # once a day
        world.clock.now = NOW + timedelta(days=1, hours=1)
        ana.checkin(world.circle_id, 3, share="me")
        assert app.offer_checkin() is False  # already checked in today
        world.clock.now = NOW + timedelta(days=2, hours=1)
        assert app.offer_checkin() is True
    ana.close()


async def test_the_reminder_shows_on_start_when_its_time_has_passed(world):
    ana = world.ana()
    ana.set_checkin_reminder("08:00")
    app = make_app(ana)
    async with app.run_test(size=(110, 40)) as pilot:
        await until(pilot, lambda: any("A moment for a check-in" in n for n in notices(app)), what="the prompt")
    ana.close()
