"""A live server across discovery windows, with an injected clock and real zeroconf on
127.0.0.1: after every window change it still re-advertises (through zeroconf's update)
and still pushes what another process writes to its profile."""

from __future__ import annotations

import asyncio
import logging

from circle.sync.discovery import WINDOW_SECONDS, advertised_tags, current_window, discovery_tag
from circle.sync.tcp import Server
from circle.tui.messages import SyncProblem
from circle.tui.network_state import NetworkState
from circle.tui.settings import Settings
from circle.tui.sync_runner import SyncRunner
from tests.helpers.live import AdvertReader, ShiftedClock, cli, eventually, run_then_close, stop, two_members

LOOPBACK = "127.0.0.1"


def bodies(service, circle_id: str) -> set[str]:
    return {p.body for p in service.feed(circle_id)}


def test_a_cli_post_reaches_a_live_peer_after_each_of_several_window_changes(tmp_path):
    ana, ben, (circle,) = two_members(tmp_path)
    clock = ShiftedClock()

    async def scenario() -> None:
        server = Server(ana, ana.profile.identity.dh_key, clock=clock, poll_every=0.05)
        _, port = await server.start(LOOPBACK, 0)
        await server.enable_discovery(LOOPBACK, port)
        runner = asyncio.create_task(server.run_forever())
        peer = Server(ben, ben.profile.identity.dh_key)
        peer.dial(f"{LOOPBACK}:{port}")
        reader = AdvertReader()
        name = server.discovery.name
        try:
            for step in range(4):
                window = current_window(clock.now())
                expected = ana.discovery_tags(window)
                assert len(expected) == 1
                await reader.until(name, lambda seen: expected <= seen, f"window {step}'s tag on the air")
                assert server.discovery.window == window and server.discovery.updates == step
                await cli(tmp_path / "ana", "post", circle, f"written in window {step}")
                await eventually(lambda: f"written in window {step}" in bodies(ben, circle),
                                 f"the post of window {step} at Ben")
                assert not runner.done()
                clock.offset += WINDOW_SECONDS
                await eventually(lambda: server.discovery.window == window + 1, "the re-advertisement")
        finally:
            await stop(runner)
            await reader.close()
            await peer.close()
            await server.close()

    run_then_close(scenario, ana, ben)


def test_a_circle_created_while_serving_is_advertised_without_waiting_for_the_window(tmp_path):
    ana, ben, _ = two_members(tmp_path)
    clock = ShiftedClock()

    async def scenario() -> None:
        server = Server(ana, ana.profile.identity.dh_key, clock=clock, poll_every=0.05)
        _, port = await server.start(LOOPBACK, 0)
        await server.enable_discovery(LOOPBACK, port)
        runner = asyncio.create_task(server.run_forever())
        reader = AdvertReader()
        try:
            name = server.discovery.name
            before = ana.discovery_tags(current_window(clock.now()))
            await reader.until(name, lambda seen: before <= seen, "the first advert")
            # Another process makes the circle, as `circle new` beside a running serve would.
            await cli(tmp_path / "ana", "new", "Late circle")
            window = current_window(clock.now())
            await eventually(lambda: len(ana.discovery_tags(window)) == 2, "the new circle in the store")
            after = ana.discovery_tags(window)
            await reader.until(name, lambda seen: after <= seen, "the new circle's tag on the air")
            assert current_window(clock.now()) == window  # no window change was needed
        finally:
            await stop(runner)
            await reader.close()
            await server.close()

    run_then_close(scenario, ana, ben)


def test_thirteen_and_more_circles_are_served_and_advertised_within_dns_limits(tmp_path):
    ana, ben, circles = two_members(tmp_path, circles=14)
    clock = ShiftedClock()

    async def scenario() -> None:
        server = Server(ana, ana.profile.identity.dh_key, clock=clock, poll_every=0.05)
        _, port = await server.start(LOOPBACK, 0)
        await server.enable_discovery(LOOPBACK, port)
        runner = asyncio.create_task(server.run_forever())
        reader = AdvertReader()
        try:
            for _ in range(2):
                window = current_window(clock.now())
                mine = ana.discovery_tags(window)
                assert len(mine) == 14
                seen = await reader.until(server.discovery.name, lambda s: mine <= s, "all 14 tags")
                assert len(seen) == 16  # padded to the bucket with decoys
                # Ben, a member of only the last circle, would recognise Ana's advert.
                assert seen & ben.discovery_tags(window)
                clock.offset += WINDOW_SECONDS
                await eventually(lambda: server.discovery.window == window + 1, "the next window")
            assert not runner.done()
        finally:
            await stop(runner)
            await reader.close()
            await server.close()

    run_then_close(scenario, ana, ben)


def test_many_circles_advertise_a_capped_bucket_that_rotates_across_windows():
    keys = {f"{i:032x}": bytes([i % 256]) * 32 for i in range(100)}
    advertised_over_windows = set()
    for window in range(1000, 1010):
        real = {discovery_tag(key, cid, window) for cid, key in keys.items()}
        out = advertised_tags(real)
        assert len(out) == 32 and len(set(out) & real) == 32
        advertised_over_windows |= {cid for cid, key in keys.items() if discovery_tag(key, cid, window) in out}
    assert len(advertised_over_windows) > 60  # a different choice of circles each window
    for count, bucket in ((0, 8), (1, 8), (8, 8), (9, 16), (13, 16), (17, 32), (32, 32)):
        real = {f"{i:020x}" for i in range(count)}
        out = advertised_tags(real)
        assert len(out) == bucket and real <= set(out) and all(len(t) == 20 for t in out)


def test_the_serving_loop_survives_a_failing_iteration_and_the_problem_reaches_the_network_panel(tmp_path):
    ana, ben, (circle,) = two_members(tmp_path)
    calls = {"n": 0}
    real_refresh = ana.refresh_all

    def refresh_that_fails_once():
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("injected failure")
        return real_refresh()

    ana.refresh_all = refresh_that_fails_once
    posted = []
    settings = Settings(listen=f"{LOOPBACK}:0", discovery=False)

    async def scenario() -> None:
        runner = SyncRunner(ana, settings, posted.append, clock=ShiftedClock(), poll_every=0.02)
        task = asyncio.create_task(runner.run())
        try:
            await eventually(lambda: calls["n"] >= 5, "the loop to go on after the failure")
            await cli(tmp_path / "ana", "post", circle, "after the failure")
            await eventually(lambda: "after the failure" in bodies(ana, circle), "the loop to fold in a CLI post")
            assert not task.done()
        finally:
            await stop(task)

    run_then_close(scenario, ana, ben)
    network = NetworkState()
    for message in posted:
        if isinstance(message, SyncProblem):
            network.problem(message.text)  # what the app does with each SyncProblem
    assert any("injected failure" in text and "RuntimeError" in text for _, text in network.problems)
    assert logging.getLogger("circle.sync").propagate  # the runner put logging back as it was
