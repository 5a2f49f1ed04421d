"""A circle held open in memory: its document, governance log, keys and heads.

This is where the store's sealed rows become domain objects and back. It
knows what is persisted (`last_change_id`) so other processes' writes can be
folded in, and it recomputes governance state whenever the log grows.
"""

from __future__ import annotations

import hashlib

from circle.crypto.identity import DeviceIdentity
from circle.domain.change_header import read_change_header
from circle.domain.change_ops import read_ops
from circle.domain.document import CircleDocument
from circle.domain.governance.actions import Action, ActionError, decode_action
from circle.domain.governance.keyring import epoch_keys
from circle.domain.governance.notes import Note
from circle.domain.governance.resolver import resolve
from circle.domain.governance.state import DeviceState, GovernanceState
from circle.domain.heads import SignedHead
from circle.domain.ownership import Registry
from circle.domain.views import Roster
from circle.errors import NotFound
from circle.profile import Profile


class OpenCircle:
    def __init__(
        self,
        identity: DeviceIdentity,
        document: CircleDocument,
        actions: dict[str, Action],
        heads: dict[bytes, SignedHead],
        last_change_id: int,
        changes_since_snapshot: int,
        snapshot_seq: int = 0,
    ) -> None:
        self.identity = identity
        self.document = document
        self.actions = actions
        self.heads = heads
        self.last_change_id = last_change_id
        self.changes_since_snapshot = changes_since_snapshot
        self.snapshot_seq = snapshot_seq
        self.state: GovernanceState
        self.keys: dict[str, bytes]
        self._roster: Roster | None = None
        self._index: dict[bytes, list[bytes]] = {}
        self._index_heads: tuple[bytes, ...] | None = None
        self._registry: Registry | None = None
        self._views: dict[str, tuple[tuple, object]] = {}
        # Stored log entries that no longer verify (id -> why): kept out of the
        # state, shown in the moderation log as tampered.
        self.tampered: dict[str, str] = {}
        # Private notes opened (or found not ours) by action id: trial decryption
        # is done once per note, not on every change to the log.
        self.opened_notes: dict[str, Note | None] = {}
        # actor -> first seq at which a peer sent us another version of its
        # changes (a restored device): we send ours from there (service/restore).
        self.clashes: dict[bytes, int] = {}
        self._recompute()

    @property
    def id(self) -> str:
        return self.document.circle_id

    # -- governance ------------------------------------------------------------

    def _recompute(self) -> None:
        self.state = resolve(self.id, self.actions.values())
        self.keys = epoch_keys(self.state, self.identity)
        self._roster = None
        device = self.my_device
        if device is not None:
            actor = self.identity.actor_id(self.id, device.incarnation)
            if self.document.doc.get_actor() != actor:
                self.document.doc.set_actor(actor)

    def add_actions(self, actions: list[Action]) -> None:
        for action in actions:
            self.actions[action.id] = action
            self.tampered.pop(action.id, None)  # a genuine copy arrived and replaced it
        self._recompute()

    def resolve_with(self, action: Action) -> GovernanceState:
        """The state if `action` were added (nothing is changed)."""
        return resolve(self.id, [*self.actions.values(), action])

    @property
    def my_device(self) -> DeviceState | None:
        return self.state.devices.get(self.identity.device_id)

    @property
    def my_member_id(self) -> str | None:
        device = self.my_device
        return device.member if device else None

    def is_active_member(self) -> bool:
        device = self.my_device
        return bool(device and device.active and self.state.role_of(device.member))

    def roster(self) -> Roster:
        if self._roster is None:
            self._roster = Roster(self.state.actor_bindings(), dict(self.state.cutoffs))
        return self._roster

    def cached(self, name: str, compute):
        """A view of this circle, recomputed only when its document or log changed."""
        key = (tuple(self.document.heads()), len(self.actions))
        hit = self._views.get(name)
        if hit is not None and hit[0] == key:
            return hit[1]
        value = compute()
        self._views[name] = (key, value)
        return value

    # -- reconciliation -----------------------------------------------------------

    def change_index(self) -> dict[bytes, list[bytes]]:
        """actor -> hashes of its changes by seq (seq 1 at index 0), cached per heads."""
        heads = tuple(self.document.heads())
        if self._index_heads != heads:
            index: dict[bytes, list[bytes]] = {}
            for change in sorted(self.document.doc.get_changes([]), key=lambda c: c.seq):
                index.setdefault(change.actor_id, []).append(change.hash)
            self._index, self._index_heads = index, heads
        return self._index

    def known_hashes(self) -> set[bytes]:
        return {h for hashes in self.change_index().values() for h in hashes}

    def vector(self) -> dict[bytes, int]:
        return {actor: len(hashes) for actor, hashes in self.change_index().items()}

    def digest(self) -> bytes:
        """Equal on two devices exactly when they hold the same changes and actions."""
        h = hashlib.sha256(b"circle/digest/v1")
        for head in sorted(self.document.heads()):
            h.update(head)
        for action_id in sorted(self.actions):
            h.update(bytes.fromhex(action_id))
        return h.digest()

    def changes_missing_from(self, vector: dict[bytes, int]) -> list[bytes]:
        """The changes a device holding `vector` lacks (its store is causally closed)."""
        index = self.change_index()
        have = [
            index[actor][min(seq, len(index[actor])) - 1]
            for actor, seq in vector.items()
            if actor in index and seq > 0
        ]
        return self.document.changes_since(have)

    def registry(self, member_of) -> Registry:
        """What each object is and who owns it (built once, then kept up to date
        by the ownership checks of incoming changes)."""
        if self._registry is None:
            self._registry = Registry.from_document(self.document.doc, member_of)
        return self._registry

    def learn_objects(self, changes: list[bytes]) -> None:
        """Keep the registry in step with changes just stored (own or checked)."""
        if self._registry is None:
            return
        bindings = self.state.actor_bindings()
        for change in changes:
            actor, ops = read_ops(change)
            self._registry.learn(ops, bindings.get(actor))

    def forget_objects(self) -> None:
        """Changes arrived by another path (another process): rebuild when needed."""
        self._registry = None

    # -- heads -------------------------------------------------------------------

    def sign_own_head(self, changes: list[bytes]) -> SignedHead | None:
        """Sign this device's newest change among `changes` (the ones it just wrote)."""
        actor = self.document.doc.get_actor()
        newest = None
        for change in changes:
            header = read_change_header(change)
            if header.actor == actor and (newest is None or header.seq > newest.seq):
                newest = header
        if newest is None:
            return None
        head = SignedHead.sign(self.identity, self.id, actor, newest.seq, newest.hash)
        self.heads[actor] = head
        return head

    def keep_head(self, head: SignedHead) -> bool:
        """Remember a verified head if it is newer than the one we hold."""
        current = self.heads.get(head.actor)
        if current is not None and current.seq >= head.seq:
            return False
        self.heads[head.actor] = head
        return True


