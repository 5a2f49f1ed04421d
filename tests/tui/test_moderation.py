"""Moderation: organizers hide, unhide and mute; members have no such tab."""

from __future__ import annotations

from textual.widgets import DataTable, TabbedContent

from circle.tui.circle_screen import CircleScreen

from .world import make_app, screen_text, type_into, until


def select_post(app, post_id: str) -> None:
    table = app.screen.query_one("#moderation-table", DataTable)
    table.move_cursor(row=table.get_row_index(post_id))


def find(service, circle_id, post_id):
    return next(p for p in service.feed(circle_id) if p.id == post_id)


async def test_hide_unhide_and_mute(world):
    service = world.ana()
    ben_id = world.ben_member_id()
    app = make_app(service)
    async with app.run_test(size=(110, 32)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
        await pilot.press("6")
        await pilot.pause()
        assert "visible" in screen_text(app)
        select_post(app, world.posts["reply"])
        await pilot.press("h")
        await type_into(pilot, "#answer", "off topic")
        await pilot.press("enter")
        await until(pilot, lambda: find(service, world.circle_id, world.posts["reply"]).hidden, what="hidden")
        await until(pilot, lambda: "HIDDEN: off topic" in screen_text(app), what="the status")

        select_post(app, world.posts["reply"])
        await pilot.press("u")
        await until(pilot, lambda: not find(service, world.circle_id, world.posts["reply"]).hidden, what="unhidden")

        select_post(app, world.posts["cw"])
        await pilot.press("m", "2")  # 2 = one day
        await until(pilot, lambda: ben_id in service.open_circle(world.circle_id).state.mutes, what="the mute")
        await until(pilot, lambda: "Muted: Ben until Wed 05 Mar 12:00" in screen_text(app), what="the list")
    service.close()


async def test_members_see_no_moderation_tab(world):
    ben = world.ben()
    app = make_app(ben)
    async with app.run_test(size=(100, 32)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
        await pilot.pause()
        assert "Moderation" not in screen_text(app)
        await pilot.press("6")
        await pilot.pause()
        assert app.screen.query_one(TabbedContent).active == "feed"
    ben.close()
