"""Noise-encrypted, length-prefixed frames over an asyncio stream.

Every Noise message travels as a 2-byte big-endian length and the message
(at most 65535 bytes). An application message is cut into chunks that each fit
one Noise message; the first plaintext byte of a chunk says whether more
chunks follow. Limits are hard: a handshake that takes too long, a read that
stalls, or a message over MAX_MESSAGE_BYTES drops the connection. A message
past LARGE_AFTER bytes must also hold a slot of the stream's `large` semaphore
(shared by a server's connections), so only a few can be buffered in full at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from circle.sync.noise import MAX_MESSAGE, TAGLEN, CipherState, Handshake, NoiseError

PROLOGUE = b"circle/session/1"
HANDSHAKE_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
LARGE_AFTER = 1024 * 1024
_CHUNK = MAX_MESSAGE - TAGLEN - 1
_MORE, _LAST = b"\x01", b"\x00"


class ConnectionDropped(Exception):
    """The peer went away, stalled, or broke the protocol."""


async def _read_frame(reader: asyncio.StreamReader, timeout: float) -> bytes:
    try:
        header = await asyncio.wait_for(reader.readexactly(2), timeout)
        return await asyncio.wait_for(reader.readexactly(int.from_bytes(header, "big")), timeout)
    except (asyncio.IncompleteReadError, ConnectionError) as exc:
        raise ConnectionDropped("connection closed") from exc
    except asyncio.TimeoutError as exc:
        raise ConnectionDropped("peer stopped answering") from exc


def _frame(message: bytes) -> bytes:
    return len(message).to_bytes(2, "big") + message


class SecureStream:
    """An authenticated, encrypted message stream to one peer."""

    def __init__(self, reader, writer, send: CipherState, receive: CipherState, remote_static: bytes,
                 handshake_hash: bytes = b"", *, initiator: bool = False) -> None:
        self._reader, self._writer = reader, writer
        self._send, self._receive = send, receive
        self.remote_static = remote_static
        # Unique to this connection: a signature covering it cannot be replayed on another.
        self.handshake_hash = handshake_hash
        # We dialled: the peer's address is where it listens, worth dialling again.
        self.initiator = initiator
        self._lock = asyncio.Lock()
        self.on_bytes: Callable[[int], None] | None = None
        self.large: asyncio.Semaphore | None = None
        self._holding = False  # holds a slot of `large` for the message being read

    @classmethod
    async def connect(cls, reader, writer, static: X25519PrivateKey, *, initiator: bool,
                      timeout: float = HANDSHAKE_TIMEOUT) -> SecureStream:
        """Run the Noise XX handshake; the whole of it must finish within `timeout` seconds."""
        handshake = Handshake(initiator, static, PROLOGUE)

        async def run() -> None:
            for step in range(3):
                if (step % 2 == 0) == initiator:
                    writer.write(_frame(handshake.write()))
                    await writer.drain()
                else:
                    handshake.read(await _read_frame(reader, timeout))

        try:
            await asyncio.wait_for(run(), timeout)
        except NoiseError as exc:
            raise ConnectionDropped(f"handshake failed: {exc}") from exc
        except (asyncio.TimeoutError, ConnectionError) as exc:
            raise ConnectionDropped("handshake did not complete") from exc
        send, receive = handshake.transport()
        if handshake.remote_static is None:  # transport() has checked the handshake is done
            raise ConnectionDropped("handshake did not complete")
        return cls(reader, writer, send, receive, handshake.remote_static, handshake.handshake_hash,
                   initiator=initiator)

    @property
    def peer_address(self) -> str:
        peer = self._writer.get_extra_info("peername")
        return f"{peer[0]}:{peer[1]}" if peer else "?"

    async def send(self, message: bytes) -> None:
        if len(message) > MAX_MESSAGE_BYTES:
            raise ValueError("message too large")
        async with self._lock:
            pieces = [message[i : i + _CHUNK] for i in range(0, len(message), _CHUNK)] or [b""]
            for index, piece in enumerate(pieces):
                flag = _MORE if index < len(pieces) - 1 else _LAST
                try:
                    self._writer.write(_frame(self._send.encrypt(b"", flag + piece)))
                    await self._writer.drain()
                except ConnectionError as exc:  # the peer vanished while we were writing
                    raise ConnectionDropped("connection lost") from exc

    async def receive(self, timeout: float = READ_TIMEOUT, limit: int | None = None) -> bytes:
        """One application message of at most `limit` bytes (default MAX_MESSAGE_BYTES)."""
        limit = MAX_MESSAGE_BYTES if limit is None else limit
        try:
            return await self._read_message(timeout, limit)
        finally:
            if self._holding:
                self._holding = False
                assert self.large is not None  # held only after acquiring it
                self.large.release()

    async def _take_large_slot(self, timeout: float) -> None:
        assert self.large is not None  # called only when there is a limit
        try:
            await asyncio.wait_for(self.large.acquire(), timeout)
        except asyncio.TimeoutError as exc:
            raise ConnectionDropped("too many large messages in flight; try again later") from exc
        self._holding = True

    async def _read_message(self, timeout: float, limit: int) -> bytes:
        parts, total = [], 0
        while True:
            frame = await _read_frame(self._reader, timeout)
            try:
                plain = self._receive.decrypt(b"", frame)
            except NoiseError as exc:
                raise ConnectionDropped(str(exc)) from exc
            # Senders cut full chunks; tiny ones would cost a frame and a list entry each.
            if not plain or plain[:1] not in (_MORE, _LAST) or (plain[:1] == _MORE and len(plain) != _CHUNK + 1):
                raise ConnectionDropped("malformed chunk")
            total += len(plain) - 1
            if total > limit:
                raise ConnectionDropped("message over the size limit")
            if total > LARGE_AFTER and self.large is not None and not self._holding:
                await self._take_large_slot(timeout)
            parts.append(plain[1:])
            if self.on_bytes:
                self.on_bytes(len(frame))
            if plain[:1] == _LAST:
                return b"".join(parts)

    async def close(self) -> None:
        try:
            self._writer.close()
            await asyncio.wait_for(self._writer.wait_closed(), 2)
        except (ConnectionError, asyncio.TimeoutError, OSError):
            pass
