"""Exchanging a circle with other devices as sealed bundles, and joining one.

Transport-agnostic: these methods take and return bytes. The sync layer moves
the bytes; tests may hand them over in-process. Everything received is checked
before it touches the store:
- the bundle must open with an epoch key we hold (so it came from the circle);
- every governance action must carry a valid signature (the resolver then
  decides whether it counts);
- every change must name an actor bound to an admitted device, and be reachable
  from a head that device signed in the same bundle; otherwise the whole bundle
  is refused, whoever forwarded it;
- changes of a departed device past its cutoff are dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from circle.crypto.identity import DevicePublic, device_id_of
from circle.crypto.invite_code import InviteCode, InviteCodeError, invite_key
from circle.crypto.lockbox import LockboxError, lockbox_info, open_lockbox, seal_to
from circle.domain.change_header import ChangeFormatError, ChangeHeader, read_change_header
from circle.domain.change_ops import read_ops
from circle.domain.ownership import OwnershipError
from circle.domain import views
from circle.domain.document import CircleDocument
from circle.domain.governance.actions import Action, ActionError, admit_proof_message, canonical, decode_action
from circle.domain.governance.keyring import admission_lockboxes, epoch_keys
from circle.domain.governance.resolver import resolve
from circle.domain.governance.state import GovernanceState
from circle.errors import CircleError, InvalidInput, NotAllowed
from circle.service.departure import is_member_device, leave_to_deliver, mark_delivered, may_send
from circle.service.membership import MembershipMixin
from circle.service.opened import OpenCircle
from circle.service.restore import (
    catch_up,
    forked_from,
    lower_vector,
    note_clashes,
    offered_vector,
    refusal_notes,
    split_clashes,
)
from circle.sync.bundle import (
    DELTA,
    WELCOME,
    BundleContent,
    BundleError,
    BundleHeader,
    open_bundle,
    read_header,
    seal_bundle,
)
from circle.sync.discovery import discovery_tag
from circle.domain.heads import HeadError, SignedHead
from circle.sync.messages import State

MAX_REQUEST_BYTES = 4096


@dataclass(frozen=True)
class PeerInfo:
    device_id: str
    member_id: str
    name: str
    address: str
    last_contact: int  # Unix ms
    active: bool


class BundleRejected(CircleError):
    """A bundle from a peer failed a check; nothing from it was stored."""


class MissingKey(BundleRejected):
    """The bundle is sealed with an epoch key this device does not hold (yet)."""


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


def _causal_order(headers: dict[bytes, tuple[ChangeHeader, bytes]]):
    """The bundle's changes with each after the ones it depends on (ties by hash)."""
    waiting = {h: sum(1 for d in header.deps if d in headers) for h, (header, _) in headers.items()}
    dependents: dict[bytes, list[bytes]] = {}
    for change_hash, (header, _) in headers.items():
        for dep in header.deps:
            if dep in headers:
                dependents.setdefault(dep, []).append(change_hash)
    ready = sorted(h for h, count in waiting.items() if count == 0)
    while ready:
        current = ready.pop(0)
        yield current, headers[current]
        for child in dependents.get(current, ()):
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
        ready.sort()


def _check_ownership(circle: OpenCircle, state: GovernanceState, accepted: list[bytes]) -> list[bytes]:
    """Refuse the bundle if any change writes where its author may not (shadowing).

    Returns the changes that can be judged now. A change whose dependencies are
    neither here nor earlier in the bundle cannot be (the objects it writes to
    are not known yet): it is left out, and arrives again with what it needs.
    """
    bindings = state.actor_bindings()
    organizers = {m.id for m in state.organizers()}
    registry = circle.registry(bindings.get)
    known = circle.known_hashes()
    ready = []
    for raw in accepted:
        header = read_change_header(raw)
        if header.hash in known:
            continue  # already applied here: it passed these checks on arrival
        if any(dep not in known for dep in header.deps):
            continue
        try:
            actor, ops = read_ops(raw)
            registry.check(ops, bindings[actor], bindings.get, organizers)
        except (ChangeFormatError, OwnershipError) as exc:
            raise BundleRejected(f"bundle refused: a change {exc}") from None
        known.add(header.hash)
        ready.append(raw)
    return ready


