"""The app's sync, run on the app's own event loop (the Service is not thread-safe).

It runs the device's `circle.sync.node.Node`: listening for members, live
sessions with known peers and, optionally, ones found on the LAN, and polling
the store for other processes' writes. Everything it learns goes to the app as
messages, through the `post` callback; the sync layer's log lines become
SyncProblem messages so nothing is printed over the screen.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from textual.message import Message

from circle.errors import CircleError
from circle.sync.node import Node
from circle.sync.session import SessionEvent
from circle.tui.messages import ListeningChanged, RelayChanged, SyncProblem, SyncProgress
from circle.tui.settings import Settings

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
    """The app's `Node` (`self.node`: dial, join, sync_once) and the messages it posts.
    `server_options` go to the node (a test's clock, limits)."""

    def __init__(self, service, settings: Settings, post: Callable[[Message], object], **server_options) -> None:
        self.service, self.settings, self.post = service, settings, post
        self.node = Node(service, emit=self._emit, **server_options)
        self.address: str | None = None

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
            relays = asyncio.create_task(self.node.sync_relays_forever(
                on_outcome=lambda o: self.post(RelayChanged(o.circle_id, o.address, o.status))))
            try:
                await self.node.run_forever()  # polls the store, listening or not
            finally:
                relays.cancel()
        finally:
            for logger, propagate, level in saved:
                logger.removeHandler(handler)
                logger.propagate, logger.level = propagate, level
            await self.node.close()

    async def _start(self) -> None:
        discovery = "off"
        listen = self.settings.listen
        if listen:
            host, _, port = listen.rpartition(":")
            try:
                bound_host, bound_port = await self.node.listen(host or "127.0.0.1", int(port or 0))
                self.address = f"{bound_host}:{bound_port}"
            except ValueError:
                self.post(SyncProblem(f"cannot listen on {listen}: the port is not a number"))
            except CircleError as exc:
                self.post(SyncProblem(str(exc)))
            if self.address and self.settings.discovery:
                problem = await self.node.announce(host or None, bound_port)
                discovery = "on" if problem is None else f"unavailable ({problem})"
        self.post(ListeningChanged(self.address, discovery))
        for address in self.settings.peers:
            self.node.dial(address)
        self.node.dial_known()  # the members this device reached before
