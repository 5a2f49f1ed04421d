"""A live session's pushes (sync/session.py) on real sockets on 127.0.0.1: Ana serves
with a real Node; the test plays Ben's side of the protocol message by message (with
Ben's real profile), so a write can land at an exact step of the first exchange."""

from __future__ import annotations

import asyncio
import os
import socket

import pytest

from circle.service import Service
from circle.sync import messages as m
from circle.sync.framing import ConnectionDropped, SecureStream
from circle.sync.node import Node
from circle.sync.session import SessionEvent
from tests.helpers.live import eventually, run_then_close, two_members

LOOPBACK = "127.0.0.1"
GENEROUS = 20.0  # seconds a push may take on a loaded machine


async def next_message(stream: SecureStream, what: str, timeout: float = GENEROUS):
    """The peer's next (kind, value), pings skipped; fails naming `what` if none comes."""
    while True:
        try:
            kind, value = m.decode(await stream.receive(timeout))
        except ConnectionDropped as exc:
            raise AssertionError(f"no {what} within {timeout:.0f}s: {exc}") from None
        if kind != m.PING:
            return kind, value


async def connect_as(ben: Service, host: str, port: int) -> SecureStream:
    reader, writer = await asyncio.open_connection(host, port)
    return await SecureStream.connect(reader, writer, ben.static_key(), initiator=True)


async def exchange_until_synced(stream: SecureStream, ben: Service, circle: str, ana_device: str) -> bytes:
    """Ben's half of the first exchange, up to (not including) his SYNCED: Ana then
    has sent hers and waits for his. Returns the digest Ana sent."""
    kind, ana_state = await next_message(stream, "Ana's STATE")
    assert kind == m.STATE
    await stream.send(m.encode_state(ben.sync_state(circle)))
    payload, items = ben.delta_for(circle, ana_device, ana_state) or (b"", 0)
    await stream.send(m.encode_offer(m.Offer(circle, items, len(payload))))
    if payload:
        await stream.send(m.encode_raw(m.BUNDLE, payload))
    while True:
        kind, value = await next_message(stream, "Ana's answer to Ben's STATE")
        if kind == m.BUNDLE:
            ben.receive_bundle(value)
        elif kind == m.SYNCED:
            return value.digest
        else:
            assert kind == m.OFFER, kind


def test_a_write_made_before_the_circle_converged_is_pushed_once_it_does(tmp_path):
    ana, ben, (circle,) = two_members(tmp_path)

    async def scenario() -> None:
        node = Node(ana)
        host, port = await node.listen(LOOPBACK, 0)
        stream = await connect_as(ben, host, port)
        ana_device = ben.shared_circles(stream.remote_static)[circle]
        try:
            ana_digest = await exchange_until_synced(stream, ben, circle, ana_device)
            # Ana's digest is taken, Ben's SYNCED not yet in: the circle is not converged.
            ana.post(circle, "written mid-exchange")
            await asyncio.sleep(0)  # Ana's push loop sees the write before the circle converges
            ben_digest = ben.sync_state(circle).digest
            assert ben_digest == ana_digest  # the exchange itself is complete: no second round
            await stream.send(m.encode_synced(m.Synced(circle, ben_digest)))
            kind, bundle = await next_message(stream, "push of Ana's write (no further write follows)")
            assert kind == m.BUNDLE
            ben.receive_bundle(bundle)
            assert "written mid-exchange" in {p.body for p in ben.feed(circle)}
        finally:
            await stream.close()
            await node.close()

    run_then_close(scenario, ana, ben)


def test_converging_pushes_nothing_back_of_what_the_peer_itself_sent(tmp_path):
    ana, ben, (circle,) = two_members(tmp_path)
    ben.post(circle, "from Ben, before the session")  # his OFFER carries a bundle Ana applies

    async def scenario() -> None:
        events: list[SessionEvent] = []
        node = Node(ana, emit=events.append)
        host, port = await node.listen(LOOPBACK, 0)
        stream = await connect_as(ben, host, port)
        ana_device = ben.shared_circles(stream.remote_static)[circle]
        try:
            ana_digest = await exchange_until_synced(stream, ben, circle, ana_device)
            assert ben.sync_state(circle).digest == ana_digest
            await stream.send(m.encode_synced(m.Synced(circle, ana_digest)))
            await eventually(lambda: any(e.state == "live" and e.circle_id == circle for e in events),
                             "Ana's side of the circle to converge")
            # Anything pushed on converging would come first: the next bundle must be this write.
            ana.post(circle, "after converging")
            kind, bundle = await next_message(stream, "push of Ana's write")
            assert kind == m.BUNDLE
            ben.receive_bundle(bundle)
            assert "after converging" in {p.body for p in ben.feed(circle)}
        finally:
            await stream.close()
            await node.close()

    run_then_close(scenario, ana, ben)