def _verified_heads(state: GovernanceState, circle_id: str, raw_heads) -> dict[bytes, SignedHead]:
    devices_by_actor = state.device_by_actor()
    heads: dict[bytes, SignedHead] = {}
    for raw in raw_heads:
        try:
            head = SignedHead.decode(raw)
        except HeadError as exc:
            raise BundleRejected(f"bundle refused: {exc}") from None
        device = devices_by_actor.get(head.actor)
        if device is None:
            raise BundleRejected("bundle refused: a signed head names an actor of no admitted device")
        if not head.verify(circle_id, DevicePublic(device.sign_pub, device.dh_pub)):
            raise BundleRejected("bundle refused: a signed head does not verify")
        if head.actor not in heads or heads[head.actor].seq < head.seq:
            heads[head.actor] = head
    return heads


def _authenticated_changes(
    state: GovernanceState, heads: dict[bytes, SignedHead], changes: tuple[bytes, ...]
) -> tuple[list[bytes], int, dict[bytes, int]]:
    """The changes to apply, how many were dropped as past a departure cutoff,
    and the newest seq per actor among all the changes (the sender holds those).

    Raises BundleRejected if any change is malformed, from an unbound actor, or
    not reachable from its own actor's signed head within the bundle.
    """
    bound = state.actor_bindings()
    headers: dict[bytes, tuple[ChangeHeader, bytes]] = {}
    for raw in changes:
        try:
            header = read_change_header(raw)
        except ChangeFormatError as exc:
            raise BundleRejected(f"bundle refused: {exc}") from None
        if header.actor not in bound:
            raise BundleRejected("bundle refused: a change names an actor of no admitted device")
        headers[header.hash] = (header, raw)
    reachable_by_actor: dict[bytes, set[bytes]] = {}
    for actor, head in heads.items():
        seen: set[bytes] = set()
        stack = [head.hash]
        while stack:
            current = stack.pop()
            if current in seen or current not in headers:
                continue
            seen.add(current)
            stack.extend(headers[current][0].deps)
        reachable_by_actor[actor] = seen

    def past_cutoff(header: ChangeHeader) -> bool:
        cutoff = state.cutoffs.get(header.actor)
        return cutoff is not None and header.start_op > cutoff

    # A change past its cutoff still goes in when a change that counts depends on
    # it (Automerge would hold that one back forever); the views ignore it.
    needed: set[bytes] = set()
    stack = [dep for header, _ in headers.values() if not past_cutoff(header) for dep in header.deps]
    while stack:
        current = stack.pop()
        if current not in needed and current in headers:
            needed.add(current)
            stack.extend(headers[current][0].deps)
    accepted, dropped = [], 0
    vector: dict[bytes, int] = {}
    for change_hash, (header, raw) in _causal_order(headers):
        vector[header.actor] = max(vector.get(header.actor, 0), header.seq)
        if change_hash not in reachable_by_actor.get(header.actor, ()):
            raise BundleRejected("bundle refused: a change is not vouched for by its author's signed head")
        if past_cutoff(header) and change_hash not in needed:
            dropped += 1
            continue
        accepted.append(raw)
    return accepted, dropped, vector


