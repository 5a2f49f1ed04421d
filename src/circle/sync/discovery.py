"""LAN discovery over mDNS (zeroconf), with blinded, rotating identifiers.

A serving device advertises `_circle._tcp` with a TXT record holding one tag
per circle it serves, each in its own `tN=` string (a DNS TXT string holds at
most 255 bytes, so one comma-joined string broke at 13 circles). A tag is an
HMAC, keyed from the circle's current epoch key, of the current 15-minute
window: members compute the same tag and find each other; a stranger sees
random-looking tags that change every window and cannot link them to a circle
or across windows. The tag count is padded with random decoys up to a bucket
(8, 16, 32) so it says little about how many circles a device serves; past
MAX_TAGS circles, a window advertises the MAX_TAGS whose tags sort first, which
is a different pseudo-random choice each window. The instance name is random
per run. Nothing here connects: it only reports addresses that match.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import socket
from collections.abc import Callable
from typing import Any

import ifaddr
from zeroconf import IPVersion, ServiceStateChange
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from circle.sync.clock import REAL, Clock
from circle.sync.logsafe import watch

log = logging.getLogger("circle.sync")

SERVICE_TYPE = "_circle._tcp.local."
WINDOW_SECONDS = 900
MAX_TAGS = 32  # 32 strings of 24 bytes: the TXT record stays well under one mDNS packet
TAG_BUCKETS = (8, 16, 32)
MAX_READ_TAGS = 64  # what we accept from others (older versions sent up to 64)
TAG_LENGTH = 20


def current_window(now: float) -> int:
    return int(now // WINDOW_SECONDS)


def discovery_tag(epoch_key: bytes, circle_id: str, window: int) -> str:
    key = hmac.new(epoch_key, f"circle/discovery/v1/{circle_id}".encode(), hashlib.sha256).digest()
    return hmac.new(key, window.to_bytes(8, "big"), hashlib.sha256).hexdigest()[:TAG_LENGTH]


def advertised_tags(tags: set[str]) -> list[str]:
    """What goes on the air for our real `tags`: at most MAX_TAGS of them, padded
    with random decoys to the next bucket size, in random order."""
    chosen = sorted(tags)[:MAX_TAGS]
    size = next((b for b in TAG_BUCKETS if b >= len(chosen)), MAX_TAGS)
    chosen += [secrets.token_hex(TAG_LENGTH // 2) for _ in range(size - len(chosen))]
    return sorted(chosen, key=lambda _: secrets.randbits(32))


def encode_tags(tags: list[str]) -> dict[str, str]:
    return {"v": "2", **{f"t{i}": tag for i, tag in enumerate(tags)}}


def decode_tags(properties: dict[bytes, bytes | None]) -> set[str]:
    """The tags in a peer's TXT record: `tN=` strings, or the older comma-joined `t=`."""
    found: list[str] = []
    for key, value in properties.items():
        if value is None or not key.startswith(b"t"):
            continue
        if key == b"t":
            found += [v.decode("ascii", "replace") for v in value.split(b",")]
        elif key[1:].isdigit():
            found.append(value.decode("ascii", "replace"))
    return set(found[:MAX_READ_TAGS]) - {""}


def interface_addresses(interface: str | None) -> list[bytes]:
    """The IPv4 addresses to advertise for a listen address: that address, or for
    0.0.0.0 / none every non-loopback interface address (loopback if there is none).
    Not gethostbyname(gethostname()): on stock Debian that is 127.0.1.1."""
    if interface and interface not in ("0.0.0.0", ""):
        return [socket.inet_aton(interface)]
    found = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str) and not ip.ip.startswith("127.") and not ip.ip.startswith("169.254."):
                found.append(socket.inet_aton(ip.ip))
    return sorted(set(found)) or [socket.inet_aton("127.0.0.1")]


