"""LAN discovery over mDNS (zeroconf), with blinded, rotating identifiers.

A serving device advertises `_circle._tcp` with a TXT record listing one tag
per circle it serves. A tag is an HMAC, keyed from the circle's current epoch
key, of the current 15-minute window: members compute the same tag and find
each other; a stranger sees random-looking tags that change every window and
cannot link them to a circle or across windows. The instance name is random
per run. Nothing here connects: it only reports addresses that match.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import socket
import time
from collections.abc import Callable

from zeroconf import IPVersion, ServiceStateChange
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

log = logging.getLogger("circle.sync")

SERVICE_TYPE = "_circle._tcp.local."
WINDOW_SECONDS = 900
MAX_TAGS = 64


def current_window(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // WINDOW_SECONDS)


def discovery_tag(epoch_key: bytes, circle_id: str, window: int) -> str:
    key = hmac.new(epoch_key, f"circle/discovery/v1/{circle_id}".encode(), hashlib.sha256).digest()
    return hmac.new(key, window.to_bytes(8, "big"), hashlib.sha256).hexdigest()[:20]


class LanDiscovery:
    """Advertise our tags and report peers whose tags match ours.

    `tags(window)` gives our tags for a window; `on_peer(address)` is called
    (at most once per instance and window) for a matching peer that should be
    dialled: of two matching devices, the one with the smaller instance name dials.
    """

    def __init__(self, tags: Callable[[int], set[str]], on_peer: Callable[[str], None],
                 *, interface: str | None = None) -> None:
        self.tags, self.on_peer = tags, on_peer
        self.interface = interface
        self.name = f"c-{secrets.token_hex(6)}.{SERVICE_TYPE}"
        self._zc: AsyncZeroconf | None = None
        self._browser: AsyncServiceBrowser | None = None
        self._info: AsyncServiceInfo | None = None
        self._port = 0
        self._window = -1
        self._reported: set[tuple[str, int]] = set()

    async def start(self, port: int) -> None:
        interfaces = [self.interface] if self.interface and self.interface not in ("0.0.0.0", "") else None
        kwargs = {"ip_version": IPVersion.V4Only}
        if interfaces:
            kwargs["interfaces"] = interfaces
        self._zc = AsyncZeroconf(**kwargs)
        self._port = port
        await self._advertise()
        self._browser = AsyncServiceBrowser(self._zc.zeroconf, SERVICE_TYPE, handlers=[self._changed])

    def _address(self) -> bytes:
        if self.interface and self.interface not in ("0.0.0.0", ""):
            return socket.inet_aton(self.interface)
        return socket.inet_aton(socket.gethostbyname(socket.gethostname()))

    async def _advertise(self) -> None:
        window = current_window()
        tags = sorted(self.tags(window))[:MAX_TAGS]
        info = AsyncServiceInfo(SERVICE_TYPE, self.name, addresses=[self._address()], port=self._port,
                                properties={"v": "1", "t": ",".join(tags)})
        if self._info is None:
            await self._zc.async_register_service(info)
        else:
            await self._zc.async_update_service(info)
        self._info, self._window = info, window

    async def tick(self) -> None:
        """Call periodically: re-advertise when the window (or our circles) changes."""
        if self._zc is not None and (current_window() != self._window):
            self._reported.clear()
            await self._advertise()

    def _changed(self, zeroconf, service_type: str, name: str, state_change: ServiceStateChange) -> None:
        if state_change in (ServiceStateChange.Added, ServiceStateChange.Updated) and name != self.name:
            asyncio.ensure_future(self._inspect(name))

    async def _inspect(self, name: str) -> None:
        info = AsyncServiceInfo(SERVICE_TYPE, name)
        if not await info.async_request(self._zc.zeroconf, 3000):
            return
        raw = (info.properties or {}).get(b"t") or b""
        try:
            theirs = set(raw.decode("ascii").split(",")[:MAX_TAGS]) - {""}
        except UnicodeDecodeError:
            return
        window = current_window()
        mine = self.tags(window) | self.tags(window - 1)
        if not theirs & mine or self.name > name:
            return
        for address in info.parsed_addresses(IPVersion.V4Only):
            key = (f"{address}:{info.port}", window)
            if key not in self._reported:
                self._reported.add(key)
                self.on_peer(f"{address}:{info.port}")

    async def close(self) -> None:
        if self._browser is not None:
            await self._browser.async_cancel()
        if self._zc is not None:
            await self._zc.async_unregister_all_services()
            await self._zc.async_close()
