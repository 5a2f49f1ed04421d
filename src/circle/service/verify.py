"""The checks a received bundle must pass before anything of it is stored.

Pure functions over the circle as this device holds it and the governance state
the bundle's actions would produce; nothing here reads or writes the store. A
check that fails raises BundleRejected (nothing from the bundle is kept):
- the bundle must open with an epoch key the circle's log gives this device;
- every governance action must decode (the resolver then decides whether it counts);
- every change must name an actor bound to an admitted device, and be reachable
  from a head that device signed in the same bundle, whoever forwarded it;
- no change may write where its author may not (ownership, domain/ownership.py);
- a welcome's document must be vouched for by its authors' signed heads.
Changes of a departed device past its cutoff are dropped, not refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from circle.crypto.identity import DeviceIdentity, DevicePublic
from circle.domain.change_header import ChangeFormatError, ChangeHeader, read_change_header
from circle.domain.change_ops import read_ops
from circle.domain.document import CircleDocument
from circle.domain.governance.actions import Action, ActionError, decode_action
from circle.domain.governance.keyring import epoch_keys
from circle.domain.governance.state import GovernanceState
from circle.domain.heads import HeadError, SignedHead
from circle.domain.ownership import OwnershipError
from circle.errors import CircleError
from circle.service.opened import OpenCircle
from circle.sync.bundle import BundleContent, BundleError, BundleHeader, open_bundle, read_header


class BundleRejected(CircleError):
    """A bundle from a peer failed a check; nothing from it was stored."""


class MissingKey(BundleRejected):
    """The bundle is sealed with an epoch key this device does not hold (yet)."""



def causal_order(
    headers: dict[bytes, tuple[ChangeHeader, bytes]],
) -> Iterator[tuple[bytes, tuple[ChangeHeader, bytes]]]:
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


def check_ownership(circle: OpenCircle, state: GovernanceState, accepted: list[bytes]) -> list[bytes]:
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


def verified_heads(state: GovernanceState, circle_id: str, raw_heads: Iterable[bytes]) -> dict[bytes, SignedHead]:
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


def authenticated_changes(
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
    for change_hash, (header, raw) in causal_order(headers):
        vector[header.actor] = max(vector.get(header.actor, 0), header.seq)
        if change_hash not in reachable_by_actor.get(header.actor, ()):
            raise BundleRejected("bundle refused: a change is not vouched for by its author's signed head")
        if past_cutoff(header) and change_hash not in needed:
            dropped += 1
            continue
        accepted.append(raw)
    return accepted, dropped, vector


def read_bundle_header(data: bytes) -> BundleHeader:
    try:
        return read_header(data)
    except BundleError as exc:
        raise BundleRejected(f"bundle refused: {exc}") from None


def open_content(key: bytes, data: bytes) -> BundleContent:
    try:
        return open_bundle(key, data)[1]
    except BundleError as exc:
        raise BundleRejected(f"bundle refused: {exc}") from None


def decode_actions(content: BundleContent) -> list[Action]:
    try:
        return [decode_action(raw) for raw in content.actions]
    except ActionError as exc:
        raise BundleRejected(f"bundle refused: {exc}") from None


def check_epoch(state: GovernanceState, identity: DeviceIdentity, epoch_id: str, key: bytes) -> None:
    """The bundle's key must be the circle's own key for that epoch, as the log
    gives it to this device: a member cannot slip in a key of their making."""
    if epoch_keys(state, identity).get(epoch_id) != key:
        raise BundleRejected("bundle refused: sealed with a key the circle's log does not give this device")


def check_document_heads(document: CircleDocument, state: GovernanceState, heads: dict[bytes, SignedHead]) -> None:
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
