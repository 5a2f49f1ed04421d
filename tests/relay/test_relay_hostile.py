"""A live relay against hostile peers on 127.0.0.1 (as tests/sync/test_sync_robustness.py attacks
`circle serve`): after each attack it is still running, has logged no traceback, and a device
still registers, writes and reads."""

from __future__ import annotations

import socket
import time

import pytest

from circle.sync import relay_wire as w
from tests.helpers.hostile_peer import send_garbage, truncated_handshake, CHUNK, closed_by_peer, connect, noise
from tests.helpers.live import wait_until
from tests.helpers.relay import CircleKeys, Relay, raw_public


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile-relay")
    relay = Relay(root / "data", root, ("--max-connections", "64")).start()
    yield relay
    relay.stop()


@pytest.fixture
def survives(target: Relay):
    yield
    assert target.alive(), target.stderr()
    log = target.stderr()
    assert "Traceback" not in log, log
    for line in log.strip().splitlines():
        assert line.startswith("circle relay: "), line
    keys = CircleKeys()
    keys.register(target)
    with keys.mailbox(target) as box:
        name = box.put(b"after the attack")
        assert box.read(name) == b"after the attack"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_garbage_bytes(target, survives, seed):
    send_garbage(target, seed)


def test_truncated_handshake(target, survives):
    truncated_handshake(target)


def test_a_frame_length_that_claims_more_than_is_sent(target, survives):
    with connect(target) as sock:
        sock.sendall(b"\xff\xff" + b"\x00" * 100)


@pytest.mark.parametrize("message", [
    b"", b"\x00", b"\x99junk", bytes([w.LIST]), bytes([w.GET]) + b"\x00" * 32, bytes([w.PUT]) + b"unopened",
    bytes([w.OPEN]) + b"\x01" * 20, bytes([w.REGISTER]) + b"\x02" * 200, bytes([w.OK]),
])
def test_a_bad_or_premature_first_request_is_dropped(target, survives, message):
    peer = noise(target)
    peer.send(message)
    assert closed_by_peer(peer.sock)


def test_a_first_request_over_64_kib_is_dropped(target, survives):
    peer = noise(target)
    for _ in range(2):  # 128 KiB in full chunks: more than an OPEN or REGISTER can be
        peer.send_plain(b"\x01" + b"\x00" * CHUNK)
    assert closed_by_peer(peer.sock)


def test_a_malformed_chunk_is_dropped(target, survives):
    peer = noise(target)
    peer.send_plain(b"\x01short")  # "more follows" on a chunk that is not full
    assert closed_by_peer(peer.sock)


def test_garbage_after_opening_a_circle_is_dropped(target, survives):
    keys = CircleKeys()
    keys.register(target)
    peer = noise(target)
    circle, access_pub = bytes.fromhex(keys.circle_id), raw_public(keys.access)
    proof = keys.access.sign(w.open_signed(peer.handshake_hash, circle, access_pub))
    peer.send(w.encode_open(w.Open(circle, access_pub, proof)))
    assert w.decode_answer(peer.receive()) == (w.OK, None)
    peer.send(b"\x42" + b"\x00" * 7)  # an OPEN cut short
    assert closed_by_peer(peer.sock)


def test_a_flood_of_idle_connections_does_not_keep_devices_out(target, survives):
    keys = CircleKeys()
    keys.register(target)
    idle = [socket.create_connection(("127.0.0.1", target.port), timeout=10) for _ in range(300)]
    try:
        started = time.monotonic()
        with keys.mailbox(target) as box:
            box.put(b"through the flood")
            assert len(box.names()) == 1
        assert time.monotonic() - started < 10
        wait_until(lambda: target.connections() <= 64, 15, "the relay to hold the cap")
    finally:
        for sock in idle:
            sock.close()
    wait_until(lambda: target.connections() == 0, 30, "every idle connection closed")
