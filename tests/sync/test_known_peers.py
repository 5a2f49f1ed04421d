"""Known peers, remembered: an address this device reached a member at is kept
(sealed) and dialled again by the next node, so a member who synced with the
organizer before does not sit at "waiting for peers" after a restart."""

from __future__ import annotations

import asyncio

import pytest

from circle.errors import InvalidInput, NotFound
from circle.service import Service
from circle.sync.node import Node
from circle.sync.session import SessionEvent
from tests.helpers.live import PASS, eventually, run_then_close, two_members

LOOPBACK = "127.0.0.1"


def test_an_address_reached_once_is_dialled_again_after_a_restart(tmp_path):
    ana, ben, (circle,) = two_members(tmp_path)

    async def scenario() -> None:
        ana_node = Node(ana)
        host, port = await ana_node.listen(LOOPBACK, 0)
        address = f"{host}:{port}"
        try:
            assert ben.known_addresses() == []
            await Node(ben).sync_once(address)
            assert ben.known_addresses() == [address]
            assert ana.known_addresses() == []  # Ben dialled in from a port nobody listens on
            # Ben's device restarts: a new node dials what it knew, and the session goes live.
            events: list[SessionEvent] = []
            restarted = Node(Service.unlock(ben.whoami().home, PASS), emit=events.append)
            assert restarted.dial_known() == [address]
            try:
                await eventually(lambda: any(e.state == "live" and e.circle_id == circle for e in events),
                                 "a live session with Ana, from memory")
                ana.post(circle, "seen without anyone typing an address")
                await eventually(lambda: "seen without anyone typing an address" in
                                 [p.body for p in restarted.host.feed(circle)], "Ana's post, pushed")
            finally:
                await restarted.close()
                restarted.host.close()
        finally:
            await ana_node.close()

    run_then_close(scenario, ana, ben)


def test_the_addresses_of_a_circle_this_device_left_are_not_dialled(tmp_path):
    ana, ben, (circle,) = two_members(tmp_path)

    async def scenario() -> None:
        ana_node = Node(ana)
        host, port = await ana_node.listen(LOOPBACK, 0)
        try:
            await Node(ben).sync_once(f"{host}:{port}")
            ben.leave(circle)
            await Node(ben).sync_once(f"{host}:{port}")  # the leave reaches Ana
            assert ben.leave_delivered(circle)
            assert ben.known_addresses() == []
        finally:
            await ana_node.close()

    run_then_close(scenario, ana, ben)


def test_known_addresses_are_sealed_on_disk(tmp_path):
    ana, ben, (circle,) = two_members(tmp_path)
    ben.note_peer(circle, "d" * 32, "192.0.2.77:7654", dialled=True)
    assert ben.known_addresses() == ["192.0.2.77:7654"]
    home = ben.whoami().home
    ana.close()
    ben.close()
    assert b"192.0.2.77" not in b"".join(p.read_bytes() for p in home.glob("circle.db*"))


def test_a_peer_added_by_hand_is_dialled_now_and_after_a_restart_and_forgetting_ends_it(tmp_path):
    ana, ben, (circle,) = two_members(tmp_path)

    async def scenario() -> None:
        ana_node = Node(ana)
        host, port = await ana_node.listen(LOOPBACK, 0)
        address = f"{host}:{port}"
        events: list[SessionEvent] = []
        node = Node(ben, emit=events.append)
        try:
            assert node.add_peer(f" {address} ") == address  # as pasted, with spaces around
            await eventually(lambda: any(e.state == "live" and e.circle_id == circle for e in events),
                             "a live session with the added peer")
            assert ben.added_peers() == [address] and ben.known_addresses() == [address]
            await node.forget_peer(address)
            assert node.server.dialling == [] and ben.known_addresses() == []
            assert events[-1].state == "closed"
            ana.post(circle, "after Ben forgot Ana's address")
            await asyncio.sleep(1.0)  # a dialled session would have pushed it by now
            assert "after Ben forgot Ana's address" not in {p.body for p in ben.feed(circle)}
        finally:
            await node.close()
            await ana_node.close()

    run_then_close(scenario, ana, ben)


def test_a_forgotten_address_stays_forgotten_when_reached_again_until_added_back(tmp_path):
    ana, ben, (circle,) = two_members(tmp_path)
    ben.note_peer(circle, "d" * 32, "192.0.2.77:7654", dialled=True)
    ben.forget_peer("192.0.2.77:7654")
    ben.note_peer(circle, "d" * 32, "192.0.2.77:7654", dialled=True)  # a sync typed by hand, later
    assert ben.known_addresses() == []
    ben.add_peer("192.0.2.77:7654")
    assert ben.known_addresses() == ["192.0.2.77:7654"]
    ben.forget_peer("192.0.2.77:7654")
    assert ben.known_addresses() == [] and ben.added_peers() == []


@pytest.mark.parametrize("text", ["", "host", "ho\x1bst:7000", "[b]x[/b]:1", "host:0"])
def test_a_bad_address_is_refused_and_nothing_is_added(tmp_path, text):
    ana, ben, _ = two_members(tmp_path)
    with pytest.raises(InvalidInput, match="not a peer address"):
        ben.add_peer(text)
    assert ben.added_peers() == []
    with pytest.raises(NotFound):
        ben.forget_peer("192.0.2.1:1")
    ana.close()
    ben.close()


def test_added_addresses_are_sealed_on_disk(tmp_path):
    ana, ben, _ = two_members(tmp_path)
    ben.add_peer("192.0.2.78:7654")
    home = ben.whoami().home
    ana.close()
    ben.close()
    assert b"192.0.2.78" not in b"".join(p.read_bytes() for p in home.glob("circle.db*"))
    reopened = Service.unlock(home, PASS)
    assert reopened.added_peers() == ["192.0.2.78:7654"]
    reopened.close()