class ExchangeMixin(MembershipMixin):
    # -- sending ------------------------------------------------------------------

    def _seal_for(self, circle: OpenCircle, device_id: str | None, kind: int, content: BundleContent) -> bytes:
        """Seal with our write key; addressed bundles carry that key in a lockbox."""
        state = circle.state
        epoch_id = state.write_epoch
        if leave_to_deliver(self, circle) is not None:
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
        circle = self.open_circle(circle_id)
        if not may_send(self, circle):
            raise NotAllowed("you are no longer a member of this circle")
        leaving = leave_to_deliver(self, circle)
        if leaving is not None and peer is not None and leaving in peer.action_ids:
            mark_delivered(self, circle_id)
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
        return self._seal_for(circle, device_id, DELTA, content), max(1, len(changes) + len(actions))

    def bundle_for(self, circle_id: str, device_id: str | None = None, peer: State | None = None) -> bytes | None:
        delta = self.delta_for(circle_id, device_id, peer)
        return delta[0] if delta else None

    def leave_delivered(self, circle_id: str) -> bool:
        """We left this circle and a peer now holds our leave: nothing more to sync."""
        circle = self.open_circle(circle_id)
        return not may_send(self, circle)

    def sync_state(self, circle_id: str) -> State:
        circle = self.open_circle(circle_id)
        return State(circle_id, circle.digest(), offered_vector(self, circle), frozenset(circle.actions))

    def note_peer(self, circle_id: str, device_id: str, address: str) -> None:
        """Remember where and when we last synced with a device (sealed: addresses are
        personal data)."""
        record = {"address": address, "last_contact": self.now_ms()}
        sealed = self.profile.seal(json.dumps(record).encode(), "private", circle_id, "peer", device_id)
        self.profile.store.put_private(circle_id, "peer", device_id, sealed)

    def peers(self, circle_id: str) -> list[PeerInfo]:
        circle = self.open_circle(circle_id)
        names = self.member_names(circle_id)
        out = []
        for device_id, blob in self.profile.store.private_items(circle_id, "peer"):
            record = json.loads(self.profile.open(blob, "private", circle_id, "peer", device_id))
            device = circle.state.devices.get(device_id)
            member = device.member if device else ""
            active = bool(device and device.active and circle.state.role_of(member))
            out.append(PeerInfo(device_id, member, names.get(member, ""), record["address"],
                                record["last_contact"], active))
        return sorted(out, key=lambda p: -p.last_contact)

    def discovery_tags(self, window: int) -> set[str]:
        """Our blinded LAN tags for a time window, one per circle we can serve."""
        tags = set()
        for circle_id in self.profile.store.circle_ids():
            circle = self.open_circle(circle_id)
            epoch = circle.state.write_epoch
            if circle.is_active_member() and epoch in circle.keys:
                tags.add(discovery_tag(circle.keys[epoch], circle_id, window))
        return tags

    def shared_circles(self, remote_static: bytes) -> dict[str, str]:
        """circle id -> device id, for each circle where both this device and the
        device owning X25519 key `remote_static` are active members."""
        out = {}
        for circle_id in self.profile.store.circle_ids():
            circle = self.open_circle(circle_id)
            if not may_send(self, circle):
                continue
            for device in circle.state.active_devices():
                if device.dh_pub == remote_static and device.id != self.profile.identity.device_id:
                    out[circle_id] = device.id
        return out

    # -- receiving -------------------------------------------------------------------

    def receive_bundle(self, data: bytes) -> Received:
        header = _header(data)
        if header.kind != DELTA:
            raise BundleRejected("bundle refused: expected a delta bundle")
        with self._writing(header.circle_id) as circle:
            key = circle.keys.get(header.epoch_id) or self._key_from_lockbox(header)
            result = self._ingest(circle, _open(key, data), header.epoch_id, key)
        if result.actions_added:
            self._after_new_actions(header.circle_id)
        return result

    def _key_from_lockbox(self, header: BundleHeader) -> bytes:
        if not header.lockbox:
            raise MissingKey("bundle refused: sealed with a key this device does not hold")
        identity = self.profile.identity
        try:
            return open_lockbox(identity.dh_key, header.lockbox,
                                lockbox_info(header.circle_id, header.epoch_id, identity.device_id))
        except LockboxError:
            raise BundleRejected("bundle refused: its lockbox is not for this device") from None

    def _ingest(self, circle: OpenCircle, content: BundleContent, epoch_id: str, key: bytes) -> Received:
        actions = _decode_actions(content)
        fresh = [a for a in actions if a.id not in circle.actions]
        state = resolve(circle.id, [*circle.actions.values(), *fresh]) if fresh else circle.state
        _check_epoch(state, self.profile.identity, epoch_id, key)
        heads = _verified_heads(state, circle.id, content.heads)
        accepted, dropped, vector = _authenticated_changes(state, heads, content.changes)
        accepted, notes = catch_up(self, circle, heads, accepted)
        accepted, clashing = split_clashes(circle, accepted)
        notes += refusal_notes(circle, clashing)
        vector = lower_vector(vector, note_clashes(circle, clashing))
        authenticated = {read_change_header(c).hash for c in accepted}
        accepted = _check_ownership(circle, state, accepted)
        before = circle.document.heads()
        circle.document.apply_changes(accepted)
        applied = circle.document.changes_since(before)
        # Only heads whose change is now in the document: a change Automerge is
        # still holding back (missing dependencies) is not ours to vouch for yet.
        applied_hashes = {read_change_header(c).hash for c in applied}
        kept = [h for h in heads.values() if h.hash in applied_hashes and circle.keep_head(h)]
        if applied or fresh or kept:
            self._persist(circle, changes=applied, actions=fresh, heads=kept)
        held_back = len(authenticated - circle.known_hashes()) if authenticated else 0
        return Received(circle.id, len(applied), len(fresh), dropped, vector,
                        frozenset(a.id for a in actions), tuple(notes), held_back)

    # -- joining: the newcomer's side ------------------------------------------------

    def join_request(self, code: str) -> bytes:
        """What a newcomer sends to a member: proof of the invite, and who they are."""
        invite = _decode_code(code)
        if invite.expires_at < self.clock().timestamp():
            raise InvalidInput("this invite has expired; ask for a new one")
        identity = self.profile.identity
        device = {"sign": identity.public.sign_pub.hex(), "dh": identity.public.dh_pub.hex()}
        proof = invite_key(invite.secret, invite.circle_id, invite.invite_id).sign(
            admit_proof_message(invite.circle_id, invite.invite_id, device)
        )
        return canonical({"v": 1, "circle": invite.circle_id, "invite": invite.invite_id,
                          "device": device, "proof": proof.hex()})

    def accept_welcome(self, code: str, welcome: bytes) -> str:
        """Check and store the circle a member sent; returns its id.

        A device that was removed and is re-admitted already holds the circle:
        the welcome is merged into what it has (it writes as a new actor then)."""
        invite = _decode_code(code)
        circle_id = invite.circle_id
        rejoining = circle_id in self.profile.store.circle_ids()
        header = _header(welcome)
        if header.kind != WELCOME or header.circle_id != circle_id:
            raise BundleRejected("welcome refused: it is for another circle than the invite names")
        key = self._key_from_lockbox(header)
        content = _open(key, welcome)
        actions = {a.id: a for a in _decode_actions(content)}
        if not any(a.kind == "create" and a.id[:32] == circle_id for a in actions.values()):
            raise BundleRejected("welcome refused: it is not the circle the invite names")
        identity = self.profile.identity
        state = resolve(circle_id, actions.values())
        device = state.devices.get(identity.device_id)
        if device is None or not device.active:
            raise BundleRejected("welcome refused: the circle did not admit this device")
        if rejoining:
            mine = self.open_circle(circle_id).my_device
            if mine is not None and mine.active and mine.admitted_by == device.admitted_by:
                raise InvalidInput("you are already in this circle")
        _check_epoch(state, identity, header.epoch_id, key)
        heads = _verified_heads(state, circle_id, content.heads)
        actor = identity.actor_id(circle_id, device.incarnation)
        try:
            document = CircleDocument.load(circle_id, actor, content.document)
        except Exception:
            raise BundleRejected("welcome refused: its document does not load") from None
        _check_document_heads(document, state, heads)
        if not rejoining:
            self.profile.store.add_circle(
                circle_id,
                self.profile.seal(document.save(), "snapshot", circle_id),
                [self._sealed_action(circle_id, a) for a in actions.values()],
                [self._sealed_head(circle_id, h) for h in heads.values()],
            )
            self._open[circle_id] = OpenCircle(identity, document, actions, dict(heads), 0, 0)
        with self._writing(circle_id) as circle:
            if rejoining:
                fresh = [a for a in actions.values() if a.id not in circle.actions]
                before = circle.document.heads()
                circle.document.doc.merge(document.doc)
                merged = circle.document.changes_since(before)
                kept = [h for h in heads.values() if circle.keep_head(h)]
                self._persist(circle, changes=merged, actions=fresh, heads=kept)
            # A member's further device (or a returning member) is already named:
            # a device's profile name is not the member's name.
            if device.member not in views.read_names(circle.document, circle.roster()):
                self._persist(circle, circle.document.introduce(device.member, self.profile.name, self.clock()))
        return circle_id

    # -- joining: the member's side ---------------------------------------------------

    def admit_request(self, request: bytes, *, remote_static: bytes | None = None) -> bytes:
        """Admit the newcomer who sent `request`; returns their welcome.

        Over the network `remote_static` is the session's authenticated key: the
        request must name that same device, so nobody can redeem for another."""
        fields = _parse_request(request)
        if remote_static is not None and fields["device"]["dh"] != remote_static.hex():
            raise NotAllowed("the join request does not match the connecting device")
        if fields["circle"] not in self.profile.store.circle_ids():
            raise NotAllowed("this device is not in the circle the invite names")
        circle = self.open_circle(fields["circle"])
        invite = circle.state.invites.get(fields["invite"])
        if invite is None:
            raise NotAllowed("unknown invite")
        device = fields["device"]
        device_id = device_id_of(bytes.fromhex(device["sign"]))
        if _already_admitted(circle.state, invite, device, device_id, fields["proof"]):
            # A retry after the welcome was lost on the way (dropped connection,
            # killed process): the device is in, so it gets the circle again and
            # the invite is not used a second time.
            return self._welcome(circle, device_id)
        if invite.revoked:
            raise NotAllowed("that invite was revoked")
        if invite.closed_by is not None:
            raise NotAllowed("that invite was closed when a member was removed: ask an organizer for a new one")
        if invite.expires * 1000 < self.now_ms():
            raise NotAllowed("that invite has expired")
        if invite.used >= invite.uses:
            raise NotAllowed("that invite has been used up")
        existing = circle.state.devices.get(device_id)
        member_id = invite.for_member or invite.readmit or (existing.member if existing else device_id)
        lockboxes = admission_lockboxes(circle.state, circle.keys, device_id, bytes.fromhex(device["dh"]))
        if not lockboxes:
            raise NotAllowed("this device holds no current key to share")
        self._act(circle.id, "admit", {"invite": invite.id, "member": member_id, "device": device,
                                       "proof": fields["proof"], "lockboxes": lockboxes})
        return self._welcome(circle, device_id)

    def _welcome(self, circle: OpenCircle, device_id: str) -> bytes:
        """The whole circle, sealed to one admitted device."""
        content = BundleContent(
            actions=tuple(a.wire for a in circle.actions.values()),
            heads=tuple(h.encode() for h in circle.heads.values()),
            document=circle.document.save(),
        )
        return self._seal_for(circle, device_id, WELCOME, content)


