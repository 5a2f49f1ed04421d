"""Exchanging a circle with other devices as sealed bundles.

Transport-agnostic: these methods take and return bytes. The sync layer moves
the bytes (live sessions, mailboxes); tests may hand them over in-process.
Everything received passes service/verify.py before it touches the store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from circle.crypto.identity import DeviceIdentity
from circle.crypto.lockbox import LockboxError, lockbox_info, open_lockbox, seal_to
from circle.domain.change_header import read_change_header
from circle.domain.document import to_millis
from circle.domain.governance.resolver import resolve
from circle.errors import NotAllowed
from circle.service.content import Content
from circle.service.core import Clock
from circle.service.departure import is_member_device, leave_to_deliver, mark_delivered, may_send
from circle.service.opened import OpenCircle
from circle.service.repository import CircleRepository
from circle.service.restore import (
    catch_up,
    forked_from,
    lower_vector,
    note_clashes,
    offered_vector,
    refusal_notes,
    split_clashes,
)
from circle.service.verify import (
    BundleRejected,
    MissingKey,
    authenticated_changes,
    check_epoch,
    check_ownership,
    decode_actions,
    open_content,
    read_bundle_header,
    verified_heads,
)
from circle.sync.bundle import DELTA, BundleContent, BundleHeader, seal_bundle
from circle.sync.discovery import discovery_tag
from circle.sync.messages import State

PEER = "peer"  # private records: where and when we last synced with a device
DIALLED = "dialled"  # private records: addresses we reached a member at, and when
MAX_KNOWN = 20  # addresses dialled again, the most recently reached first


@dataclass(frozen=True)
class PeerInfo:
    device_id: str
    member_id: str
    name: str
    address: str
    last_contact: int  # Unix ms
    active: bool


@dataclass(frozen=True)
class Received:
    circle_id: str
    changes_applied: int
    actions_added: int
    changes_dropped: int
    sender_vector: dict[bytes, int]  # newest seq per actor the sender shipped
    sender_actions: frozenset[str]
    notes: tuple[str, ...] = ()  # one line each: changes refused or set aside
    # Changes that passed authentication but wait for dependencies not here yet:
    # the bundle must be read again once those arrive.
    held_back: int = 0


class Exchange:
    def __init__(self, repo: CircleRepository, content: Content, identity: DeviceIdentity, clock: Clock,
                 after_new_actions: Callable[[str], None]) -> None:
        self.repo, self.content, self.identity, self.clock = repo, content, identity, clock
        # What this device does when others' governance actions arrive (service/__init__.py).
        self.after_new_actions = after_new_actions

    # -- sending ------------------------------------------------------------------

    def seal_for(self, circle: OpenCircle, device_id: str | None, kind: int, content: BundleContent) -> bytes:
        """Seal with our write key; addressed bundles carry that key in a lockbox."""
        state = circle.state
        epoch_id = state.write_epoch
        if leave_to_deliver(self.repo, circle) is not None:
            # We hold the newest key we were given, so the circle's write key
            # now passes us by; the others still open this one.
            epoch_id = next((e for e in reversed(state.epoch_order) if e in circle.keys), None)
        if epoch_id is None or epoch_id not in circle.keys:
            raise NotAllowed("this device holds no current key for the circle")
        lockbox = b""
        if device_id is not None:
            device = state.devices.get(device_id)
            if device is None or not device.active or state.role_of(device.member) is None:
                raise NotAllowed("that device is not a member of this circle")
            lockbox = seal_to(device.dh_pub, circle.keys[epoch_id], lockbox_info(circle.id, epoch_id, device_id))
        return seal_bundle(circle.keys[epoch_id], circle.id, epoch_id, kind, content, lockbox)

    def delta_for(self, circle_id: str, device_id: str | None, peer: State | None) -> tuple[bytes, int] | None:
        """What a device lacks, as a bundle sealed for it, and how many items it
        holds; None if it lacks nothing. With the peer's `State` (version vector
        and action ids) only the missing changes and actions go; without it,
        everything does."""
        circle = self.repo.open(circle_id)
        if not may_send(self.repo, circle):
            raise NotAllowed("you are no longer a member of this circle")
        leaving = leave_to_deliver(self.repo, circle)
        if leaving is not None and peer is not None and leaving in peer.action_ids:
            mark_delivered(self.repo, circle_id)
            return None
        if device_id is not None and not is_member_device(circle.state, device_id):
            return None  # that device has left: it gets nothing written since
        if peer is None:
            changes = circle.document.changes_since([])
            actions = list(circle.actions.values())
        else:
            changes = circle.changes_missing_from(lower_vector(peer.vector, circle.clashes))
            actions = [a for a in circle.actions.values() if a.id not in peer.action_ids]
            if not changes and not actions and not forked_from(circle, peer):
                return None
        content = BundleContent(
            actions=tuple(a.wire for a in actions),
            changes=tuple(changes),
            heads=tuple(h.encode() for h in circle.heads.values()),
        )
        return self.seal_for(circle, device_id, DELTA, content), max(1, len(changes) + len(actions))

    def bundle_for(self, circle_id: str, device_id: str | None = None, peer: State | None = None) -> bytes | None:
        delta = self.delta_for(circle_id, device_id, peer)
        return delta[0] if delta else None

    def leave_delivered(self, circle_id: str) -> bool:
        """We left this circle and a peer now holds our leave: nothing more to sync."""
        circle = self.repo.open(circle_id)
        return not may_send(self.repo, circle)

    def sync_state(self, circle_id: str) -> State:
        circle = self.repo.open(circle_id)
        return State(circle_id, circle.digest(), offered_vector(self.repo, circle), frozenset(circle.actions))

    def note_peer(self, circle_id: str, device_id: str, address: str, *, dialled: bool = False) -> None:
        """Remember where and when we last synced with a device (sealed: addresses are
        personal data); with `dialled`, also that `address` reaches a member."""
        now = to_millis(self.clock())
        self.repo.put_private_record(circle_id, PEER, device_id, {"address": address, "last_contact": now})
        if dialled:
            self.repo.put_private_record(circle_id, DIALLED, self.repo.blind_id(address),
                                         {"address": address, "last_contact": now})

    def reached_addresses(self) -> list[str]:
        """Addresses this device reached a member of a circle it still syncs at, the
        most recently reached first (at most MAX_KNOWN), for `serve` and the app to
        dial again after a restart (service/peer_book.py adds and forgets some)."""
        newest: dict[str, int] = {}
        for circle_id in self.repo.ids():
            if not may_send(self.repo, self.repo.open(circle_id)):
                continue
            for _, record in self.repo.private_records(circle_id, DIALLED):
                address = record["address"]
                newest[address] = max(newest.get(address, 0), record["last_contact"])
        return sorted(newest, key=lambda a: (-newest[a], a))[:MAX_KNOWN]

    def peers(self, circle_id: str) -> list[PeerInfo]:
        circle = self.repo.open(circle_id)
        names = self.content.member_names(circle_id)
        out = []
        for device_id, record in self.repo.private_records(circle_id, PEER):
            device = circle.state.devices.get(device_id)
            member = device.member if device else ""
            active = bool(device and device.active and circle.state.role_of(member))
            out.append(PeerInfo(device_id, member, names.get(member, ""), record["address"],
                                record["last_contact"], active))
        return sorted(out, key=lambda p: -p.last_contact)

    def discovery_tags(self, window: int) -> set[str]:
        """Our blinded LAN tags for a time window, one per circle we can serve."""
        tags = set()
        for circle_id in self.repo.ids():
            circle = self.repo.open(circle_id)
            epoch = circle.state.write_epoch
            if circle.is_active_member() and epoch in circle.keys:
                tags.add(discovery_tag(circle.keys[epoch], circle_id, window))
        return tags

    def shared_circles(self, remote_static: bytes) -> dict[str, str]:
        """circle id -> device id, for each circle where both this device and the
        device owning X25519 key `remote_static` are active members."""
        out = {}
        for circle_id in self.repo.ids():
            circle = self.repo.open(circle_id)
            if not may_send(self.repo, circle):
                continue
            for device in circle.state.active_devices():
                if device.dh_pub == remote_static and device.id != self.identity.device_id:
                    out[circle_id] = device.id
        return out

    # -- receiving -------------------------------------------------------------------

    def receive_bundle(self, data: bytes) -> Received:
        header = read_bundle_header(data)
        if header.kind != DELTA:
            raise BundleRejected("bundle refused: expected a delta bundle")
        with self.repo.writing(header.circle_id) as circle:
            key = circle.keys.get(header.epoch_id) or self.key_from_lockbox(header)
            result = self._ingest(circle, open_content(key, data), header.epoch_id, key)
        if result.actions_added:
            self.after_new_actions(header.circle_id)
        return result

    def key_from_lockbox(self, header: BundleHeader) -> bytes:
        if not header.lockbox:
            raise MissingKey("bundle refused: sealed with a key this device does not hold")
        identity = self.identity
        try:
            return open_lockbox(identity.dh_key, header.lockbox,
                                lockbox_info(header.circle_id, header.epoch_id, identity.device_id))
        except LockboxError:
            raise BundleRejected("bundle refused: its lockbox is not for this device") from None

    def _ingest(self, circle: OpenCircle, content: BundleContent, epoch_id: str, key: bytes) -> Received:
        actions = decode_actions(content)
        fresh = [a for a in actions if a.id not in circle.actions]
        state = resolve(circle.id, [*circle.actions.values(), *fresh]) if fresh else circle.state
        check_epoch(state, self.identity, epoch_id, key)
        heads = verified_heads(state, circle.id, content.heads)
        accepted, dropped, vector = authenticated_changes(state, heads, content.changes)
        accepted, notes = catch_up(self.repo, circle, heads, accepted)
        accepted, clashing = split_clashes(circle, accepted)
        notes += refusal_notes(circle, clashing)
        vector = lower_vector(vector, note_clashes(circle, clashing))
        authenticated = {read_change_header(c).hash for c in accepted}
        accepted = check_ownership(circle, state, accepted)
        before = circle.document.heads()
        circle.document.apply_changes(accepted)
        applied = circle.document.changes_since(before)
        # Only heads whose change is now in the document: a change Automerge is
        # still holding back (missing dependencies) is not ours to vouch for yet.
        applied_hashes = {read_change_header(c).hash for c in applied}
        kept = [h for h in heads.values() if h.hash in applied_hashes and circle.keep_head(h)]
        if applied or fresh or kept:
            self.repo.persist(circle, changes=applied, actions=fresh, heads=kept)
        held_back = len(authenticated - circle.known_hashes()) if authenticated else 0
        return Received(circle.id, len(applied), len(fresh), dropped, vector,
                        frozenset(a.id for a in actions), tuple(notes), held_back)
