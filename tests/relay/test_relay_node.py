"""The node keeps syncing a circle with its relays, period after period of an
injected clock: a relay that does not answer is reported and retried without
blocking the loop, one that answers carries posts, and the loop survives a host
that fails."""

from __future__ import annotations

import asyncio

import pytest

from circle.sync.node import RELAY_EVERY, Node
from tests.helpers.in_process import Net
from tests.helpers.live import ManualClock, eventually
from tests.helpers.relay import Relay


@pytest.fixture
def circle(tmp_path, relay: Relay):
    net = Net(tmp_path)
    net.ana, net.ben = net.profile("Ana"), net.profile("Ben")
    net.cid = net.ana.create_circle("Walkers")
    net.join(net.ana, net.ben)
    net.ana.add_relay(net.cid, relay.address, token=relay.token)
    net.send(net.ana, net.ben)  # Ben learns the relay from the log
    return net


def test_the_relay_loop_syncs_every_period_and_rides_out_an_outage(circle, relay: Relay):
    net = circle
    clock = ManualClock()
    outcomes: list[tuple[str, str]] = []

    async def scenario() -> None:
        node = Node(net.ben, clock=clock)
        loop = asyncio.create_task(node.sync_relays_forever(on_outcome=lambda o: outcomes.append(
            (o.address, o.status))))
        try:
            await eventually(lambda: outcomes == [(relay.address, "synced")], "a first sync", 30)
            net.ana.post(net.cid, "posted while Ben's loop sleeps")
            net.ana.sync_relays()
            clock.advance(RELAY_EVERY)
            await eventually(lambda: len(outcomes) == 2, "the next round", 30)
            assert outcomes[1] == (relay.address, "synced")
            assert "posted while Ben's loop sleeps" in [p.body for p in net.ben.feed(net.cid)]
            relay.stop()
            clock.advance(RELAY_EVERY)
            await eventually(lambda: len(outcomes) == 3, "the round with the relay down", 30)
            assert outcomes[2] == (relay.address, "unreachable (will try again)")
            assert node.relay_status[(net.cid, relay.address)] == "unreachable (will try again)"
            assert not loop.done() and clock.pending() == [RELAY_EVERY]
        finally:
            loop.cancel()
            await node.close()

    asyncio.run(scenario())


def test_a_relay_round_that_raises_is_logged_and_the_next_round_still_runs(circle, caplog):
    net = circle
    clock = ManualClock()
    calls = []

    def failing(**kwargs):
        calls.append(kwargs)
        raise RuntimeError("the disk went away")

    net.ben.relaying.sync_relays = failing  # type: ignore[method-assign]

    async def scenario() -> None:
        node = Node(net.ben, clock=clock)
        loop = asyncio.create_task(node.sync_relays_forever())
        try:
            for n in range(1, 4):
                await eventually(lambda: len(calls) == n, f"round {n}", 30)
                clock.advance(RELAY_EVERY)
            assert not loop.done()
        finally:
            loop.cancel()
            await node.close()

    asyncio.run(scenario())
    assert "syncing with relays failed" in caplog.text