def _already_admitted(state: GovernanceState, invite, device: dict, device_id: str, proof: str) -> bool:
    """The requesting device is an active member's device and the request proves
    it holds a code of this circle (any invite the log knows, used up or not)."""
    admitted = state.devices.get(device_id)
    if admitted is None or not admitted.active or state.role_of(admitted.member) is None:
        return False
    if admitted.dh_pub.hex() != device["dh"]:
        return False
    return DevicePublic(bytes.fromhex(invite.key), b"").verify(
        bytes.fromhex(proof), admit_proof_message(state.circle_id, invite.id, device))


def _header(data: bytes) -> BundleHeader:
    try:
        return read_header(data)
    except BundleError as exc:
        raise BundleRejected(f"bundle refused: {exc}") from None


def _open(key: bytes, data: bytes) -> BundleContent:
    try:
        return open_bundle(key, data)[1]
    except BundleError as exc:
        raise BundleRejected(f"bundle refused: {exc}") from None


def _decode_actions(content: BundleContent) -> list[Action]:
    try:
        return [decode_action(raw) for raw in content.actions]
    except ActionError as exc:
        raise BundleRejected(f"bundle refused: {exc}") from None


def _check_epoch(state: GovernanceState, identity, epoch_id: str, key: bytes) -> None:
    """The bundle's key must be the circle's own key for that epoch, as the log
    gives it to this device: a member cannot slip in a key of their making."""
    if epoch_keys(state, identity).get(epoch_id) != key:
        raise BundleRejected("bundle refused: sealed with a key the circle's log does not give this device")


