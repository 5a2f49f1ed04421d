"""Bringing an opened circle's document up to the schema version this code knows.

An organizer's device upgrades a circle when it opens it (domain/schema.py says
why only organizers, and why concurrent upgrades are harmless). Other devices
wait for the marks to arrive by sync; they never mark the document themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from circle.domain import schema
from circle.domain.roles import Role
from circle.errors import CircleError
from circle.profile import Profile

log = logging.getLogger("circle.service")


def _due(profile: Profile, circle) -> bool:
    # Imported here: restore imports opened, which calls this module.
    from circle.service.restore import MARK

    if not schema.pending_versions(circle.document.doc) or not circle.is_active_member():
        return False
    if circle.state.role_of(circle.my_member_id or "") != Role.ORGANIZER:
        return False
    # A device restored from a backup must catch up before it writes anything.
    return not profile.store.private_items(circle.id, MARK)


def upgraded(profile: Profile, circle, reload: Callable[[], object]):
    """`circle`, or a copy reloaded under the write lock and upgraded, its marks stored.

    If the upgrade cannot be stored (e.g. the profile is read-only), the circle
    is returned as it was, still readable, and the upgrade is tried on the next open."""
    if not _due(profile, circle):
        return circle
    try:
        with profile.store.write_lock():
            # Under the lock, what other processes stored is in the reloaded copy:
            # the marks build on their changes and never reuse a sequence number.
            fresh = reload()
            if not _due(profile, fresh):
                return fresh
            changes = fresh.document.upgrade()
            head = fresh.sign_own_head(changes)
            actor = head.actor.hex()
            last = profile.store.append(
                fresh.id,
                changes=[profile.seal(c, "change", fresh.id) for c in changes],
                heads=[(actor, profile.seal(head.encode(), "head", fresh.id, actor))],
            )
    except CircleError as exc:
        log.warning("schema upgrade of %s postponed: %s", circle.id, exc)
        return circle
    fresh.last_change_id = max(fresh.last_change_id, last)
    fresh.changes_since_snapshot += len(changes)
    return fresh