def load_open_circle(profile: Profile, circle_id: str) -> OpenCircle:
    """The stored circle as it is on disk (the repository upgrades its schema)."""
    store = profile.store
    try:
        records = store.load_circle(circle_id)
    except KeyError:
        raise NotFound(f"unknown circle: {circle_id!r}") from None
    snapshot = profile.open(records.snapshot, "snapshot", circle_id)
    changes = [profile.open(blob, "change", circle_id) for blob in records.changes]
    actions, tampered = {}, {}
    for action_id, blob in store.actions(circle_id):
        action = open_stored_action(profile, circle_id, action_id, blob)
        if isinstance(action, str):
            tampered[action_id] = action
        else:
            actions[action.id] = action
    heads = {}
    for actor_hex, blob in store.signed_heads(circle_id):
        head = SignedHead.decode(profile.open(blob, "head", circle_id, actor_hex))
        heads[head.actor] = head
    # The actor is set properly once governance state is known (OpenCircle._recompute).
    document = CircleDocument.load(circle_id, profile.identity.actor_id(circle_id), snapshot, changes)
    circle = OpenCircle(profile.identity, document, actions, heads, records.last_change_id, len(changes),
                        records.snapshot_seq)
    circle.tampered = tampered
    return circle


def open_stored_action(profile: Profile, circle_id: str, action_id: str, blob: bytes) -> Action | str:
    """A stored governance action, or why it no longer verifies.

    The at-rest seal failing is a damaged store (an error). A seal that opens
    around an action whose signature or id does not check means someone holding
    this profile's key rewrote the entry: that is kept aside, not applied."""
    try:
        action = decode_action(profile.open(blob, "action", circle_id, action_id))
    except ActionError as exc:
        return f"altered after it was signed: {exc}"
    if action.id != action_id:
        return "altered after it was signed: its content no longer matches its id"
    return action