def _decode_code(code: str) -> InviteCode:
    try:
        return InviteCode.decode(code)
    except InviteCodeError as exc:
        raise InvalidInput(str(exc)) from None


def _parse_request(request: bytes) -> dict:
    try:
        if len(request) > MAX_REQUEST_BYTES:
            raise ValueError("too large")
        fields = json.loads(request)
        if not isinstance(fields, dict) or set(fields) != {"v", "circle", "invite", "device", "proof"}:
            raise ValueError("wrong fields")
        if fields["v"] != 1 or canonical(fields) != request:
            raise ValueError("not canonical")
        device = fields["device"]
        if not isinstance(device, dict) or set(device) != {"sign", "dh"}:
            raise ValueError("bad device")
        for value, length in ((fields["circle"], 32), (fields["invite"], 16), (device["sign"], 64),
                              (device["dh"], 64), (fields["proof"], 128)):
            if not isinstance(value, str) or len(value) != length:
                raise ValueError("bad field")
            bytes.fromhex(value)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: deeply nested JSON
        raise BundleRejected("join request refused: malformed") from None
    return fields


def _check_document_heads(document: CircleDocument, state: GovernanceState, heads: dict[bytes, SignedHead]) -> None:
    """Every actor's newest change in a received document must be the one its
    device signed; the hash chain then vouches for the rest."""
    bound = state.actor_bindings()
    newest: dict[bytes, tuple[int, bytes]] = {}
    for change in document.doc.get_changes([]):
        if change.actor_id not in bound:
            raise BundleRejected("welcome refused: the document holds changes from no admitted device")
        if change.actor_id not in newest or newest[change.actor_id][0] < change.seq:
            newest[change.actor_id] = (change.seq, change.hash)
    for actor, (seq, change_hash) in newest.items():
        head = heads.get(actor)
        if head is None or head.seq != seq or head.hash != change_hash:
            raise BundleRejected("welcome refused: the document is not vouched for by its authors' signatures")
