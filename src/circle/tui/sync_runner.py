"""The app's sync, run on the app's own event loop (the Service is not thread-safe).

It listens for members (circle.sync.tcp.Server), keeps live sessions with known
peers and, optionally, ones found on the LAN, and polls the store for other
processes' writes. Everything it learns goes to the app as messages, through
the `post` callback; the sync layer's log lines become SyncProblem messages so
nothing is printed over the screen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from textual.message import Message

from circle.errors import CircleError
from circle.sync.session import Emit, SessionEvent
from circle.sync.tcp import Server, join, sync_once
from circle.tui.messages import ListeningChanged, SyncProblem, SyncProgress
from circle.tui.settings import Settings

POLL_EVERY = 0.5
QUIET_LOGGERS = ("circle.sync", "zeroconf")


class _ToMessages(logging.Handler):
    def __init__(self, post: Callable[[Message], object]) -> None:
        super().__init__(logging.INFO)
        self.post = post

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.post(SyncProblem(record.getMessage()))
        except Exception:  # logging must never take the app down
            pass


class SyncRunner:
    """`server_options` go to the Server (a test's clock, limits)."""

    def __init__(self, service, settings: Settings, post: Callable[[Message], object], **server_options) -> None:
        self.service, self.settings, self.post = service, settings, post
        self.static = service.profile.identity.dh_key
        self.server = Server(service, self.static, emit=self._emit, **server_options)
        self.clock = self.server.clock
        self.address: str | None = None
        self._started = False

    def _emit(self, event: SessionEvent) -> None:
        self.post(SyncProgress(event))

    async def run(self) -> None:
        """Serve until cancelled."""
        handler = _ToMessages(self.post)
        saved = []
        for name in QUIET_LOGGERS:
            logger = logging.getLogger(name)
            saved.append((logger, logger.propagate, logger.level))
            logger.addHandler(handler)
            logger.propagate = False
            logger.setLevel(logging.INFO if name == "circle.sync" else logging.WARNING)
        try:
            await self._start()
            if self._started:
                await self.server.run_forever()  # polls the store itself
            else:
                while True:
                    await self.clock.sleep(POLL_EVERY)
                    self.poll()
        finally:
            for logger, propagate, level in saved:
                logger.removeHandler(handler)
                logger.propagate, logger.level = propagate, level
            await self.close()

    async def _start(self) -> None:
        discovery = "off"
        listen = self.settings.listen
        if listen:
            host, _, port = listen.rpartition(":")
            try:
                bound_host, bound_port = await self.server.start(host or "127.0.0.1", int(port or 0))
                self.address = f"{bound_host}:{bound_port}"
                self._started = True
            except ValueError:
                self.post(SyncProblem(f"cannot listen on {listen}: the port is not a number"))
            except CircleError as exc:
                self.post(SyncProblem(str(exc)))
            if self._started and self.settings.discovery:
                try:
                    await self.server.enable_discovery(host or None, bound_port)
                    discovery = "on"
                except Exception as exc:  # no multicast here: sync still works by address
                    discovery = f"unavailable ({exc})"
        self.post(ListeningChanged(self.address, discovery))
        for address in self.settings.peers:
            self.dial(address)

    def poll(self) -> None:
        """Fold in other processes' writes (the server does this itself while it runs)."""
        try:
            self.service.refresh_all()
        except CircleError as exc:
            self.post(SyncProblem(f"could not read local changes: {exc}"))
        except Exception as exc:  # one bad poll must not end the app's sync
            logging.getLogger("circle.sync").error("reading local changes failed (will retry): %s",
                                                   f"{type(exc).__name__}: {exc}", exc_info=True)

    def dial(self, address: str) -> None:
        """Keep a live session with `address` (reconnects with backoff)."""
        self.server.dial(address)

    async def join(self, address: str, request: bytes) -> bytes:
        return await join(self.static, address, request)

    async def sync_once(self, address: str, emit: Emit) -> list[str]:
        return await sync_once(self.service, self.static, address, emit=emit)

    async def close(self) -> None:
        await self.server.close()