def test_a_one_shot_sync_ends_when_the_live_peer_pushes_right_behind_its_synced(tmp_path):
    """Ana's push lands in Ben's socket together with her SYNCED, so Ben's read loop
    holds a complete message at the moment his converged session cancels it."""
    ana, ben, (circle,) = two_members(tmp_path)
    ben_device = ana.shared_circles(ben.static_key().public_key().public_bytes_raw())[circle]

    async def play_ana(stream: SecureStream) -> None:
        await stream.send(m.encode_state(ana.sync_state(circle)))
        kind, ben_state = await next_message(stream, "Ben's STATE")
        assert kind == m.STATE
        payload, items = ana.delta_for(circle, ben_device, ben_state) or (b"", 0)
        await stream.send(m.encode_offer(m.Offer(circle, items, len(payload))))
        if payload:
            await stream.send(m.encode_raw(m.BUNDLE, payload))
        while (message := await next_message(stream, "Ben's SYNCED"))[0] != m.SYNCED:
            if message[0] == m.BUNDLE:
                ana.receive_bundle(message[1])
        ana.post(circle, "written as Ben finishes")
        push = ana.delta_for(circle, ben_device, ben_state)
        assert push is not None
        await stream.send(m.encode_synced(m.Synced(circle, message[1].digest)))
        await stream.send(m.encode_raw(m.BUNDLE, push[0]))
        with pytest.raises(ConnectionDropped):  # Ben hangs up; nothing else comes
            await stream.receive(GENEROUS)

    async def scenario() -> None:
        played: asyncio.Future = asyncio.get_running_loop().create_future()

        async def handle(reader, writer) -> None:
            stream = await SecureStream.connect(reader, writer, ana.static_key(), initiator=False)
            try:
                await play_ana(stream)
                played.set_result(None)
            except BaseException as exc:
                played.set_exception(exc)
            finally:
                await stream.close()

        server = await asyncio.start_server(handle, LOOPBACK, 0)
        port = server.sockets[0].getsockname()[1]
        try:
            sync = Node(ben).sync_once(f"{LOOPBACK}:{port}")
            try:
                assert await asyncio.wait_for(sync, GENEROUS) == [circle]
            except asyncio.TimeoutError:
                raise AssertionError(f"Ben's one-shot sync still running after {GENEROUS:.0f}s") from None
            await asyncio.wait_for(played, GENEROUS)
        finally:
            server.close()
            await server.wait_closed()

    run_then_close(scenario, ana, ben)


def test_a_write_made_while_a_push_is_still_being_sent_is_pushed_after_it(tmp_path):
    """Ben stops reading, so Ana's push of a large bundle stays in flight (her socket
    buffers full); a write landing meanwhile is not in that bundle and must follow it."""
    ana, ben, (circle,) = two_members(tmp_path)

    async def scenario() -> None:
        events: list[SessionEvent] = []
        node = Node(ana, emit=events.append)
        host, port = await node.listen(LOOPBACK, 0)
        ben_socket = socket.socket()
        # Set before connecting, a fixed receive buffer keeps the window small: with Ben not
        # reading, Ana's kernel (at most 4 MB here) and transport fill up behind a 6 MB push.
        ben_socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        ben_socket.connect((host, port))
        reader, writer = await asyncio.open_connection(sock=ben_socket)
        stream = await SecureStream.connect(reader, writer, ben.static_key(), initiator=True)
        ana_device = ben.shared_circles(stream.remote_static)[circle]
        try:
            ana_digest = await exchange_until_synced(stream, ben, circle, ana_device)
            await stream.send(m.encode_synced(m.Synced(circle, ana_digest)))
            await eventually(lambda: any(e.state == "live" and e.circle_id == circle for e in events),
                             "Ana's side of the circle to converge")
            for _ in range(550):  # about 6 MB after compression, in one push
                ana.post(circle, os.urandom(10_000).hex()[:19_000])
            await asyncio.sleep(0.5)  # Ana's push loop is now blocked sending it
            ana.post(circle, "written while the push was in flight")
            bodies: set[str] = set()
            while "written while the push was in flight" not in bodies:
                kind, bundle = await next_message(stream, "push of the write made during the first push")
                assert kind == m.BUNDLE
                ben.receive_bundle(bundle)
                bodies = {p.body for p in ben.feed(circle)}
            assert len(bodies) >= 551
        finally:
            await stream.close()
            await node.close()

    run_then_close(scenario, ana, ben)
