"""One node: this device on the network, the same for `circle serve`, the app and the demo.

A `Node` wraps one profile (its `SyncHost`) and owns everything live about it:
listening (`sync.tcp.Server`), the peers it keeps dialling with backoff, LAN
discovery (announcing our blinded tags and dialling members it finds), the
serving loop that folds in other processes' writes, one-shot syncs, and joining
a circle through an invite. The host hands over its private key through
`static_key()`; front ends never see it. Everything periodic runs off the
injected clock; one failing iteration is logged and survived (sync/tcp.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from circle.crypto.invite_code import InviteCode
from circle.sync import tcp
from circle.sync.clock import REAL, Clock
from circle.sync.relay_join import RelayJoined, join_through_relays
from circle.sync.host import RelayOutcome, SyncHost
from circle.sync.session import Emit, SessionEvent
from circle.sync.tcp import Server, SyncError


log = logging.getLogger("circle.sync")

RELAY_EVERY = 30.0  # seconds between syncs with a circle's relays while serving
RELAY_TIMEOUT = 10.0  # at most this long blocked on one relay exchange step
PROBE_TIMEOUT = 5.0


async def _answers(address: str) -> bool:
    """Whether a TCP connection to `address` opens within PROBE_TIMEOUT."""
    host, _, port = address.rpartition(":")
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host.strip("[]"), int(port)), PROBE_TIMEOUT)
    except (OSError, ValueError, asyncio.TimeoutError):
        return False
    writer.close()
    return True


@dataclass(frozen=True)
class _Unreachable:
    circle_id: str
    address: str
    status: str


class JoinFailed(SyncError):
    """No member at any of the addresses let us in; the message names each failure."""


@dataclass(frozen=True)
class Joined:
    """A join that went through: the circle now stored, and the member who let us in."""

    circle_id: str
    address: str


def join_addresses(code: str, peer: str | None = None) -> list[str]:
    """The addresses to ask, in order, for the invite `code`: `peer` (if given), then
    the code's own address hints, each once. Raises InviteCodeError for a bad code;
    the list may be empty (the code carries no hint and no peer was given)."""
    hints = list(InviteCode.decode(code).hints)
    return ([peer] if peer else []) + [hint for hint in hints if hint != peer]


def join_relays(code: str) -> list[str]:
    """The relays the invite `code` names, to leave the request at if no member answers."""
    return list(InviteCode.decode(code).relays)


class Node:
    """This device's presence on the network. `server_options` go to the Server
    (limits, `poll_every`); `emit` receives every session's events."""

    def __init__(self, host: SyncHost, *, emit: Emit = lambda event: None, clock: Clock = REAL,
                 **server_options) -> None:
        self.host, self.emit, self.clock = host, emit, clock
        self._static = host.static_key()
        self.server = Server(host, self._static, emit=emit, clock=clock, **server_options)
        self.address: str | None = None  # HOST:PORT once listening
        self.relay_status: dict[tuple[str, str], str] = {}  # (circle, relay) -> last outcome

    # -- serving ---------------------------------------------------------------------

    async def listen(self, host: str, port: int) -> tuple[str, int]:
        """Accept members' sessions and join requests on `host`:`port` (0: any free
        port); returns the bound address. SyncError, in one line, if that cannot be done."""
        bound_host, bound_port = await self.server.start(host, port)
        self.address = f"{bound_host}:{bound_port}"
        return bound_host, bound_port

    async def announce(self, interface: str | None, port: int) -> str | None:
        """Advertise on the LAN and dial the members found there. Returns None, or why
        discovery is unavailable (no multicast here: sync by address still works)."""
        try:
            await self.server.enable_discovery(interface, port)
        except Exception as exc:  # zeroconf fails in many ways; none of them may stop serving
            return str(exc)
        return None

    def dial(self, address: str) -> None:
        """Keep a live session with the peer at `address`, reconnecting with backoff."""
        self.server.dial(address)

    def dial_known(self) -> list[str]:
        """Dial again every address this device reached members at before (with
        backoff, like any dialled peer); returns them."""
        known = self.host.known_addresses()
        for address in known:
            if address != self.address:
                self.dial(address)
        return known

    def add_peer(self, text: str) -> str:
        """Remember `text` (HOST:PORT) as a peer and dial it now; returns the address.
        InvalidInput, saying why, if it is not an address."""
        address = self.host.add_peer(text)
        self.dial(address)
        return address

    async def forget_peer(self, address: str) -> None:
        """Dial `address` no more, now and after a restart, and end its live session.
        NotFound if this device does not dial it."""
        self.host.forget_peer(address)
        if await self.server.undial(address):
            self.emit(SessionEvent(address, "closed", detail="forgotten"))

    async def sync_relays_forever(self, every: float = RELAY_EVERY,
                                  on_outcome: Callable[[RelayOutcome], object] = lambda outcome: None) -> None:
        """Until cancelled, every `every` seconds of the clock: sync each circle with
        the relays its log lists; `relay_status` holds the last word of each.

        The exchange itself runs on this loop (the host is not thread-safe) and
        blocks it while it lasts, bounded by RELAY_TIMEOUT; so each relay is first
        reached without blocking, and one that does not answer is left for the next
        round instead of freezing the app for a connect timeout. Never ends on an error."""
        while True:
            try:
                reachable = set()
                for address, circles in sorted(self.host.relay_addresses().items()):
                    if await _answers(address):
                        reachable.add(address)
                        continue
                    for circle_id in sorted(circles):
                        missed = _Unreachable(circle_id, address, "unreachable (will try again)")
                        self.relay_status[(circle_id, address)] = missed.status
                        on_outcome(missed)
                for outcome in self.host.sync_relays(only=reachable, timeout=RELAY_TIMEOUT) if reachable else ():
                    self.relay_status[(outcome.circle_id, outcome.address)] = outcome.status
                    on_outcome(outcome)
                    if outcome.status != "synced":
                        log.warning("relay %s: %s", outcome.address, outcome.status)
            except Exception:  # one failing round must not end the loop
                log.exception("syncing with relays failed; retrying in %s s", every)
            await self.clock.sleep(every)

    async def run_forever(self) -> None:
        """Until cancelled, every poll period: fold in other processes' writes (pushed
        to live peers) and keep the LAN advert current. Never ends on an error."""
        await self.server.run_forever()

    async def close(self) -> None:
        """Stop listening, dialling and discovery, and wait for them."""
        await self.server.close()

    # -- one-shot --------------------------------------------------------------------

    async def sync_once(self, address: str, *, emit: Emit | None = None) -> list[str]:
        """Sync every circle shared with `address` until both hold the same state;
        returns those circle ids. SyncError if the peer is unreachable or refuses."""
        return await tcp.sync_once(self.host, self._static, address, emit=emit or self.emit)

    async def join(self, code: str, addresses: list[str], *,
                   trying: Callable[[str], None] = lambda address: None) -> Joined:
        """Redeem `code` with the first member in `addresses` who lets us in, asking
        each in turn (`trying(address)` before each) and storing the circle their
        welcome carries. JoinFailed naming every failure if none did; the host's
        CircleError if the code or the welcome is refused."""
        request = self.host.join_request(code)
        failures = []
        for address in addresses:
            trying(address)
            try:
                welcome = await tcp.join(self._static, address, request)
            except SyncError as exc:
                failures.append(str(exc))
                continue
            return Joined(self.host.accept_welcome(code, welcome), address)
        raise JoinFailed("; ".join(failures) or "no member's address to join through")


    async def join_through_relays(self, code: str, relays: list[str], *, wait: float,
                                  waiting: Callable[[list[str]], None] = lambda relays: None) -> RelayJoined:
        """Leave the join request at `relays` and wait (on this node's clock) up to
        `wait` seconds for a member's answer: sync/relay_join.py."""
        return await join_through_relays(self.host, code, relays, clock=self.clock, wait=wait, waiting=waiting)
