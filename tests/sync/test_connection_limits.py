"""A real server on 127.0.0.1 under a flood of idle connections: members still sync,
idle handshakes are closed at the deadline, the log stays small, and only a few
connections may buffer a large message at once."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from circle.sync import tcp
from circle.sync.framing import LARGE_AFTER, ConnectionDropped, SecureStream
from circle.sync.tcp import Server
from tests.helpers.live import eventually, run_then_close, two_members

LOOPBACK = "127.0.0.1"
IDLE = 300


class Count(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def counted():
    handler = Count()
    loggers = [logging.getLogger(name) for name in ("circle.sync", "asyncio")]
    saved = [(logger, logger.level) for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    yield handler
    for logger, level in saved:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_a_flood_of_idle_connections_neither_keeps_members_out_nor_floods_the_log(tmp_path, counted):
    ana, ben, (circle,) = two_members(tmp_path)
    ben.post(circle, "through the flood")

    async def scenario() -> None:
        server = Server(ana, ana.profile.identity.dh_key, max_connections=64, max_unauthenticated=16,
                        handshake_timeout=1.0)
        _, port = await server.start(LOOPBACK, 0)
        idle = []
        try:
            for _ in range(IDLE):
                idle.append(await asyncio.open_connection(LOOPBACK, port))
            await eventually(lambda: server.evicted >= IDLE - 16, "the server to close the oldest strangers")
            assert server.open_connections <= 64
            started = time.monotonic()
            synced = await tcp.sync_once(ben, ben.profile.identity.dh_key, f"{LOOPBACK}:{port}")
            assert synced == [circle] and time.monotonic() - started < 5
            assert "through the flood" in {p.body for p in ana.feed(circle)}
            # The rest idle past the handshake deadline: every one is closed by the server.
            for reader, _ in idle:
                assert await asyncio.wait_for(reader.read(), 5) == b""
            await eventually(lambda: server.open_connections == 0, "every idle connection closed")
        finally:
            for _, writer in idle:
                writer.close()
            await server.close()

    run_then_close(scenario, ana, ben)
    assert len(counted.records) < 60, [r.getMessage() for r in counted.records[:80]]


def test_members_past_the_stranger_limit_still_connect_and_the_total_is_capped(tmp_path, counted):
    ana, ben, (circle,) = two_members(tmp_path)

    async def scenario() -> None:
        server = Server(ana, ana.profile.identity.dh_key, max_connections=4, max_unauthenticated=4,
                        handshake_timeout=5.0)
        _, port = await server.start(LOOPBACK, 0)
        peers = []
        try:
            for _ in range(4):  # four members' live sessions fill the server
                peer = Server(ben, ben.profile.identity.dh_key)
                peers.append(peer)
            for index, peer in enumerate(peers):
                peer.dial(f"{LOOPBACK}:{port}")
                await eventually(lambda: len(server.sessions) == index + 1, f"live session {index + 1}")
            reader, writer = await asyncio.open_connection(LOOPBACK, port)
            assert await asyncio.wait_for(reader.read(), 5) == b""  # a fifth is turned away at once
            writer.close()
            assert server.refused == 1 and len(server.sessions) == 4
        finally:
            for peer in peers:
                await peer.close()
            await server.close()

    run_then_close(scenario, ana, ben)


def test_a_large_message_waits_for_a_shared_slot_and_small_ones_do_not():
    async def scenario() -> None:
        accepted: asyncio.Queue = asyncio.Queue()
        server_key, client_key = X25519PrivateKey.generate(), X25519PrivateKey.generate()

        async def handle(reader, writer):
            await accepted.put(await SecureStream.connect(reader, writer, server_key, initiator=False))

        listener = await asyncio.start_server(handle, LOOPBACK, 0)
        port = listener.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection(LOOPBACK, port)
        client = await SecureStream.connect(reader, writer, client_key, initiator=True)
        served = await accepted.get()
        slots = asyncio.Semaphore(1)
        served.large = slots
        try:
            await slots.acquire()  # another connection is buffering a large message
            await client.send(b"s" * 1000)
            assert await served.receive(1.0) == b"s" * 1000
            await client.send(b"L" * (LARGE_AFTER * 2))
            with pytest.raises(ConnectionDropped, match="too many large messages"):
                await served.receive(0.5)
            assert slots.locked()  # the failed receive gave back nothing it did not take
            slots.release()
        finally:
            await client.close()
            await served.close()
            listener.close()
            await listener.wait_closed()

        # With a free slot a large message goes through and the slot is returned.
        listener = await asyncio.start_server(handle, LOOPBACK, 0)
        port = listener.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection(LOOPBACK, port)
        client = await SecureStream.connect(reader, writer, client_key, initiator=True)
        served = await accepted.get()
        served.large = slots
        try:
            await client.send(b"L" * (LARGE_AFTER * 2))
            assert len(await served.receive(5.0)) == LARGE_AFTER * 2
            assert not slots.locked()
        finally:
            await client.close()
            await served.close()
            listener.close()
            await listener.wait_closed()

    asyncio.run(scenario())