class LanDiscovery:
    """Advertise our tags and report peers whose tags match ours.

    `tags(window)` gives our tags for a window; `on_peer(address)` is called
    (at most once per instance and window) for a matching peer that should be
    dialled: of two matching devices, the one with the smaller instance name dials.
    """

    def __init__(self, tags: Callable[[int], set[str]], on_peer: Callable[[str], None],
                 *, interface: str | None = None, clock: Clock = REAL) -> None:
        self.tags, self.on_peer = tags, on_peer
        self.interface, self.clock = interface, clock
        label = f"c-{secrets.token_hex(6)}"
        self.name = f"{label}.{SERVICE_TYPE}"
        self._server_name = f"{label}.local."
        self._zc: AsyncZeroconf | None = None
        self._browser: AsyncServiceBrowser | None = None
        self._info: AsyncServiceInfo | None = None
        self._port = 0
        self._window = -1
        self._advertised: frozenset[str] = frozenset()
        self._reported: set[tuple[str, int]] = set()
        self._tasks: set[asyncio.Task] = set()
        self.updates = 0  # how many times the advert was re-published (for tests and the soak)

    @property
    def window(self) -> int:
        return self._window

    async def start(self, port: int) -> None:
        interfaces = [self.interface] if self.interface and self.interface not in ("0.0.0.0", "") else None
        kwargs: dict[str, Any] = {"ip_version": IPVersion.V4Only}
        if interfaces:
            kwargs["interfaces"] = interfaces
        self._zc = AsyncZeroconf(**kwargs)
        self._port = port
        await self._advertise(current_window(self.clock.now()))
        self._browser = AsyncServiceBrowser(self._zc.zeroconf, SERVICE_TYPE, handlers=[self._changed])

    async def _advertise(self, window: int) -> None:
        assert self._zc is not None, "start() first"
        real = frozenset(self.tags(window))
        info = AsyncServiceInfo(SERVICE_TYPE, self.name, addresses=interface_addresses(self.interface),
                                port=self._port, properties=encode_tags(advertised_tags(set(real))),
                                server=self._server_name)
        if self._info is None:
            await self._zc.async_register_service(info)
        else:
            # zeroconf returns the rebroadcast as a task: keep it, so its failure is logged
            broadcast = await self._zc.async_update_service(info)
            self._keep(broadcast, "re-advertising on the LAN")
            self.updates += 1
        self._info, self._window, self._advertised = info, window, real

    async def tick(self) -> None:
        """Call periodically: re-advertise when the window or our set of tags changes."""
        if self._zc is None:
            return
        window = current_window(self.clock.now())
        if window != self._window:
            self._reported.clear()
            await self._advertise(window)
        elif frozenset(self.tags(window)) != self._advertised:
            await self._advertise(window)

    def _keep(self, awaitable, what: str) -> None:
        task = asyncio.ensure_future(awaitable)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        watch(task, log, what)

    def _changed(self, zeroconf, service_type: str, name: str, state_change: ServiceStateChange) -> None:
        if state_change in (ServiceStateChange.Added, ServiceStateChange.Updated) and name != self.name:
            self._keep(self._inspect(name), f"looking at LAN peer {name}")

    async def _inspect(self, name: str) -> None:
        assert self._zc is not None, "start() first"
        info = AsyncServiceInfo(SERVICE_TYPE, name)
        if not await info.async_request(self._zc.zeroconf, 3000):
            return
        theirs = decode_tags(info.properties or {})
        window = current_window(self.clock.now())
        mine = self.tags(window) | self.tags(window - 1)
        if not theirs & mine or self.name > name:
            return
        for address in info.parsed_addresses(IPVersion.V4Only):
            key = (f"{address}:{info.port}", window)
            if key not in self._reported:
                self._reported.add(key)
                self.on_peer(f"{address}:{info.port}")

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._browser is not None:
            await self._browser.async_cancel()
        if self._zc is not None:
            await self._zc.async_unregister_all_services()
            await self._zc.async_close()
