"""This device's own remembered state: the last circle opened, posts seen,
guidelines still to accept.

Each value is a sealed private item (kind `prefs`): it never leaves the device
and nothing of it reaches the disk in plaintext, like private check-ins.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from circle.service.core import ServiceCore

PREFS = "prefs"
_NO_CIRCLE = ""


class PreferencesMixin(ServiceCore):
    def _pref(self, circle_id: str, name: str):
        for item_id, blob in self.profile.store.private_items(circle_id, PREFS):
            if item_id == name:
                return json.loads(self.profile.open(blob, "private", circle_id, PREFS, name))
        return None

    def _set_pref(self, circle_id: str, name: str, value) -> None:
        sealed = self.profile.seal(json.dumps(value).encode(), "private", circle_id, PREFS, name)
        self.profile.store.put_private(circle_id, PREFS, name, sealed)

    # -- last circle ------------------------------------------------------------

    def last_circle(self) -> str | None:
        """The circle opened last, if this profile is still in it."""
        circle_id = self._pref(_NO_CIRCLE, "last-circle")
        return circle_id if circle_id in self.profile.store.circle_ids() else None

    def remember_circle(self, circle_id: str) -> None:
        if self._pref(_NO_CIRCLE, "last-circle") != circle_id:
            self._set_pref(_NO_CIRCLE, "last-circle", circle_id)

    # -- read marks ---------------------------------------------------------------

    def seen_posts(self, circle_id: str) -> frozenset[str]:
        return frozenset(self._pref(circle_id, "seen") or ())

    def mark_seen(self, circle_id: str, post_ids: Iterable[str]) -> None:
        """Remember that these posts were shown; writes only if something is new."""
        seen = self.seen_posts(circle_id)
        fresh = set(post_ids) - seen
        if fresh:
            self._set_pref(circle_id, "seen", sorted(seen | fresh))

    def unread_count(self, circle_id: str) -> int:
        """Posts by others, neither deleted nor hidden, that were never shown here."""
        me = self.open_circle(circle_id).my_member_id
        seen = self.seen_posts(circle_id)
        return sum(
            1 for post in self.feed(circle_id)
            if post.author_id != me and not post.deleted and not post.hidden and post.id not in seen
        )

    # -- guidelines ---------------------------------------------------------------

    def guidelines_pending(self, circle_id: str) -> bool:
        """True after joining until the newcomer accepted the circle's guidelines."""
        return bool(self._pref(circle_id, "guidelines-pending"))

    def set_guidelines_pending(self, circle_id: str, pending: bool) -> None:
        self._set_pref(circle_id, "guidelines-pending", pending)
