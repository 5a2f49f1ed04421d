"""The relay server: one asyncio task per connection, nothing running in the background.

A connection is a Noise XX session (sync/framing.py) under the same limits as
`circle serve`: a global connection cap of which only some may be strangers
(the longest-waiting is closed past that), the handshake deadline, the idle
read timeout, the frame and message size limits, and a few large messages
buffered at once. After the handshake the device sends REGISTER (answered,
then the connection ends) or OPEN; an opened connection may LIST, GET and
(with the circle's current access key) PUT until it closes.

A connection that opens no circle may instead send one JOIN_PUT or JOIN_FETCH
(a stranger leaving a join request, or asking for its answer); only a
connection opened with the current access key may JOIN_LIST and JOIN_ANSWER.
Join areas expire on the injected clock (docs/protocol.md, "Join area").

The access key is looked up again on every request, so a rotation takes
effect on connections already open. Store writes are synchronous on the loop:
cancelling a connection at shutdown can never cut one in half.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from circle.errors import CircleError
from circle.relay.store import JoinRefused, OverQuota, RelayStore, RelayStoreError
from circle.sync import relay_wire as w
from circle.sync.clock import REAL, Clock
from circle.sync.gate import Gate, listen
from circle.sync.framing import HANDSHAKE_TIMEOUT, READ_TIMEOUT, ConnectionDropped, SecureStream
from circle.sync.logsafe import install
from circle.sync.tcp import JOIN_TIMEOUT, LARGE_RECEIVES, MAX_CONNECTIONS, MAX_JOIN_BYTES, MAX_UNAUTHENTICATED

log = logging.getLogger("circle.relay")
install(log)

NOT_ALLOWED = "not allowed"
ROTATED = "this access key was rotated"
NOT_HERE = "this relay does not keep that circle"
NEEDS_TOKEN = "registering a circle needs this relay's registration token"


class RelayError(CircleError):
    """The relay cannot start; the message says why."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 256 * 1024 * 1024  # per circle
    max_bundles: int = 100_000  # per circle
    max_circle_connections: int = 32  # open at once, per circle
    max_connections: int = MAX_CONNECTIONS
    max_unauthenticated: int = MAX_UNAUTHENTICATED  # handshaking, or not yet opened a circle
    handshake_timeout: float = HANDSHAKE_TIMEOUT
    first_message_timeout: float = JOIN_TIMEOUT
    idle_timeout: float = READ_TIMEOUT
    large_receives: int = LARGE_RECEIVES
    max_join_pending: int = 64  # unanswered join requests, per circle
    join_expiry: float = 14 * 24 * 3600.0  # seconds a join request and its answer are kept


def _verified(public: bytes, signature: bytes, signed: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, signed)
    except (InvalidSignature, ValueError):
        return False
    return True


class _Refused(Exception):
    """Answer the request with REFUSED(reason)."""


