"""The node (sync/node.py) on real sockets on 127.0.0.1: joining through the first
member who answers, live pushes both ways between two nodes, reconnecting with
backoff and polling off the injected clock, surviving a failing iteration, and
two nodes finding each other on the LAN (zeroconf bound to 127.0.0.1)."""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest

from circle.errors import CircleError
from circle.service import Service
from circle.sync.node import Joined, JoinFailed, Node, join_addresses
from circle.sync.session import SessionEvent
from tests.helpers.live import ManualClock, PASS, eventually, run_then_close, stop, two_members

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def live(events: list[SessionEvent], circle_id: str) -> bool:
    """The first exchange for `circle_id` is over: from here on each write is pushed."""
    return any(e.state == "live" and e.circle_id == circle_id and not e.detail for e in events)


def bodies(service: Service, circle_id: str) -> set[str]:
    return {p.body for p in service.feed(circle_id)}


def test_join_addresses_asks_the_typed_peer_first_then_each_hint_once(tmp_path):
    ana, ben, (circle,) = two_members(tmp_path)
    try:
        code = ana.invite(circle, hints=("127.0.0.1:7001", "127.0.0.1:7002"))
        assert join_addresses(code) == ["127.0.0.1:7001", "127.0.0.1:7002"]
        assert join_addresses(code, "127.0.0.1:7002") == ["127.0.0.1:7002", "127.0.0.1:7001"]
        assert join_addresses(ana.invite(circle)) == []
    finally:
        ana.close()
        ben.close()


def test_a_node_joins_through_the_first_reachable_of_several_addresses(tmp_path):
    ana, ben, (circle,) = two_members(tmp_path)
    ana.post(circle, "before Cleo")
    cleo = Service.create_profile(tmp_path / "cleo", "Cleo", PASS)

    async def scenario() -> None:
        member = Node(ana)
        host, port = await member.listen(LOOPBACK, 0)
        address, nobody = f"{host}:{port}", f"{LOOPBACK}:{free_port()}"
        code = ana.invite(circle, hints=(nobody, address))
        newcomer = Node(cleo)
        tried: list[str] = []
        try:
            joined = await newcomer.join(code, join_addresses(code), trying=tried.append)
            assert tried == [nobody, address]
            assert joined == Joined(circle, address)
            assert await newcomer.sync_once(address) == [circle]
            assert "before Cleo" in bodies(cleo, circle)
            assert "Cleo" in {m.name for m in ana.members(circle)}
        finally:
            await newcomer.close()
            await member.close()

    run_then_close(scenario, ana, ben, cleo)


def test_a_join_no_member_answers_names_every_address_and_stores_nothing(tmp_path):
    ana, ben, (circle,) = two_members(tmp_path)
    first, second = f"{LOOPBACK}:{free_port()}", f"{LOOPBACK}:{free_port()}"
    code = ana.invite(circle, hints=(first, second))
    cleo = Service.create_profile(tmp_path / "cleo", "Cleo", PASS)

    async def scenario() -> None:
        node = Node(cleo)
        with pytest.raises(JoinFailed) as failed:
            await node.join(code, join_addresses(code))
        assert f"cannot reach {first}" in str(failed.value) and f"cannot reach {second}" in str(failed.value)
        assert "\n" not in str(failed.value)
        with pytest.raises(CircleError) as bad:  # the host refuses the code before any dial
            await node.join("circle1notacode", [first])
        assert not isinstance(bad.value, JoinFailed)
        await node.close()

    run_then_close(scenario, ana, ben, cleo)
    cleo = Service.unlock(tmp_path / "cleo", PASS)
    try:
        assert cleo.circles() == []
    finally:
        cleo.close()


