"""Joining from the app: code -> a real member on 127.0.0.1 admits us -> guidelines -> sync -> feed."""

from __future__ import annotations

from textual.widgets import ContentSwitcher, ProgressBar

from circle.service import Service
from circle.sync.tcp import Server
from circle.tui.circle_list import CircleListScreen
from circle.tui.circle_screen import CircleScreen
from circle.tui.feed_view import FeedView
from circle.tui.guidelines_dialog import GuidelinesDialog
from circle.tui.join_flow import JoinScreen

from .world import PASSPHRASE, make_app, screen_text, type_into, until


async def serve(service: Service) -> tuple[Server, str]:
    server = Server(service, service.profile.identity.dh_key)
    host, port = await server.start("127.0.0.1", 0)
    return server, f"{host}:{port}"


async def test_join_read_and_accept_the_guidelines_then_the_feed(world, tmp_path):
    ana = world.ana()
    server, address = await serve(ana)
    code = ana.invite(world.circle_id, hints=(address,))
    cleo = Service.create_profile(tmp_path / "cleo", "Cleo", PASSPHRASE, clock=world.clock)
    app = make_app(cleo)
    async with app.run_test(size=(100, 34)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CircleListScreen), what="the empty list")
        await pilot.press("j")
        assert isinstance(app.screen, JoinScreen)
        await type_into(pilot, "#code", code)
        await pilot.press("enter")
        switcher = app.screen.query_one(ContentSwitcher)
        await until(pilot, lambda: switcher.current == "step-guidelines", what="the guidelines")
        text = screen_text(app)
        assert "Welcome to Tuesday Walkers. Walk and talk, gently." in text
        assert "2. Listen first; advice only when asked." in text
        await until(pilot, lambda: "Synced" in screen_text(app), what="the first sync")
        bar = app.screen.query_one(ProgressBar)
        assert bar.total and bar.progress == bar.total
        assert isinstance(app.screen, JoinScreen)  # the feed waits for the guidelines
        await pilot.press("ctrl+a")
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the feed")
        feed = app.screen.query_one(FeedView)
        await until(pilot, lambda: world.posts["walk"] in feed._index, what="Ana's posts")
        assert not cleo.guidelines_pending(world.circle_id)
        assert "Cleo" in {m.name for m in ana.members(world.circle_id)}  # Ana knows her now
        # escape goes back to the list, not to the join screen
        await pilot.press("escape")
        assert isinstance(app.screen, CircleListScreen)
    await server.close()
    cleo.close()
    ana.close()


async def test_not_now_keeps_the_guidelines_waiting_for_next_time(world, tmp_path):
    ana = world.ana()
    server, address = await serve(ana)
    code = ana.invite(world.circle_id)
    cleo = Service.create_profile(tmp_path / "cleo", "Cleo", PASSPHRASE, clock=world.clock)
    app = make_app(cleo)
    async with app.run_test(size=(100, 34)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CircleListScreen), what="the list")
        await pilot.press("j")
        await type_into(pilot, "#code", code)
        await pilot.press("enter")
        await until(pilot, lambda: "This code carries no address" in screen_text(app), what="the hint")
        await type_into(pilot, "#peer", address)  # the code had no address: type the member's
        await pilot.press("enter")
        await until(pilot, lambda: "Welcome to Tuesday Walkers" in screen_text(app), what="the welcome")
        await until(pilot, lambda: app.screen.synced, what="the sync")
        await pilot.press("escape")  # not now
        assert isinstance(app.screen, CircleListScreen)
        assert cleo.guidelines_pending(world.circle_id)
        await pilot.press("enter")  # opening it asks again, over the circle
        await until(pilot, lambda: isinstance(app.screen, GuidelinesDialog), what="the guidelines again")
        text = screen_text(app)
        assert "Before you post in Tuesday Walkers" in text and "2. Listen first" in text
        await pilot.press("ctrl+a")
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the feed")
        assert not cleo.guidelines_pending(world.circle_id)
    await server.close()
    cleo.close()
    ana.close()


async def test_bad_codes_and_unreachable_members_are_explained(world, tmp_path):
    ana = world.ana()
    code = ana.invite(world.circle_id, hints=("127.0.0.1:9",))  # nobody listens on the discard port
    ana.close()
    cleo = Service.create_profile(tmp_path / "cleo", "Cleo", PASSPHRASE, clock=world.clock)
    app = make_app(cleo)
    async with app.run_test(size=(100, 34)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CircleListScreen), what="the list")
        await pilot.press("j")
        await type_into(pilot, "#code", "circle1notacode")
        await pilot.press("enter")
        await until(pilot, lambda: "That code does not work" in screen_text(app), what="the code error")
        await type_into(pilot, "#code", code)
        await pilot.press("enter")
        await until(pilot, lambda: "Could not join: cannot reach 127.0.0.1:9" in screen_text(app), what="the error")
        assert app.screen.query_one(ContentSwitcher).current == "step-code"
    assert cleo.circles() == []
    cleo.close()