class RelayServer:
    def __init__(self, store: RelayStore, static: X25519PrivateKey, token: str, limits: Limits = Limits(),
                 clock: Clock = REAL) -> None:
        self.store, self.static, self.limits, self.clock = store, static, limits, clock
        self._token = token.encode()
        self._large = asyncio.Semaphore(limits.large_receives)
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task] = set()
        self.gate = Gate(limits.max_connections, limits.max_unauthenticated, log)
        self._per_circle: dict[bytes, int] = {}

    async def start(self, host: str, port: int) -> tuple[str, int]:
        """Listen on host:port (0: a free port); the bound address. RelayError if not possible."""
        self._server = await listen(self._handle, host, port, RelayError)
        self.store.reset_connections()
        bound = self._server.sockets[0].getsockname()
        return bound[0], bound[1]

    async def close(self) -> None:
        """Stop listening and end every connection. A put already received is committed
        (writes are synchronous), one still arriving was never acknowledged."""
        if self._server is not None:
            self._server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
        self.store.reset_connections()

    def _count(self, circle_id: bytes | None, change: int) -> None:
        if circle_id is None:
            value = self.gate.open  # the gate has already counted this connection in or out
        else:
            value = self._per_circle.get(circle_id, 0) + change
            if value:
                self._per_circle[circle_id] = value
            else:
                self._per_circle.pop(circle_id, None)
        try:
            self.store.set_connections(circle_id, value)
        except Exception as exc:  # only `--status` reads it: never worth a connection
            log.warning("could not record the connection count: %s", exc)

    async def _handle(self, reader, writer) -> None:
        if not self.gate.enter(writer):  # a connection that opens no circle is a stranger
            return
        task = asyncio.current_task()
        assert task is not None  # asyncio runs each connection's handler in a task of its own
        self._tasks.add(task)
        self._count(None, 1)
        try:
            await self._connection(reader, writer)
        except asyncio.CancelledError:
            pass  # closing
        except Exception:  # a bug must cost one connection, never the relay
            log.exception("connection handler failed")
        finally:
            self.gate.leave(writer)
            self._tasks.discard(task)
            self._count(None, -1)
            writer.transport.abort()

    async def _connection(self, reader, writer) -> None:
        peer = writer.get_extra_info("peername")
        try:
            stream = await SecureStream.connect(reader, writer, self.static, initiator=False,
                                                timeout=self.limits.handshake_timeout)
        except ConnectionDropped as exc:
            log.info("dropped %s during handshake: %s", peer, exc)
            return
        stream.large = self._large
        try:
            kind, value = w.decode_request(await stream.receive(self.limits.first_message_timeout,
                                                                limit=MAX_JOIN_BYTES))
            if kind == w.REGISTER:
                await stream.send(self._answer(self._register, value, stream.handshake_hash))
            elif kind == w.OPEN:
                await self._opened(stream, value, writer)
            elif kind == w.JOIN_PUT:
                await stream.send(self._answer(self._join_put, value))
            elif kind == w.JOIN_FETCH:
                await stream.send(self._answer(self._join_fetch, value))
            else:
                await stream.send(w.encode_refused("open a circle first"))
        except (ConnectionDropped, w.RelayWireError) as exc:
            log.info("dropped %s: %s", peer, exc)
        finally:
            await stream.close()

    def _answer(self, request, *args) -> bytes:
        try:
            return request(*args)
        except (_Refused, JoinRefused) as exc:
            return w.encode_refused(str(exc))
        except OverQuota as exc:
            return w.encode_refused(f"over quota ({exc.what})")
        except RelayStoreError as exc:
            log.error("%s", exc)
            return w.encode_refused("the relay cannot store anything right now")

    def _register(self, msg: w.Register, handshake_hash: bytes) -> bytes:
        signed = w.register_signed(handshake_hash, msg.circle_id, msg.admin_pub, msg.access_pub, msg.token)
        if not _verified(msg.admin_pub, msg.signature, signed):
            raise _Refused(NOT_ALLOWED)
        token_ok = hmac.compare_digest(msg.token, self._token)
        known = self.store.circle(msg.circle_id)
        if known is None and not token_ok:
            raise _Refused(NEEDS_TOKEN)
        if known is not None and known.admin_pub != msg.admin_pub:
            # Only the operator's token holders learn that the circle is here at all.
            raise _Refused("this circle is registered with another admin key" if token_ok else NEEDS_TOKEN)
        self.store.register(msg.circle_id, msg.admin_pub, msg.access_pub)
        log.info("registered circle %s%s", msg.circle_id.hex(), "" if known is None else " (new access key)")
        return w.encode_ok()

    def _join_put(self, msg: w.JoinPut) -> bytes:
        # Whoever holds a code names the circle anyway: saying it is not here hides nothing.
        if self.store.circle(msg.circle_id) is None:
            raise _Refused(NOT_HERE)
        self.store.join_put(msg.circle_id, msg.request_id, msg.area_id, msg.sealed, now=self.clock.now(),
                            expiry=self.limits.join_expiry, max_pending=self.limits.max_join_pending)
        log.info("join request left for circle %s", msg.circle_id.hex())
        return w.encode_stored(msg.request_id)

    def _join_fetch(self, msg: w.JoinFetch) -> bytes:
        if self.store.circle(msg.circle_id) is None:
            raise _Refused(NOT_HERE)
        answer = self.store.join_fetch(msg.circle_id, msg.request_id, now=self.clock.now(),
                                       expiry=self.limits.join_expiry)
        return w.encode_waiting() if answer is None else w.encode_data(answer)

    def _access(self, circle_id: bytes, access_pub: bytes) -> bool:
        """True if `access_pub` may write, False if it may only read; else _Refused."""
        record = self.store.circle(circle_id)
        if record is not None and access_pub == record.access_pub:
            return True
        if record is not None and access_pub == record.previous_pub:
            return False
        raise _Refused(NOT_ALLOWED)

    async def _opened(self, stream: SecureStream, msg: w.Open, writer) -> None:
        signed = w.open_signed(stream.handshake_hash, msg.circle_id, msg.access_pub)
        try:
            if not _verified(msg.access_pub, msg.signature, signed):
                raise _Refused(NOT_ALLOWED)
            self._access(msg.circle_id, msg.access_pub)
            if self._per_circle.get(msg.circle_id, 0) >= self.limits.max_circle_connections:
                raise _Refused("over quota (connections)")
        except _Refused as exc:
            await stream.send(w.encode_refused(str(exc)))
            return
        self.gate.belongs(writer)
        self._count(msg.circle_id, 1)
        try:
            await stream.send(w.encode_ok())
            while True:
                kind, value = w.decode_request(await stream.receive(self.limits.idle_timeout))
                answer = self._answer(self._request, msg, kind, value)
                await stream.send(answer)
                if answer[0] == w.REFUSED and kind not in (w.PUT, w.GET, w.JOIN_ANSWER):
                    return
        finally:
            self._count(msg.circle_id, -1)

    def _request(self, opened: w.Open, kind: int, value) -> bytes:
        writable = self._access(opened.circle_id, opened.access_pub)
        if kind == w.LIST:
            return w.encode_names(self.store.names(opened.circle_id))
        if kind == w.GET:
            data = self.store.get(opened.circle_id, value)
            if data is None:
                raise _Refused("no such bundle")
            return w.encode_data(data)
        if kind == w.PUT:
            if not writable:
                raise _Refused(ROTATED)
            digest = self.store.put(opened.circle_id, value, max_bytes=self.limits.max_bytes,
                                    max_bundles=self.limits.max_bundles)
            return w.encode_stored(digest)
        if kind == w.JOIN_LIST or kind == w.JOIN_ANSWER:
            if not writable:
                raise _Refused(ROTATED)
            return self._join_member(opened.circle_id, kind, value)
        raise _Refused("this connection has a circle open already")

    def _join_member(self, circle_id: bytes, kind: int, value) -> bytes:
        now, expiry = self.clock.now(), self.limits.join_expiry
        if kind == w.JOIN_LIST:
            pending = self.store.join_pending(circle_id, now=now, expiry=expiry)
            return w.encode_join_requests([w.JoinRequest(p.request_id, p.area_id, p.sealed) for p in pending])
        self.store.join_answer(circle_id, value.request_id, value.sealed, now=now, expiry=expiry,
                               max_bytes=self.limits.max_bytes)
        return w.encode_ok()
