"""This device's own remembered state: the last circle opened, posts seen,
the topics this member keeps folded, the region for built-in resources.

Each value is a sealed private item (kind `prefs`): it never leaves the device
and nothing of it reaches the disk in plaintext, like private check-ins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from circle.domain.builtin_resources import region_from_locale
from circle.errors import InvalidInput
from circle.service.core import ServiceCore, clean_text

MAX_FILTERS = 50

_NO_CIRCLE = ""


class PreferencesMixin(ServiceCore):
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

    # -- content filters -----------------------------------------------------------

    def set_cw_filters(self, topics: Iterable[str]) -> tuple[str, ...]:
        """Replace the topics whose posts stay folded (case-insensitive, whole words)."""
        cleaned = tuple(dict.fromkeys(clean_text(t, "topic", 60).lower() for t in topics))
        if len(cleaned) > MAX_FILTERS:
            raise InvalidInput(f"at most {MAX_FILTERS} topics")
        self._set_pref(_NO_CIRCLE, "cw-filters", list(cleaned))
        self._cw_filters = cleaned
        return cleaned

    # -- built-in crisis resources ------------------------------------------------------

    def region(self) -> str | None:
        """The country whose built-in resources come first: CIRCLE_REGION, else the
        setting, else the locale."""
        return region_from_locale(self._pref(_NO_CIRCLE, "region"))

    def set_region(self, code: str | None) -> str | None:
        """Remember a country code (two letters) for built-in resources; None: follow the locale."""
        if code is not None:
            code = code.strip().upper()
            if not re.fullmatch(r"[A-Z]{2}", code):
                raise InvalidInput(f"a region is a two-letter country code such as GB or US, not {code!r}")
        self._set_pref(_NO_CIRCLE, "region", code)
        return self.region()
