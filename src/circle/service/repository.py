"""Where this profile's circles live while it is unlocked.

The repository is the only part of the service that turns circles into sealed
store rows and back: it loads and caches open circles, holds the write lock
while a write runs, seals and stores what a write produced (changes, governance
actions, signed heads) in one transaction, compacts, folds in what other
processes on this profile stored, and keeps this device's sealed private
records. Every other part reads and writes circles through it, and it tells
subscribers (the TUI, the live session) when anything new is stored.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from circle.domain import schema
from circle.domain.document import CircleDocument, DocumentWriteFailed
from circle.domain.governance.actions import Action
from circle.domain.heads import SignedHead
from circle.domain.roles import Role
from circle.errors import CircleError, InternalError, NotAllowed
from circle.profile import Profile
from circle.service.opened import OpenCircle, load_open_circle, open_stored_action
from circle.service.restore import MARK, ensure_may_write

log = logging.getLogger("circle.service")

COMPACT_AFTER_CHANGES = 256
NOT_A_MEMBER = "you are no longer a member of this circle"

Write = Callable[[CircleDocument], list[bytes]]


class CircleRepository:
    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self._open: dict[str, OpenCircle] = {}
        self._listeners: list[Callable[[str], None]] = []

    # -- telling others ------------------------------------------------------------

    def subscribe(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Call `listener(circle_id)` after anything new is stored; returns an unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _notify(self, circle_id: str) -> None:
        for listener in list(self._listeners):
            listener(circle_id)

    # -- circles -------------------------------------------------------------------

    def ids(self) -> list[str]:
        return self.profile.store.circle_ids()

    def open(self, circle_id: str) -> OpenCircle:
        if circle_id not in self._open:
            self._open[circle_id] = load_open_circle(self.profile, circle_id)
            self._upgrade(circle_id)
        return self._open[circle_id]

    def add(self, circle: OpenCircle) -> None:
        """Store a circle new to this profile (created here, or joined) as it is in memory."""
        self.profile.store.add_circle(
            circle.id,
            self.profile.seal(circle.document.save(), "snapshot", circle.id),
            [self.sealed_action(circle.id, a) for a in circle.actions.values()],
            [self.sealed_head(circle.id, h) for h in circle.heads.values()],
        )
        self._open[circle.id] = circle

    def _upgrade(self, circle_id: str) -> None:
        """Bring the document to this code's schema, where this device is the one
        to do it (domain/schema.py says why only organizers; concurrent upgrades are
        harmless). If it cannot be stored (e.g. a read-only profile), the circle
        stays readable as it was and the upgrade is tried on the next open."""
        if not self._upgrade_due(self._open[circle_id]):
            return
        try:
            with self.writing(circle_id) as circle:
                changes = circle.document.upgrade() if self._upgrade_due(circle) else []
                if changes:  # (another process may have done it meanwhile)
                    self.persist(circle, changes)
        except CircleError as exc:
            log.warning("schema upgrade of %s postponed: %s", circle_id, exc)
            self._open[circle_id] = load_open_circle(self.profile, circle_id)

    def _upgrade_due(self, circle: OpenCircle) -> bool:
        if not schema.pending_versions(circle.document.doc) or not circle.is_active_member():
            return False
        if circle.state.role_of(circle.my_member_id or "") != Role.ORGANIZER:
            return False
        # A device restored from a backup must catch up before it writes anything.
        return not self.profile.store.private_items(circle.id, MARK)

    # -- writing -------------------------------------------------------------------

    @contextmanager
    def writing(self, circle_id: str, *, as_member: bool = False) -> Iterator[OpenCircle]:
        """Hold the profile's write lock with the circle up to date.

        Other processes may write this profile (the app, `circle serve`, a CLI
        command). Under the lock we first fold in what they stored, so our next
        change builds on theirs and never reuses a sequence number. If anything
        fails, the in-memory circle is dropped and reloaded from disk next time,
        so memory never holds a change the store does not. With `as_member`, only
        an active member of the circle may write.
        """
        try:
            with self.profile.store.write_lock():
                self.refresh(circle_id)
                circle = self.open(circle_id)
                if as_member and not circle.is_active_member():
                    raise NotAllowed(NOT_A_MEMBER)
                yield circle
        except BaseException:
            self._open.pop(circle_id, None)
            raise
        if circle.changes_since_snapshot >= COMPACT_AFTER_CHANGES:
            try:
                self._compact(circle)
            except CircleError as exc:  # the write is safe; compaction retries later
                log.warning("compaction of %s postponed: %s", circle_id, exc)

    def write(self, circle_id: str, *writes: Write) -> list[bytes]:
        """Run each write on the document as its own change, as a member, and
        store them all in one transaction; returns the new changes, oldest first.
        (Many at once is for generating large circles, bench/: one fsync for all.)"""
        with self.writing(circle_id, as_member=True) as circle:
            ensure_may_write(self, circle)
            changes: list[bytes] = []
            try:
                for write in writes:
                    changes += write(circle.document)
            except DocumentWriteFailed as exc:
                raise InternalError(f"{exc}; nothing was stored") from exc
            if changes:
                self.persist(circle, changes)
        return changes

    def persist(
        self,
        circle: OpenCircle,
        changes: Sequence[bytes] = (),
        actions: Sequence[Action] = (),
        heads: Sequence[SignedHead] = (),
    ) -> None:
        """Make changes (already in the document), actions and heads durable together.
        Call inside `writing`."""
        own = circle.sign_own_head(list(changes))
        heads = [*heads, own] if own is not None else list(heads)
        last = self.profile.store.append(
            circle.id,
            changes=[self.profile.seal(c, "change", circle.id) for c in changes],
            actions=[self.sealed_action(circle.id, a) for a in actions],
            heads=[self.sealed_head(circle.id, h) for h in heads],
        )
        if actions:
            circle.add_actions(list(actions))
        if changes:
            circle.learn_objects(list(changes))
            circle.changes_since_snapshot += len(changes)
            circle.last_change_id = max(circle.last_change_id, last)
        self._notify(circle.id)

    def sealed_action(self, circle_id: str, action: Action) -> tuple[str, bytes]:
        return action.id, self.profile.seal(action.wire, "action", circle_id, action.id)

    def sealed_head(self, circle_id: str, head: SignedHead) -> tuple[str, bytes]:
        actor = head.actor.hex()
        return actor, self.profile.seal(head.encode(), "head", circle_id, actor)

    def _compact(self, circle: OpenCircle) -> None:
        def build(newer: list[bytes]) -> bytes:
            # Changes another process wrote meanwhile join the snapshot first.
            circle.document.apply_changes(self.profile.open(b, "change", circle.id) for b in newer)
            return self.profile.seal(circle.document.save(), "snapshot", circle.id)

        circle.last_change_id = self.profile.store.compact(circle.id, circle.last_change_id, build)
        circle.changes_since_snapshot = 0
        circle.snapshot_seq = self.profile.store.snapshot_seq(circle.id)

    # -- what other processes stored -------------------------------------------------

    def refresh(self, circle_id: str) -> bool:
        """Fold in what other processes on this profile stored since we loaded."""
        circle = self.open(circle_id)
        store = self.profile.store
        if store.snapshot_seq(circle_id) != circle.snapshot_seq:
            # Another process compacted: changes we never read may now live only
            # in the new snapshot. Reload from it.
            self._open.pop(circle_id)
            self.open(circle_id)
            self._notify(circle_id)
            return True
        rows = store.changes_after(circle_id, circle.last_change_id)
        fresh_actions = []
        for action_id, blob in store.actions(circle_id):
            if action_id in circle.actions or action_id in circle.tampered:
                continue
            action = open_stored_action(self.profile, circle_id, action_id, blob)
            if isinstance(action, str):
                circle.tampered[action_id] = action
            else:
                fresh_actions.append(action)
        if rows:
            circle.document.apply_changes(self.profile.open(b, "change", circle_id) for _, b in rows)
            circle.forget_objects()
            circle.last_change_id = rows[-1][0]
            circle.changes_since_snapshot += len(rows)
        if fresh_actions:
            circle.add_actions(fresh_actions)
        for actor_hex, blob in store.signed_heads(circle_id):
            circle.keep_head(SignedHead.decode(self.profile.open(blob, "head", circle_id, actor_hex)))
        if rows or fresh_actions:
            self._notify(circle_id)
        return bool(rows or fresh_actions)

    def refresh_all(self) -> list[str]:
        """Fold in other processes' writes to every open circle, and any new circle
        (e.g. one joined meanwhile); returns the circles that changed."""
        if not self.profile.store.changed_elsewhere():
            return []
        changed = [cid for cid in list(self._open) if self.refresh(cid)]
        for circle_id in self.ids():
            if circle_id not in self._open:
                self.open(circle_id)
                changed.append(circle_id)
        return changed

    # -- this device's own sealed records (never synced) -------------------------------

    def private_records(self, circle_id: str, kind: str) -> Iterator[tuple[str, Any]]:
        """(item id, value) of each sealed JSON record of `kind` kept for `circle_id`."""
        for item_id, blob in self.profile.store.private_items(circle_id, kind):
            yield item_id, json.loads(self.profile.open(blob, "private", circle_id, kind, item_id))

    def private_record(self, circle_id: str, kind: str, item_id: str) -> Any:
        """One sealed JSON record, or None; opens only that one."""
        for item, blob in self.profile.store.private_items(circle_id, kind):
            if item == item_id:
                return json.loads(self.profile.open(blob, "private", circle_id, kind, item_id))
        return None

    @staticmethod
    def blind_id(text: str) -> str:
        """An item id for a record named by something personal (an address): the
        store keeps item ids in the clear, so they must not be the thing itself."""
        return hashlib.sha256(b"circle/private-item/v1\x00" + text.encode()).hexdigest()[:32]

    def put_private_record(self, circle_id: str, kind: str, item_id: str, value: Any) -> None:
        sealed = self.profile.seal(json.dumps(value).encode(), "private", circle_id, kind, item_id)
        self.profile.store.put_private(circle_id, kind, item_id, sealed)
