"""A sync session with one peer: a small state machine over a SecureStream.

Per shared circle, both sides run the same steps (docs/protocol.md):
    send STATE (digest, version vector, action ids)
    on the peer's STATE: send OFFER (items) and, if anything is missing, BUNDLE
    on the peer's OFFER / BUNDLE: apply; once both directions are done, send SYNCED
    on the peer's SYNCED: equal digests mean both hold the same state
A one-shot session ends when every circle converged. A live session stays:
whatever the host stores later (own writes, other peers' bundles) is pushed
as it happens, and pings keep a quiet connection alive.

The session knows nothing of SQLite or Automerge: it talks to a SyncHost (sync/host.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from circle.errors import CircleError
from circle.sync import messages as m
from circle.sync.framing import ConnectionDropped, SecureStream
from circle.sync.host import SyncHost

log = logging.getLogger("circle.sync")

PING_EVERY = 20.0
MAX_ROUNDS = 4


@dataclass(frozen=True)
class SessionEvent:
    """What the UI shows of a session; a newer event replaces an older one."""

    peer: str
    state: str  # "connecting", "syncing", "live", "lost", "closed"
    circle_id: str | None = None
    items_expected: int = 0
    items_done: int = 0
    bytes_expected: int = 0
    bytes_done: int = 0
    last_contact: float = 0.0
    detail: str = ""


Emit = Callable[[SessionEvent], None]


class SessionFailed(Exception):
    """The session ended without converging; the message says why."""


@dataclass
class _CircleProgress:
    device: str
    peer: m.State | None = None
    offer_sent: bool = False
    offer: m.Offer | None = None
    received: bool = False
    my_digest: bytes | None = None
    peer_digest: bytes | None = None
    rounds: int = 0
    converged: bool = False
    bytes_done: int = 0
    items_done: int = 0
    extra: dict = field(default_factory=dict)


class Session:
    def __init__(self, host: SyncHost, stream: SecureStream, circles: dict[str, str], *, live: bool,
                 emit: Emit = lambda event: None) -> None:
        self.host, self.stream, self.live, self.emit = host, stream, live, emit
        self.progress = {cid: _CircleProgress(device) for cid, device in circles.items()}
        self.last_contact = time.time()
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._converged = asyncio.Event()
        self._receiving: str | None = None
        stream.on_bytes = self._count_bytes

    # -- events --------------------------------------------------------------------

    def _event(self, state: str, circle_id: str | None = None, detail: str = "") -> None:
        progress = self.progress.get(circle_id) if circle_id else None
        offer = progress.offer if progress else None
        self.emit(SessionEvent(
            self.stream.peer_address, state, circle_id,
            items_expected=offer.items if offer else 0,
            items_done=progress.items_done if progress else 0,
            bytes_expected=offer.bytes if offer else 0,
            bytes_done=progress.bytes_done if progress else 0,
            last_contact=self.last_contact, detail=detail,
        ))

    def _count_bytes(self, count: int) -> None:
        self.last_contact = time.time()
        if self._receiving and self._receiving in self.progress:
            self.progress[self._receiving].bytes_done += count

    # -- running -------------------------------------------------------------------

    async def run(self) -> None:
        """Returns when converged (one-shot) or when the connection ends (live)."""
        unsubscribe = self.host.subscribe(self._on_local_change)
        tasks: list[asyncio.Task[Any]] = [asyncio.create_task(self._read_loop())]
        if self.live:
            tasks += [asyncio.create_task(self._push_loop()), asyncio.create_task(self._ping_loop())]
        else:
            tasks.append(asyncio.create_task(self._converged.wait()))
        try:
            for circle_id in self.progress:
                await self._send_state(circle_id)
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # re-raise what ended the session
        except (ConnectionDropped, m.MessageError, CircleError) as exc:
            # CircleError: the host refused (e.g. the peer was removed meanwhile).
            log.info("session with %s lost: %s", self.stream.peer_address, exc)
            self._event("lost", detail=str(exc))
            if not self.live:
                raise SessionFailed(str(exc)) from exc
        finally:
            unsubscribe()
            for task in tasks:
                task.cancel()
            # Closed before waiting for the tasks: a read that a message completed just as
            # it was cancelled swallows the cancellation (asyncio.wait_for before 3.12), and
            # only the end of the stream stops it; a live peer's pings never would.
            await self.stream.close()
            # Collect every task's end: a loop that failed after the first one ended
            # would otherwise surface only as "Task exception was never retrieved".
            await asyncio.gather(*tasks, return_exceptions=True)
        self._event("closed")

    async def _send_state(self, circle_id: str) -> None:
        progress = self.progress[circle_id]
        progress.offer_sent = progress.received = False
        progress.offer, progress.my_digest, progress.peer_digest = None, None, None
        progress.bytes_done = progress.items_done = 0
        await self.stream.send(m.encode_state(self.host.sync_state(circle_id)))
        self._event("syncing", circle_id)

    async def _read_loop(self) -> None:
        while True:
            kind, value = m.decode(await self.stream.receive())
            self.last_contact = time.time()
            if kind == m.STATE:
                await self._on_state(value)
            elif kind == m.OFFER:
                self._on_offer(value)
                await self._maybe_synced(value.circle_id)
            elif kind == m.BUNDLE:
                await self._on_bundle(value)
            elif kind == m.SYNCED:
                await self._on_synced(value)
            elif kind == m.JOIN:
                await self._answer_join(value)
                return
            elif kind == m.ERROR:
                raise ConnectionDropped(f"peer reported: {value}")
            elif kind != m.PING:
                raise m.MessageError("unexpected message in a sync session")

    async def _answer_join(self, request: bytes) -> None:
        """A device the log already admitted asks again (its welcome was lost):
        it gets the circle again, and the session ends."""
        try:
            welcome = self.host.admit_request(request, remote_static=self.stream.remote_static)
        except CircleError as exc:
            await self.stream.send(m.encode_error(str(exc)))
            raise ConnectionDropped(f"dropped peer: {exc}") from exc
        await self.stream.send(m.encode_raw(m.WELCOME, welcome))

    def _circle(self, circle_id: str) -> _CircleProgress:
        progress = self.progress.get(circle_id)
        if progress is None:
            raise m.MessageError("message for a circle this session does not share")
        return progress

    async def _on_state(self, state: m.State) -> None:
        progress = self._circle(state.circle_id)
        progress.peer = state
        delta = self.host.delta_for(state.circle_id, progress.device, state)
        payload, items = delta if delta else (b"", 0)
        after = self.host.sync_state(state.circle_id)  # before any send, as in _push_loop
        await self.stream.send(m.encode_offer(m.Offer(state.circle_id, items, len(payload))))
        if payload:
            await self.stream.send(m.encode_raw(m.BUNDLE, payload))
            progress.peer = after
        progress.offer_sent = True
        await self._maybe_synced(state.circle_id)

    def _on_offer(self, offer: m.Offer) -> None:
        progress = self._circle(offer.circle_id)
        progress.offer = offer
        if offer.items == 0:
            progress.received = True
        else:
            self._receiving = offer.circle_id
        self._event("syncing", offer.circle_id)

    async def _on_bundle(self, data: bytes) -> None:
        try:
            result = self.host.receive_bundle(data)
        except CircleError as exc:
            await self.stream.send(m.encode_error(str(exc)))
            raise ConnectionDropped(f"dropped peer: {exc}") from exc
        for note in result.notes:
            log.warning("from %s: %s", self.stream.peer_address, note)
        progress = self._circle(result.circle_id)
        progress.items_done += result.changes_applied + result.actions_added
        if progress.peer is not None:  # the sender holds what it sent: do not echo it back
            vector = dict(progress.peer.vector)
            for actor, seq in result.sender_vector.items():
                vector[actor] = max(vector.get(actor, 0), seq)
            progress.peer = m.State(progress.peer.circle_id, progress.peer.digest, vector,
                                    progress.peer.action_ids | result.sender_actions)
        self._receiving = None
        if not progress.received:
            progress.received = True
            await self._maybe_synced(result.circle_id)
        elif self.live:
            self._event("live", result.circle_id)

    async def _maybe_synced(self, circle_id: str) -> None:
        progress = self.progress[circle_id]
        if progress.offer_sent and progress.received and progress.my_digest is None:
            progress.my_digest = self.host.sync_state(circle_id).digest
            await self.stream.send(m.encode_synced(m.Synced(circle_id, progress.my_digest)))
            await self._check(circle_id)

    async def _on_synced(self, synced: m.Synced) -> None:
        progress = self._circle(synced.circle_id)
        progress.peer_digest = synced.digest
        if progress.peer is not None:
            # The peer's digest now. Left at the one of its STATE, it would differ from ours
            # once we applied the peer's bundle, and the host, taking the peer for a restored
            # device, would push our signed heads back for nothing as the circle converges.
            progress.peer = replace(progress.peer, digest=synced.digest)
        await self._check(synced.circle_id)

    async def _check(self, circle_id: str) -> None:
        progress = self.progress[circle_id]
        if progress.my_digest is None or progress.peer_digest is None:
            return
        if progress.my_digest == progress.peer_digest or self.host.leave_delivered(circle_id):
            self._mark_converged(circle_id)
            self.host.note_peer(circle_id, progress.device, self.stream.peer_address, dialled=self.stream.initiator)
            self._event("live" if self.live else "synced", circle_id)
            if all(p.converged for p in self.progress.values()):
                self._converged.set()
            return
        progress.rounds += 1
        if progress.rounds >= MAX_ROUNDS:
            if self.live:
                self._mark_converged(circle_id)
                self._event("live", circle_id, detail="states differ; will retry on the next change")
                return
            raise ConnectionDropped("the two devices did not reach the same state")
        await self._send_state(circle_id)

    # -- live ----------------------------------------------------------------------

    def _mark_converged(self, circle_id: str) -> None:
        self.progress[circle_id].converged = True
        if circle_id in self._dirty:
            # A write stored after our SYNCED went out is in neither digest, so the
            # exchange did not carry it: it waited in _dirty for this moment.
            self._wake.set()

    def _on_local_change(self, circle_id: str) -> None:
        if circle_id in self.progress:
            self._dirty.add(circle_id)
            self._wake.set()

    async def _push_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            # A circle still in its first exchange stays dirty; converging wakes this loop.
            # One marked dirty during a send below sets the event again: no wake-up is lost.
            for circle_id in [c for c in self._dirty if self.progress[c].converged]:
                self._dirty.discard(circle_id)
                progress = self.progress[circle_id]
                delta = self.host.delta_for(circle_id, progress.device, progress.peer)
                if delta:
                    # What the peer will hold once this bundle is in, taken before sending:
                    # a write stored while the send waits on the socket is not in it, and
                    # must stay missing from the peer's state to go in the next push.
                    after = self.host.sync_state(circle_id)
                    await self.stream.send(m.encode_raw(m.BUNDLE, delta[0]))
                    progress.peer = after

    async def _ping_loop(self) -> None:
        while True:
            await asyncio.sleep(PING_EVERY)
            await self.stream.send(m.encode_raw(m.PING))
