"""Check-ins (two keystrokes), events RSVP, members, guidelines and the circle list."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input

from circle.crypto.invite_code import InviteCode
from circle.tui.circle_list import CircleListScreen
from circle.tui.circle_screen import CircleScreen
from circle.tui.dialogs import CodeDialog
from circle.tui.invite_dialog import InviteDialog, reachable_default

from .world import make_app, screen_text, type_into, until, plain_row


async def in_circle(app, pilot) -> None:
    await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
    await pilot.pause()


async def test_check_in_with_two_keystrokes_then_a_private_one_with_a_note(world):
    service = world.ana()
    me = service.whoami().member_id
    before = len(service.checkins(world.circle_id))
    app = make_app(service)
    async with app.run_test(size=(100, 32)) as pilot:
        await in_circle(app, pilot)
        await pilot.press("c", "4")
        await until(pilot, lambda: len(service.checkins(world.circle_id)) == before + 1, what="the check-in")
        newest = max(service.checkins(world.circle_id), key=lambda c: (c.created_at, c.id))
        assert (newest.author_id, newest.mood, newest.visibility) == (me, 4, "circle")

        await pilot.press("c", "n")
        await pilot.press(*"tired", "enter", "p")  # p goes circle -> band -> only me
        assert 'Tuesday Walkers sees only "doing okay" or "could use support"' in screen_text(app)
        await pilot.press("p")
        assert "Private: stays on this device only" in screen_text(app)
        await pilot.press("2")
        await until(pilot, lambda: len(service.checkins(world.circle_id)) == before + 2, what="the second")
        private = [c for c in service.checkins(world.circle_id) if c.note == "tired"]
        assert [(c.mood, c.visibility) for c in private] == [(2, "me")]
        await pilot.press("2")  # the Check-ins tab shows both, with numbers
        await until(pilot, lambda: "only you" in screen_text(app), what="the private check-in listed")
        assert "2/5 low" in screen_text(app) and "tired" in screen_text(app)
    service.close()


async def test_mood_trend_shows_numbers_and_switches_to_90_days(world):
    service = world.ana()
    app = make_app(service)
    async with app.run_test(size=(110, 40)) as pilot:
        await in_circle(app, pilot)
        await pilot.press("2")
        await pilot.pause()
        text = screen_text(app)
        assert "Your mood, last 30 days" in text
        assert "12 check-ins · average 2.8 · lowest 1 · highest 4 · latest 3 (okay)" in text
        assert "Circle pulse (last 7 days): 1 people, 1 shared check-ins, average 2.0" in text
        await pilot.press("t")
        await pilot.pause()
        assert "Your mood, last 90 days" in screen_text(app)
        assert "one column per 3 days" in screen_text(app)
    service.close()


async def test_rsvp_to_the_next_walk(world):
    service = world.ana()
    me = service.whoami().member_id
    app = make_app(service)
    async with app.run_test(size=(100, 32)) as pilot:
        await in_circle(app, pilot)
        await pilot.press("3")
        await pilot.pause()
        text = screen_text(app)
        # first held a week ago, weekly: next is today (Tue 4 Mar) at 10:00 UTC... already past at
        # noon, so next week
        assert "Tuesday walk" in text and "Tue 11 Mar 2025 10:00" in text and "every week" in text
        await pilot.press("y")
        await until(pilot, lambda: service.events(world.circle_id)[0].rsvps.get(me) == "yes", what="yes")
        await until(pilot, lambda: "1 yes, 0 maybe" in screen_text(app), what="the count")
        await pilot.press("m")
        await until(pilot, lambda: service.events(world.circle_id)[0].rsvps.get(me) == "maybe", what="maybe")
    service.close()


async def test_members_and_an_invite_code_for_organizers(world):
    service = world.ana()
    app = make_app(service, listen="127.0.0.1:0")
    async with app.run_test(size=(100, 32)) as pilot:
        await in_circle(app, pilot)
        await pilot.press("4")
        await pilot.pause()
        table = app.screen.query_one("#member-table", DataTable)
        rows = [plain_row(table.get_row_at(i))[:3] for i in range(table.row_count)]
        assert rows == [["Ana (you)", "organizer", "active"], ["Ben", "member", "active"]]
        await until(pilot, lambda: app.network.listening is not None, what="listening")
        before = len(service.invites(world.circle_id))
        await pilot.press("i")
        assert isinstance(app.screen, InviteDialog)
        # Listening on loopback: another computer cannot reach that, so it is not offered.
        assert app.screen.query_one("#address", Input).value == ""
        for field, value in (("#uses", "3"), ("#days", "2"), ("#address", "walkers.example:7654")):
            app.screen.query_one(field, Input).value = value
        app.screen.query_one("#days", Input).value = "91"
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, InviteDialog)  # refused, with the reason, nothing made
        assert "Days valid: 1 to 90." in screen_text(app)
        assert len(service.invites(world.circle_id)) == before
        app.screen.query_one("#days", Input).value = "2"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, CodeDialog), what="the code")
        code = InviteCode.decode(app.screen.code)
        assert code.circle_id == world.circle_id
        assert code.hints == ("walkers.example:7654",)  # the newcomer knows where to find us
        made = service.invites(world.circle_id)[-1]
        assert len(service.invites(world.circle_id)) == before + 1
        assert made.uses == 3 and made.expires_at == code.expires_at
        assert code.expires_at - service.clock().timestamp() == pytest.approx(2 * 86400, abs=5)
        assert "admits 3 people and expires in 2 days" in app.screen.note
    service.close()


def test_an_invite_offers_only_an_address_another_computer_can_reach():
    assert reachable_default(None) == ""
    assert reachable_default("127.0.0.1:7654") == ""
    assert reachable_default("[::1]:7654") == ""
    assert reachable_default("0.0.0.0:7654") == ""
    assert reachable_default("192.168.1.20:7654") == "192.168.1.20:7654"
    assert reachable_default("walkers.local:7654") == "walkers.local:7654"


async def test_guidelines_tab(world):
    service = world.ana()
    app = make_app(service)
    async with app.run_test(size=(100, 32)) as pilot:
        await in_circle(app, pilot)
        await pilot.press("5")
        await pilot.pause()
        text = screen_text(app)
        assert "Tuesday Walkers: Walk and talk, gently." in text
        assert "2. Listen first; advice only when asked." in text
        assert "Walkers phone tree: Ana: 07700 900123" in text
    service.close()


async def test_circle_list_counts_unread_and_opens_and_starts_circles(world):
    ben = world.ben()
    ben.post(world.circle_id, "one more thing")
    ben.close()
    service = world.ana()
    app = make_app(service)
    async with app.run_test(size=(100, 32)) as pilot:
        await in_circle(app, pilot)  # the only circle opens by itself...
        await pilot.press("escape")  # ...escape goes to the list
        assert isinstance(app.screen, CircleListScreen)
        table = app.screen.query_one(DataTable)
        assert plain_row(table.get_row_at(0))[:2] == ["Tuesday Walkers", "nothing new"]  # seen on the way
        assert "offline" in plain_row(table.get_row_at(0))[4]

        await pilot.press("n")
        await type_into(pilot, "#answer", "Night Owls")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, CircleScreen) and app.screen.title == "Night Owls",
                    what="the new circle")
        assert "Night Owls" in {c.name for c in service.circles()}
    assert service.last_circle() != world.circle_id  # it opens next time
    service.close()


async def test_unread_counts_in_the_list_until_the_circle_is_opened(world):
    ben = world.ben()
    ben.post(world.circle_id, "are you there?")
    service = world.ana()
    service.receive_bundle(ben.bundle_for(world.circle_id, service.whoami().device_id))
    ben.close()
    service.create_circle("Second")  # two circles, none used yet: the app starts on the list
    app = make_app(service)
    async with app.run_test(size=(100, 32)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CircleListScreen), what="the list")
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        rows = {plain_row(table.get_row_at(i))[0]: plain_row(table.get_row_at(i))[1] for i in range(table.row_count)}
        assert rows == {"Tuesday Walkers": "3 unread", "Second": "nothing new"}
        table.move_cursor(row=[plain_row(table.get_row_at(i))[0] for i in range(2)].index("Tuesday Walkers"))
        await pilot.press("enter")
        await in_circle(app, pilot)
        await pilot.press("escape")
        await until(pilot, lambda: "3 unread" not in screen_text(app), what="the count to clear")
    assert service.unread_count(world.circle_id) == 0
    assert service.last_circle() == world.circle_id
    service.close()


async def test_the_mouse_works_too(world):
    service = world.ana()
    before = len(service.checkins(world.circle_id))
    app = make_app(service)
    async with app.run_test(size=(100, 32)) as pilot:
        await in_circle(app, pilot)
        await pilot.click("#--content-tab-events")
        await until(pilot, lambda: "Tuesday walk" in screen_text(app), what="the events tab")
        await pilot.press("c")
        await pilot.click("#mood-5")
        await until(pilot, lambda: len(service.checkins(world.circle_id)) == before + 1, what="the check-in")
        assert max(service.checkins(world.circle_id), key=lambda c: (c.created_at, c.id)).mood == 5
    service.close()