def test_two_nodes_push_what_each_writes_to_the_other_live(tmp_path):
    ana, ben, (circle,) = two_members(tmp_path)

    async def scenario() -> None:
        events: dict[str, list[SessionEvent]] = {"ana": [], "ben": []}
        ana_node, ben_node = Node(ana, emit=events["ana"].append), Node(ben, emit=events["ben"].append)
        host, port = await ana_node.listen(LOOPBACK, 0)
        ben_node.dial(f"{host}:{port}")
        try:
            await eventually(lambda: all(live(seen, circle) for seen in events.values()), "the live session")
            ben.post(circle, "from Ben, live")
            await eventually(lambda: "from Ben, live" in bodies(ana, circle), "Ben's post at Ana")
            ana.post(circle, "from Ana, live")
            await eventually(lambda: "from Ana, live" in bodies(ben, circle), "Ana's post at Ben")
        finally:
            await ben_node.close()
            await ana_node.close()

    run_then_close(scenario, ana, ben)


def test_a_dial_retries_with_backoff_on_the_node_clock_until_the_peer_listens(tmp_path):
    ana, ben, (circle,) = two_members(tmp_path)
    port = free_port()

    async def scenario() -> None:
        clock = ManualClock()
        seen: list[SessionEvent] = []
        ben_node, ana_node = Node(ben, clock=clock, emit=seen.append), Node(ana)
        ben_node.dial(f"{LOOPBACK}:{port}")
        try:
            await eventually(lambda: clock.pending() == [1.0], "the first back-off")
            clock.advance(1.0)
            await eventually(lambda: clock.pending() == [2.0], "the second, doubled")
            clock.advance(1.0)
            await asyncio.sleep(0.2)
            assert clock.pending() == [1.0] and clock.requested == [1.0, 2.0]  # no retry before its time
            await ana_node.listen(LOOPBACK, port)
            clock.advance(1.0)
            await eventually(lambda: live(seen, circle), "the session once Ana listens")
            ana.post(circle, "you got through")
            await eventually(lambda: "you got through" in bodies(ben, circle), "the post over the new session")
        finally:
            await ben_node.close()
            await ana_node.close()

    run_then_close(scenario, ana, ben)


def test_the_serving_loop_runs_on_the_clock_and_survives_failing_iterations(tmp_path, caplog):
    ana, ben, (circle,) = two_members(tmp_path)
    calls = {"n": 0}
    real_refresh = ana.refresh_all

    def refresh_that_fails_twice():
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("injected failure")
        if calls["n"] == 4:
            raise CircleError("the store said no")
        return real_refresh()

    ana.refresh_all = refresh_that_fails_twice

    async def scenario() -> None:
        clock = ManualClock()
        node = Node(ana, clock=clock, poll_every=0.25)
        await node.listen(LOOPBACK, 0)
        task = asyncio.create_task(node.run_forever())
        try:
            for period in range(1, 7):
                await eventually(lambda: clock.pending() == [0.25], f"the loop waiting for period {period}")
                assert calls["n"] == period - 1  # nothing runs between ticks of the clock
                clock.advance(0.25)
                await eventually(lambda: calls["n"] == period, f"iteration {period}")
            assert not task.done()
        finally:
            await stop(task)
            await node.close()

    with caplog.at_level(logging.INFO, logger="circle.sync"):
        run_then_close(scenario, ana, ben)
    text = caplog.text
    assert "RuntimeError: injected failure" in text and "will retry" in text
    assert "could not read local changes: the store said no" in text


def test_two_announcing_nodes_find_each_other_on_the_lan_and_sync_live(tmp_path):
    ana, ben, (circle,) = two_members(tmp_path)

    async def scenario() -> None:
        events: list[list[SessionEvent]] = [[], []]
        nodes = [Node(ana, poll_every=0.05, emit=events[0].append), Node(ben, poll_every=0.05, emit=events[1].append)]
        tasks = []
        try:
            for node in nodes:
                _, port = await node.listen(LOOPBACK, 0)
                assert await node.announce(LOOPBACK, port) is None
                tasks.append(asyncio.create_task(node.run_forever()))
            await eventually(lambda: all(live(seen, circle) for seen in events), "a session found by discovery", 30)
            ben.post(circle, "found over mDNS")
            await eventually(lambda: "found over mDNS" in bodies(ana, circle), "Ben's post at Ana")
        finally:
            for task in tasks:
                await stop(task)
            for node in nodes:
                await node.close()

    run_then_close(scenario, ana, ben)
