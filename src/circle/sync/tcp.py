"""TCP transport: `serve` (listen and keep live sessions), `sync_once`, `join`.

Connections are Noise XX sessions keyed by device X25519 keys. A peer whose key
belongs to an active device of a circle we share gets a sync session for those
circles. Any other peer may only ask to redeem an invite (JOIN); anything else
drops the connection. A bad peer is logged and dropped, never crashes the server.

The server is bounded: at most `max_connections` open connections, of which at
most `max_unauthenticated` may be strangers (handshaking, or non-members asking
to join; past that the longest-waiting stranger is closed); a handshake must finish within `handshake_timeout`; only
`large_receives` connections at a time may buffer a message past 1 MiB; and
identical log lines collapse (circle.sync.logsafe). Its poll loop and reconnect
backoff run off an injected clock, and one failing iteration is logged and
survived, never the end of the loop.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from circle.errors import CircleError
from circle.sync import messages as m
from circle.sync.clock import REAL, Clock
from circle.sync.gate import Gate, listen
from circle.sync.framing import HANDSHAKE_TIMEOUT, ConnectionDropped, SecureStream
from circle.sync.host import SyncHost
from circle.sync.logsafe import install, watch
from circle.sync.session import Emit, Session, SessionEvent, SessionFailed

if TYPE_CHECKING:  # imported when enabled: zeroconf is slow to load
    from circle.sync.discovery import LanDiscovery

log = logging.getLogger("circle.sync")
install(log)

CONNECT_TIMEOUT = 10.0
JOIN_TIMEOUT = 30.0
MAX_JOIN_BYTES = 64 * 1024  # a stranger's one message; join requests are far smaller
POLL_LOCAL_EVERY = 0.25
MAX_CONNECTIONS = 256  # well under the common 1,024 open-file limit, leaving room for the store and dials
MAX_UNAUTHENTICATED = 32
LARGE_RECEIVES = 2  # bundles past 1 MiB buffered at once (each at most 64 MiB)
JOIN_REFUSED = "this invite cannot be used here: it may be expired, used up or revoked; ask for a new one"


class SyncError(CircleError):
    """A sync could not be done; the message says why (unreachable, refused...)."""


def parse_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SyncError(f"not a HOST:PORT address: {text!r}")
    return host.strip("[]"), int(port)


async def _open(address: str, static: X25519PrivateKey) -> SecureStream:
    host, port = parse_address(address)
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), CONNECT_TIMEOUT)
    except (OSError, asyncio.TimeoutError) as exc:
        raise SyncError(f"cannot reach {address}: {getattr(exc, 'strerror', None) or 'timed out'}") from None
    try:
        return await SecureStream.connect(reader, writer, static, initiator=True)
    except ConnectionDropped as exc:
        writer.close()
        raise SyncError(f"{address} did not complete a secure handshake: {exc}") from None


async def sync_once(host: SyncHost, static: X25519PrivateKey, address: str, *,
                    emit: Emit = lambda e: None) -> list[str]:
    """Sync every circle shared with the peer at `address` until both hold the
    same state; returns those circle ids."""
    stream = await _open(address, static)
    circles = host.shared_circles(stream.remote_static)
    if not circles:
        await stream.close()
        raise SyncError(f"{address} is not a member of any circle you are in")
    try:
        await Session(host, stream, circles, live=False, emit=emit).run()
    except SessionFailed as exc:
        raise SyncError(f"sync with {address} failed: {exc}") from None
    return list(circles)


async def join(static: X25519PrivateKey, address: str, request: bytes) -> bytes:
    """Send a join request to the member at `address`; returns their welcome."""
    stream = await _open(address, static)
    try:
        await stream.send(m.encode_raw(m.JOIN, request))
        kind, value = m.decode(await stream.receive(JOIN_TIMEOUT))
        while kind not in (m.WELCOME, m.ERROR):
            # A member who already admitted this device (an earlier try whose
            # welcome was lost) opens a sync session first; the welcome follows.
            kind, value = m.decode(await stream.receive(JOIN_TIMEOUT))
    except (ConnectionDropped, m.MessageError) as exc:
        raise SyncError(f"joining via {address} failed: {exc}") from None
    finally:
        await stream.close()
    if kind == m.ERROR:
        raise SyncError(f"{address} refused: {value}")
    if kind != m.WELCOME:
        raise SyncError(f"{address} answered the join request with something else")
    return value


class Server:
    """Listens, runs a live session per member peer, answers join requests."""

    def __init__(self, host: SyncHost, static: X25519PrivateKey, *, emit: Emit = lambda e: None,
                 clock: Clock = REAL, poll_every: float = POLL_LOCAL_EVERY, max_connections: int = MAX_CONNECTIONS,
                 max_unauthenticated: int = MAX_UNAUTHENTICATED, handshake_timeout: float = HANDSHAKE_TIMEOUT,
                 join_timeout: float = JOIN_TIMEOUT, large_receives: int = LARGE_RECEIVES) -> None:
        self.host, self.static, self.emit, self.clock = host, static, emit, clock
        self.poll_every = poll_every
        self.max_connections, self.max_unauthenticated = max_connections, max_unauthenticated
        self.handshake_timeout, self.join_timeout = handshake_timeout, join_timeout
        self._large = asyncio.Semaphore(large_receives)
        self.sessions: set[Session] = set()
        self._server: asyncio.base_events.Server | None = None
        self._dialing: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task] = set()
        self.gate = Gate(max_connections, max_unauthenticated, log)
        self.iterations = 0
        self.discovery: LanDiscovery | None = None

    async def start(self, address: str, port: int) -> tuple[str, int]:
        """Listen on `address`:`port` (0: any free port); returns the bound address.
        Raises SyncError, with one line saying why, if that cannot be done."""
        install(logging.getLogger("asyncio"))  # "out of file descriptors" on accept repeats per attempt
        self._server = await listen(self._handle, address, port, SyncError,
                                    " (another `circle serve`, or the app, may be running)")
        bound = self._server.sockets[0].getsockname()
        return bound[0], bound[1]

    async def run_forever(self) -> None:
        """Serve until cancelled, folding in what other local processes store and
        re-advertising on the LAN. An iteration that fails is logged and the loop goes on."""
        while True:
            await self.clock.sleep(self.poll_every)
            await self.step()

    async def step(self) -> None:
        """One iteration of the serving loop; never raises (but for cancellation)."""
        self.iterations += 1
        try:
            self.host.refresh_all()
        except CircleError as exc:
            log.warning("could not read local changes: %s", exc)
        except Exception as exc:
            log.error("reading local changes failed (will retry): %s", f"{type(exc).__name__}: {exc}",
                      exc_info=True)
        if self.discovery is not None:
            try:
                await self.discovery.tick()
            except Exception as exc:
                log.error("re-advertising on the LAN failed (will retry): %s", f"{type(exc).__name__}: {exc}",
                          exc_info=True)

    def dial(self, address: str) -> None:
        """Keep a live session with the peer at `address` (reconnecting with backoff)."""
        if address not in self._dialing:
            task = asyncio.create_task(self._dial_loop(address))
            self._dialing[address] = task
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            watch(task, log, f"dialling {address}")

    async def undial(self, address: str) -> bool:
        """Stop dialling `address` and end its live session; False if it was not dialled."""
        task = self._dialing.pop(address, None)
        if task is None:
            return False
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return True

    @property
    def dialling(self) -> list[str]:
        """The addresses with a dial loop running (live, or waiting to reconnect)."""
        return sorted(self._dialing)

    async def _dial_loop(self, address: str) -> None:
        delay = 1.0
        while True:
            try:
                stream = await _open(address, self.static)
                stream.large = self._large
                circles = self.host.shared_circles(stream.remote_static)
                if not circles:
                    await stream.close()
                    log.info("%s shares no circle with us; not dialling it again", address)
                    self._dialing.pop(address, None)
                    return
                session = Session(self.host, stream, circles, live=True, emit=self.emit)
                self.sessions.add(session)
                delay = 1.0
                try:
                    await session.run()
                finally:
                    self.sessions.discard(session)
            except (SyncError, ConnectionDropped, m.MessageError, SessionFailed) as exc:
                log.info("live session with %s: %s", address, exc)
            except Exception:
                log.exception("live session with %s failed", address)
            await self.clock.sleep(delay)
            delay = min(delay * 2, 60.0)

    async def enable_discovery(self, interface: str | None, port: int) -> None:
        from circle.sync.discovery import LanDiscovery

        discovery = LanDiscovery(self.host.discovery_tags, self.dial, interface=interface, clock=self.clock)
        self.discovery = discovery
        await discovery.start(port)

    async def close(self) -> None:
        """Stop listening, dialling and every open session, and wait for them."""
        if self._server is not None:
            self._server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.discovery is not None:
            await self.discovery.close()
        if self._server is not None:
            await self._server.wait_closed()

    @property
    def open_connections(self) -> int:
        return self.gate.open

    @property
    def refused(self) -> int:
        return self.gate.refused

    @property
    def evicted(self) -> int:
        return self.gate.evicted

    async def _handle(self, reader, writer) -> None:
        if not self.gate.enter(writer):
            return
        task = asyncio.current_task()
        assert task is not None  # asyncio runs each connection's handler in a task of its own
        self._tasks.add(task)
        try:
            await self._serve_connection(reader, writer)
        except asyncio.CancelledError:
            pass  # closing: end quietly (asyncio logs a handler task that ends cancelled)
        except Exception:  # a bug must cost one connection, never the server
            log.exception("connection handler failed")
        finally:
            self.gate.leave(writer)
            self._tasks.discard(task)

    async def _serve_connection(self, reader, writer) -> None:
        peer = writer.get_extra_info("peername")
        try:
            stream = await SecureStream.connect(reader, writer, self.static, initiator=False,
                                                timeout=self.handshake_timeout)
        except ConnectionDropped as exc:
            log.info("dropped %s during handshake: %s", peer, exc)
            writer.transport.abort()
            return
        stream.large = self._large
        try:
            circles = self.host.shared_circles(stream.remote_static)
        except BaseException:
            await stream.close()
            raise
        if circles:
            self.gate.belongs(writer)
        await self._serve_stream(stream, peer, circles)

    async def _serve_stream(self, stream: SecureStream, peer, circles: dict[str, str]) -> None:
        try:
            if circles:
                session = Session(self.host, stream, circles, live=True, emit=self.emit)
                self.sessions.add(session)
                try:
                    await session.run()
                finally:
                    self.sessions.discard(session)
            else:
                await self._answer_join(stream)
        except (ConnectionDropped, m.MessageError, SessionFailed) as exc:
            log.info("dropped %s: %s", peer, exc)
            self.emit(SessionEvent(f"{peer[0]}:{peer[1]}" if peer else "?", "lost", detail=str(exc)))
        except Exception:  # a bug must cost one connection, never the server
            log.exception("session with %s failed", peer)
        finally:
            await stream.close()

    async def _answer_join(self, stream: SecureStream) -> None:
        """A stranger may only redeem an invite."""
        kind, value = m.decode(await stream.receive(self.join_timeout, limit=MAX_JOIN_BYTES))
        if kind != m.JOIN:
            log.info("refused %s: not a member and not asking to join", stream.peer_address)
            await stream.send(m.encode_error("not a member of any circle here"))
            return
        try:
            self.host.refresh_all()  # an invite written a moment ago by another process
            welcome = self.host.admit_request(value, remote_static=stream.remote_static)
        except CircleError as exc:
            # The stranger gets one uniform answer: the reason would tell anyone
            # holding an old code whether this host is in that circle.
            log.info("refused a join request from %s: %s", stream.peer_address, exc)
            await stream.send(m.encode_error(JOIN_REFUSED))
            return
        await stream.send(m.encode_raw(m.WELCOME, welcome))

