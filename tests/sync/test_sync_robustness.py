"""A live `circle serve` against hostile peers on 127.0.0.1.

Each attack speaks raw TCP (and, where it needs to get past the handshake,
real Noise through circle.sync.noise.Handshake). After every one the server
must still be running, log one line for the drop and no traceback, still serve
a legitimate `circle sync`, and its store must still open.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from circle.sync.tcp import JOIN_REFUSED
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from circle.service import Service
from circle.sync import framing
from circle.sync import messages as m
from circle.sync.framing import ConnectionDropped, SecureStream
from tests.helpers.cli import PASSPHRASE, Cli
from tests.helpers.hostile_peer import (
    CHUNK, LOOPBACK, closed_by_peer, connect, frame, member_static, noise, recv_frame, send_garbage,
    truncated_handshake)
from tests.helpers.live import wait_until


# -- before the handshake completes --------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_garbage_bytes(target, survives, seed):
    send_garbage(target, seed)


def test_truncated_handshake(target, survives):
    truncated_handshake(target)


def test_frame_length_claims_more_than_is_sent(target, survives):
    with connect(target) as sock:
        sock.sendall(b"\xff\xff" + b"\x00" * 100)


def test_maximum_frames_of_garbage_in_the_handshake(target, survives):
    with connect(target) as sock:
        sock.sendall(frame(bytes(range(256)) * 255 + b"\x00" * 255))  # a 65535-byte first message
        recv_frame(sock)  # a first message may carry any payload: the server answers
        sock.sendall(frame(b"\x07" * 65535))  # a third message that fails authentication
        assert closed_by_peer(sock)
    assert "handshake" in target.stderr().splitlines()[-1]


def test_empty_handshake_frame(target, survives):
    with connect(target) as sock:
        sock.sendall(b"\x00\x00")
        assert closed_by_peer(sock)


def test_idle_connections_do_not_block_a_member(target, survives):
    idle = [connect(target) for _ in range(40)]
    try:
        result = target.b.run("sync", target.address, timeout=60)
        assert result.returncode == 0, result.stderr
    finally:
        for sock in idle:
            sock.close()


# -- a stranger with a valid handshake --------------------------------------------------------


def test_stranger_sending_something_other_than_join_gets_one_error(target, survives):
    peer = noise(target)
    with peer.sock:
        peer.send(m.encode_raw(m.PING))
        kind, reason = m.decode(peer.receive())
        assert (kind, reason) == (m.ERROR, "not a member of any circle here")
        assert closed_by_peer(peer.sock)


def test_stranger_sending_a_state_for_the_circle_learns_nothing(target, survives):
    peer = noise(target)
    with peer.sock:
        peer.send(m.encode_state(m.State(target.circle, b"\x00" * 32, {}, frozenset())))
        kind, reason = m.decode(peer.receive())
        assert kind == m.ERROR and target.circle not in reason
        assert closed_by_peer(peer.sock)


@pytest.mark.parametrize("plain", [b"", b"\x05garbage", b"\x01" + b"x" * 10, bytes(20)])
def test_valid_handshake_then_malformed_transport_plaintext(target, survives, plain):
    peer = noise(target)
    with peer.sock:
        peer.send_plain(plain)
        assert closed_by_peer(peer.sock)


def test_valid_handshake_then_frames_that_fail_authentication(target, survives):
    peer = noise(target)
    with peer.sock:
        peer.sock.sendall(frame(b"\x00" * 15))  # shorter than a tag
        assert closed_by_peer(peer.sock)


@pytest.mark.parametrize("request_body", [
    b"{",
    b"[" * 4000,  # nesting deeper than the JSON parser's recursion limit
    b'{"v":1}',
    json.dumps({"v": 1, "circle": "x", "invite": "y", "device": {}, "proof": "z"}).encode(),
    b"\xff\xfe not utf-8",
    b"{}" + b" " * 5000,  # over the request size limit
])
def test_join_with_a_malformed_request_is_refused_in_one_message(target, survives, request_body):
    peer = noise(target)
    with peer.sock:
        peer.send(m.encode_raw(m.JOIN, request_body))
        kind, reason = m.decode(peer.receive())
        # Strangers get one uniform answer; the reason goes to the server's log only.
        assert (kind, reason) == (m.ERROR, JOIN_REFUSED)
        assert closed_by_peer(peer.sock)


def test_join_request_replayed_from_another_device_is_refused(target, survives, tmp_path):
    newcomer = Cli(tmp_path / "X")
    newcomer.ok("init", "--name", "Xan")
    code = target.a.ok("invite", target.circle, "--uses", "1").stdout.strip()
    service = Service.unlock(newcomer.home, PASSPHRASE)
    try:
        request = service.join_request(code)
    finally:
        service.close()
    peer = noise(target)  # someone else's key, carrying the newcomer's request
    with peer.sock:
        peer.send(m.encode_raw(m.JOIN, request))
        kind, reason = m.decode(peer.receive())
        assert (kind, reason) == (m.ERROR, JOIN_REFUSED)
    invites = target.a.ok("invites", target.circle, "--json").json()
    assert [i["used"] for i in invites if i["uses"] == 1] == [0]


def test_stranger_cannot_stream_a_huge_message(target, survives):
    """A stranger's only message (JOIN) is small; the server must not buffer 64 MiB of it."""
    before = len(target.stderr())
    peer = noise(target)
    with peer.sock:
        try:
            for _ in range(4 * 1024 * 1024 // CHUNK):
                peer.send_plain(b"\x01" + b"j" * CHUNK)  # full chunks, `more` set, never the last
        except (TimeoutError, ConnectionError):
            pass  # already dropped
        assert closed_by_peer(peer.sock, timeout=10), "the server kept reading a stranger's message"
    wait_until(lambda: "size limit" in target.stderr()[before:], 10, "the drop to be logged")


def test_many_tiny_more_chunks_are_refused(target, survives):
    peer = noise(target, member_static(target))
    with peer.sock:
        try:
            for _ in range(2000):
                peer.send_plain(b"\x01")  # empty chunks that each claim more follow
        except (TimeoutError, ConnectionError):
            pass
        assert closed_by_peer(peer.sock)


# -- an authenticated member misbehaving -------------------------------------------------------


@pytest.mark.parametrize("message", [
    bytes([0x55]) + b"no such type",
    bytes([m.STATE]) + b"\x01" * 5,  # truncated state
    m.encode_state(m.State("ab" * 16, b"\x00" * 32, {}, frozenset())),  # a circle not shared
    m.encode_raw(m.BUNDLE, b"CB\x01\x01" + b"\x00" * 40),  # a bundle that does not open
    m.encode_raw(m.JOIN, b"{}"),  # members do not send JOIN in a session
])
def test_member_sending_malformed_messages_is_dropped(target, survives, message):
    peer = noise(target, member_static(target))
    with peer.sock:
        peer.send(message)
        assert closed_by_peer(peer.sock)


def test_member_forged_bundle_for_the_shared_circle_is_refused(target, survives):
    from circle.sync.bundle import DELTA, BundleContent, seal_bundle

    peer = noise(target, member_static(target))
    with peer.sock:
        forged = seal_bundle(b"\x11" * 32, target.circle, "00" * 16, DELTA, BundleContent())
        peer.send(m.encode_raw(m.BUNDLE, forged))
        seen = []
        try:
            while True:
                seen.append(m.decode(peer.receive()))
        except (TimeoutError, ConnectionError, AssertionError):
            pass
        errors = [value for kind, value in seen if kind == m.ERROR]
        assert errors and "bundle refused" in errors[-1]


# -- the size limit itself, in-process (do not send 64 MiB) -------------------------------------


async def _stream_pair() -> tuple[SecureStream, SecureStream, asyncio.base_events.Server]:
    accepted: asyncio.Future = asyncio.get_running_loop().create_future()

    async def on_connect(reader, writer):
        accepted.set_result(await SecureStream.connect(reader, writer, X25519PrivateKey.generate(),
                                                       initiator=False))

    server = await asyncio.start_server(on_connect, LOOPBACK, 0)
    reader, writer = await asyncio.open_connection(LOOPBACK, server.sockets[0].getsockname()[1])
    client = await SecureStream.connect(reader, writer, X25519PrivateKey.generate(), initiator=True)
    return client, await asyncio.wait_for(accepted, 10), server


def test_message_over_the_size_limit_is_dropped_before_it_is_all_read(monkeypatch):
    monkeypatch.setattr(framing, "MAX_MESSAGE_BYTES", 5 * CHUNK)

    async def scenario():
        client, server_side, server = await _stream_pair()
        try:
            # Within the limit: arrives whole.
            fits = bytes(range(256)) * (5 * CHUNK // 256)
            await client.send(fits)
            assert await server_side.receive(5) == fits
            # Over it: the sender would refuse, so write `more` chunks by hand.
            sent = 0
            for _ in range(8):
                client._writer.write(framing._frame(client._send.encrypt(b"", b"\x01" + b"z" * CHUNK)))
                sent += 1
            await client._writer.drain()
            with pytest.raises(ConnectionDropped, match="size limit"):
                await server_side.receive(5)
            # It stopped at the first chunk past the limit (the 6th), not at the end of the stream.
            assert client._send.nonce - server_side._receive.nonce == 2
        finally:
            await client.close()
            await server_side.close()
            server.close()
            await server.wait_closed()

    asyncio.run(scenario())


def test_sender_refuses_a_message_over_the_limit(monkeypatch):
    monkeypatch.setattr(framing, "MAX_MESSAGE_BYTES", 1000)

    async def scenario():
        client, server_side, server = await _stream_pair()
        try:
            with pytest.raises(ValueError):
                await client.send(b"x" * 1001)
        finally:
            await client.close()
            await server_side.close()
            server.close()
            await server.wait_closed()

    asyncio.run(scenario())


def test_sending_to_a_vanished_peer_raises_connection_dropped():
    """Not a bare ConnectionResetError: callers only handle ConnectionDropped."""

    async def scenario():
        client, server_side, server = await _stream_pair()
        try:
            await server_side.close()
            server.close()
            with pytest.raises(ConnectionDropped):
                for _ in range(200):
                    await client.send(b"x" * 60_000)
                    await asyncio.sleep(0.005)
        finally:
            await client.close()
            await server.wait_closed()

    asyncio.run(scenario())
