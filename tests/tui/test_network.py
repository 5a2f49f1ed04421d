"""Sync inside the app: a real peer on 127.0.0.1, live posts, and the network panel."""

from __future__ import annotations

import asyncio
import socket

from circle.sync.tcp import Server
from circle.tui.circle_screen import CircleScreen
from circle.tui.feed_view import FeedView
from circle.tui.network_panel import NetworkScreen

from tests.helpers.live import eventually

from .world import UNTIL_TIMEOUT, make_app, screen_text, until


async def test_a_peer_connects_its_posts_arrive_live_and_the_panel_shows_it(world):
    service = world.ana()
    ben = world.ben()
    app = make_app(service, listen="127.0.0.1:0")
    peer = Server(ben, ben.profile.identity.dh_key)
    async with app.run_test(size=(110, 32)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
        await until(pilot, lambda: app.network.listening is not None, what="the server")
        host, port = app.network.listening.split(":")
        assert host == "127.0.0.1" and int(port) > 0
        peer.dial(app.network.listening)
        await until(pilot, lambda: app.network.summary(world.circle_id) == "live with 1 peer", what="live")
        await until(pilot, lambda: "live with 1 peer" in screen_text(app), what="the header")

        feed = app.screen.query_one(FeedView)
        (session,) = peer.sessions
        post = ben.post(world.circle_id, "typed on Ben's machine just now")
        await until(pilot, lambda: post.id in feed._index, what="the live post")
        assert peer.sessions == {session}  # pushed over the open session, not a new sync

        await pilot.press("f2")
        assert isinstance(app.screen, NetworkScreen)
        text = screen_text(app)
        assert f"Listening on {app.network.listening}" in text
        assert "live" in text and "Tuesday Walkers" in text and " s ago" in text

        # A stranger who speaks garbage is dropped and shows up under problems; nothing breaks.
        _, writer = await asyncio.open_connection(host, int(port))
        writer.write(b"\x00\x00\x00\x05hello" * 3)
        await writer.drain()
        writer.close()
        await until(pilot, lambda: "dropped" in screen_text(app), what="the problem line")
        assert isinstance(app.screen, NetworkScreen)
    await peer.close()
    ben.close()
    service.close()


async def test_when_the_port_is_taken_the_app_says_so_and_still_works(world):
    blocker = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    taken = blocker.sockets[0].getsockname()[1]
    service = world.ana()
    app = make_app(service, listen=f"127.0.0.1:{taken}")
    try:
        async with app.run_test(size=(100, 32)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
            await pilot.press("f2")
            await until(pilot, lambda: f"cannot listen on 127.0.0.1:{taken}" in screen_text(app), what="the error")
            assert "Not listening" in screen_text(app)
    finally:
        blocker.close()
        service.close()


async def test_the_server_stops_when_the_app_quits(world):
    service = world.ana()
    app = make_app(service, listen="127.0.0.1:0")
    async with app.run_test(size=(100, 32)) as pilot:
        await until(pilot, lambda: app.network.listening is not None, what="the server")
        address = app.network.listening
        await pilot.press("ctrl+q")
    host, port = address.split(":")
    # Quitting cancels the sync worker; the server closes as that worker winds down.
    await eventually(lambda: not accepts(host, int(port)), what="the server to stop listening after quit",
                     timeout=UNTIL_TIMEOUT)
    service.close()


def accepts(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError:
        return False
    return True


async def test_the_app_syncs_with_the_circles_relay_and_the_panel_shows_its_state(world, tmp_path):
    from tests.helpers.relay import Relay

    relay = Relay(tmp_path / "relay-data", tmp_path).start()
    service = world.ana()
    try:
        service.add_relay(world.circle_id, relay.address, token=relay.token)
        app = make_app(service)
        async with app.run_test(size=(110, 32)) as pilot:
            await until(pilot, lambda: (world.circle_id, relay.address) in app.network.relays, what="a relay round")
            await pilot.press("f2")
            assert isinstance(app.screen, NetworkScreen)
            await until(pilot, lambda: f"{relay.address}" in screen_text(app), what="the relay row")
            text = screen_text(app)
            assert "synced" in text and " s ago" in text and "Tuesday Walkers" in text
            relay.stop()
            app.network.relay(world.circle_id, relay.address, "unreachable (will try again)")
            app.network_changed.publish(None)
            await until(pilot, lambda: "unreachable (will try again), last synced" in screen_text(app),
                        what="the outage in words")
    finally:
        if relay.alive():
            relay.stop()
        service.close()


async def test_a_peer_added_in_the_panel_is_dialled_and_forgetting_it_ends_the_session(world):
    service, ben = world.ana(), world.ben()
    peer = Server(ben, ben.profile.identity.dh_key)
    host, port = await peer.start("127.0.0.1", 0)
    address = f"{host}:{port}"
    app = make_app(service)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
            await pilot.press("f2")
            assert "press a to add" in screen_text(app)
            await pilot.press("a")
            await pilot.press(*"nonsense", "enter")
            await until(pilot, lambda: any("not a peer address" in n.message for n in app._notifications),
                        what="the refusal")
            assert service.added_peers() == []
            await pilot.press("a")
            await pilot.press(*address, "enter")
            await until(pilot, lambda: app.network.summary(world.circle_id) == "live with 1 peer", what="live")
            await until(pilot, lambda: "added by you" in screen_text(app), what="the dialled row")
            await pilot.press("x")
            await pilot.press("y")
            await until(pilot, lambda: service.known_addresses() == [] and app.sync.node.server.dialling == [],
                        what="the peer forgotten")
            await until(pilot, lambda: "press a to add" in screen_text(app), what="the empty dialled table")
    finally:
        await peer.close()
        ben.close()
        service.close()
