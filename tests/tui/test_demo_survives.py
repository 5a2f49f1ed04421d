"""`circle demo`: a simulated member's move that fails is shown among the network panel's
recent problems and the members keep talking; a companion that cannot start says so."""

from __future__ import annotations

import random
import secrets

from circle.demo import LIVE_POSTS, DemoClock, DemoCrowd, seed_demo
from circle.service import Service
from circle.tui.app import CircleApp
from circle.tui.circle_screen import CircleScreen
from circle.tui.network_panel import NetworkScreen
from circle.tui.settings import Settings

from .world import screen_text, until


def demo(tmp_path):
    clock = DemoClock()
    service = Service.create_profile(tmp_path / "you", "You", secrets.token_urlsafe(16), clock=clock)
    circle_id, peers = seed_demo(service, tmp_path / "peers", service.clock())
    return service, circle_id, peers


def close(service, peers) -> None:
    for peer in peers.values():
        peer.close()
    service.close()


async def test_a_move_that_raises_is_reported_and_the_next_moves_still_happen(tmp_path):
    service, circle_id, peers = demo(tmp_path)
    crowd = DemoCrowd(peers, circle_id, service.whoami().member_id, first_after=0.1, every=(0.2, 0.3),
                      rng=random.Random(3))
    real_act, calls = crowd.act, []

    def act_failing_once() -> None:
        calls.append(crowd.step)
        if len(calls) == 1:
            raise RuntimeError("injected failure in the first move")
        real_act()

    crowd.act = act_failing_once
    app = CircleApp(service, settings=Settings(listen="127.0.0.1:0", discovery=False),
                    companion=crowd.run, freeze_blink=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the demo circle")
        await until(pilot, lambda: any("injected failure" in text for _, text in app.network.problems),
                    what="the failure among the problems", detail=lambda: list(app.network.problems))
        first_live = LIVE_POSTS[0][1]
        await until(pilot, lambda: any(p.body == first_live for p in service.feed(circle_id)),
                    what="a later move arriving over sync", detail=lambda: f"{calls} {list(app.network.problems)}")
        await until(pilot, lambda: len(calls) >= 3, what="more moves after that")
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, NetworkScreen), what="the network panel")
        text = screen_text(app)
        assert "Recent problems" in text and "RuntimeError: injected failure in the first move" in text, text
    close(service, peers)


async def test_a_companion_that_fails_to_start_says_so(tmp_path):
    service, circle_id, peers = demo(tmp_path)

    async def cannot_start(dial) -> None:
        raise OSError("no port for the demo members")

    app = CircleApp(service, settings=Settings(listen="127.0.0.1:0", discovery=False),
                    companion=cannot_start, freeze_blink=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: any("demo members stopped: OSError: no port" in text
                                       for _, text in app.network.problems),
                    what="the failure among the problems", detail=lambda: list(app.network.problems))
        assert isinstance(app.screen, CircleScreen)  # the app itself carries on
    close(service, peers)
