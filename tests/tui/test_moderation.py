"""Moderation: the queue of reported posts and every act on it, each checked in the
service's state; the report policy; members have no such tab."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import DataTable, Static, TabbedContent

from circle.tui.circle_screen import CircleScreen
from circle.tui.dialogs import ConfirmDialog, PromptDialog

from .world import make_app, screen_text, type_into, until, plain_row


def select_post(app, post_id: str) -> None:
    table = app.screen.query_one("#moderation-table", DataTable)
    table.move_cursor(row=table.get_row_index(post_id))


def find(service, circle_id, post_id):
    return next(p for p in service.feed(circle_id) if p.id == post_id)


def rows(app) -> dict[str, list]:
    table = app.screen.query_one("#moderation-table", DataTable)
    return {key.value: plain_row(table.get_row(key)) for key in table.rows}


def reported(world, service) -> None:
    """Ben reports Ana's walk post; Ana (a moderator may report too) reports Ben's reply."""
    ben = world.ben()
    ben.report(world.circle_id, world.posts["walk"], "wrong day for this")
    service.receive_bundle(ben.bundle_for(world.circle_id, service.whoami().device_id))
    ben.close()
    service.report(world.circle_id, world.posts["reply"], "off topic")


async def open_moderation(app, pilot) -> None:
    await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
    await pilot.press("8")
    await until(pilot, lambda: app.screen.query_one(TabbedContent).active == "moderation", what="the tab")
    await pilot.pause()


async def answer(pilot, text: str) -> None:
    """Fill the prompt that just opened and confirm it."""
    await until(pilot, lambda: isinstance(pilot.app.screen, PromptDialog), what="the prompt")
    await type_into(pilot, "#answer", text)
    await pilot.press("enter")


async def test_the_queue_groups_open_reports_per_post(world):
    service = world.ana()
    reported(world, service)
    world.clock.now += timedelta(minutes=1)
    service.report(world.circle_id, world.posts["reply"], "an advert")
    app = make_app(service)
    async with app.run_test(size=(140, 40)) as pilot:
        await open_moderation(app, pilot)
        queue = rows(app)
        assert set(queue) == {world.posts["walk"], world.posts["reply"]}
        walk = queue[world.posts["walk"]]
        assert walk == ["Ana", "Walk on Tuesday? Meet at the no…", "1", "wrong day for this", "open", "verified"]
        reply = queue[world.posts["reply"]]
        assert reply[0] == "Ben" and reply[2] == "2" and reply[3] == "off topic; an advert"
        select_post(app, world.posts["walk"])
        await pilot.pause()
        detail = str(app.screen.query_one("#moderation-detail", Static).render())
        assert "Ben: wrong day for this" in detail  # moderators see who reported
        assert "Evidence: verified" in detail
        assert "Queue: 2 reported posts waiting" in screen_text(app)
        assert "fold for members after 3 reports" in screen_text(app)
    service.close()


async def test_dismiss_hide_and_unhide_from_the_queue(world):
    service = world.ana()
    reported(world, service)
    app = make_app(service)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_moderation(app, pilot)
        select_post(app, world.posts["walk"])
        await pilot.press("x")
        await answer(pilot, "fine as it is")
        await until(pilot, lambda: world.posts["walk"] not in rows(app), what="the walk to leave the queue")
        statuses = {r.post_id: r.status for r in service.reports(world.circle_id)}
        assert statuses[world.posts["walk"]] == "dismissed"
        assert any(e.kind == "dismiss" and e.reason == "fine as it is" for e in service.modlog(world.circle_id))

        select_post(app, world.posts["reply"])
        await pilot.press("h")
        await answer(pilot, "off topic")
        await until(pilot, lambda: find(service, world.circle_id, world.posts["reply"]).hidden, what="hidden")
        await until(pilot, lambda: not rows(app), what="an empty queue")
        assert "No open reports" in screen_text(app)

        await pilot.press("a")  # every post, as before the queue existed
        await until(pilot, lambda: "HIDDEN: off topic" in screen_text(app), what="the status")
        select_post(app, world.posts["reply"])
        await pilot.press("u")
        await until(pilot, lambda: not find(service, world.circle_id, world.posts["reply"]).hidden,
                    what="unhidden")
    service.close()


async def test_warn_mute_unmute_and_remove_the_author(world):
    service = world.ana()
    ben_id = world.ben_member_id()
    reported(world, service)
    app = make_app(service)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_moderation(app, pilot)
        select_post(app, world.posts["walk"])  # Ana's own post: no warning to yourself
        await pilot.press("w")
        await pilot.pause()
        assert not isinstance(app.screen, PromptDialog)

        select_post(app, world.posts["reply"])
        await pilot.press("w")
        await answer(pilot, "please keep it kind")
        warned = lambda: any(e.summary == "privately warned Ben" for e in service.modlog(world.circle_id))  # noqa: E731
        await until(pilot, warned, what="the warning")
        ben = world.ben()
        ben.receive_bundle(service.bundle_for(world.circle_id, ben.whoami().device_id))
        assert [(i.kind, i.text) for i in ben.inbox(world.circle_id)] == [("warning", "please keep it kind")]
        ben.close()

        await pilot.press("m", "2")  # 2 = one day
        await answer(pilot, "cool off")
        await until(pilot, lambda: ben_id in service.muted(world.circle_id), what="the mute")
        await until(pilot, lambda: "Muted: Ben until Wed 05 Mar 2025 12:00" in screen_text(app), what="the list")
        await pilot.press("M")
        await until(pilot, lambda: ben_id not in service.muted(world.circle_id), what="the unmute")
        await until(pilot, lambda: "Muted: nobody" in screen_text(app), what="the list")

        await pilot.press("R")
        assert isinstance(app.screen, ConfirmDialog)  # asked first
        await pilot.press("y")
        await answer(pilot, "repeated harassment")
        members = lambda: {m.id: m.status for m in service.members(world.circle_id, include_departed=True)}  # noqa: E731
        await until(pilot, lambda: members()[ben_id] == "removed", what="the removal")
    service.close()


async def test_organizers_set_the_report_policy(world):
    service = world.ana()
    app = make_app(service)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_moderation(app, pilot)
        await pilot.press("p")
        await answer(pilot, "1")
        await until(pilot, lambda: service.report_policy(world.circle_id) == 1, what="the policy")
        await until(pilot, lambda: "fold for members after 1 report from" in screen_text(app), what="the line")
    service.close()


async def test_members_see_no_moderation_tab(world):
    ben = world.ben()
    app = make_app(ben)
    async with app.run_test(size=(100, 32)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
        await pilot.pause()
        assert "Moderation" not in screen_text(app) and "7 Log" in screen_text(app)
        await pilot.press("8")
        await pilot.pause()
        assert app.screen.query_one(TabbedContent).active == "feed"
    ben.close()
