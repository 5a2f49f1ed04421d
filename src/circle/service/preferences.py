"""This device's own remembered state: the last circle opened, posts seen,
the topics this member keeps folded, the region for built-in resources, the
time of the daily check-in reminder.

Each value is a sealed private record (kind `prefs`): it never leaves the device
and nothing of it reaches the disk in plaintext, like private check-ins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from circle.domain.builtin_resources import region_from_locale
from circle.errors import InvalidInput
from circle.service.core import clean_text
from circle.service.repository import CircleRepository

MAX_FILTERS = 50
PREFS = "prefs"

_NO_CIRCLE = ""


class Preferences:
    def __init__(self, repo: CircleRepository) -> None:
        self.repo = repo
        self._cw_filters: tuple[str, ...] | None = None

    def get(self, circle_id: str, name: str) -> Any:
        """One preference of this device for a circle ("" for the whole profile), or None."""
        return self.repo.private_record(circle_id, PREFS, name)

    def put(self, circle_id: str, name: str, value: Any) -> None:
        self.repo.put_private_record(circle_id, PREFS, name, value)

    # -- last circle ------------------------------------------------------------

    def last_circle(self) -> str | None:
        """The circle opened last, if this profile is still in it."""
        circle_id = self.get(_NO_CIRCLE, "last-circle")
        return circle_id if circle_id in self.repo.ids() else None

    def remember_circle(self, circle_id: str) -> None:
        if self.get(_NO_CIRCLE, "last-circle") != circle_id:
            self.put(_NO_CIRCLE, "last-circle", circle_id)

    # -- read marks ---------------------------------------------------------------

    def seen_posts(self, circle_id: str) -> frozenset[str]:
        return frozenset(self.get(circle_id, "seen") or ())

    def mark_seen(self, circle_id: str, post_ids: Iterable[str]) -> None:
        """Remember that these posts were shown; writes only if something is new."""
        seen = self.seen_posts(circle_id)
        fresh = set(post_ids) - seen
        if fresh:
            self.put(circle_id, "seen", sorted(seen | fresh))

    # -- content filters -----------------------------------------------------------

    def cw_filters(self) -> tuple[str, ...]:
        """Topics whose posts stay folded for this member, in every circle (read
        from the store once: the feed is read on every repaint)."""
        if self._cw_filters is None:
            self._cw_filters = tuple(self.get(_NO_CIRCLE, "cw-filters") or ())
        return self._cw_filters

    def set_cw_filters(self, topics: Iterable[str]) -> tuple[str, ...]:
        """Replace the topics whose posts stay folded (case-insensitive, whole words)."""
        cleaned = tuple(dict.fromkeys(clean_text(t, "topic", 60).lower() for t in topics))
        if len(cleaned) > MAX_FILTERS:
            raise InvalidInput(f"at most {MAX_FILTERS} topics")
        self.put(_NO_CIRCLE, "cw-filters", list(cleaned))
        self._cw_filters = cleaned
        return cleaned

    # -- built-in crisis resources ------------------------------------------------------

    def region(self) -> str | None:
        """The country whose built-in resources come first: CIRCLE_REGION, else the
        setting, else the locale."""
        return region_from_locale(self.get(_NO_CIRCLE, "region"))

    def set_region(self, code: str | None) -> str | None:
        """Remember a country code (two letters) for built-in resources; None: follow the locale."""
        if code is not None:
            code = code.strip().upper()
            if not re.fullmatch(r"[A-Z]{2}", code):
                raise InvalidInput(f"a region is a two-letter country code such as GB or US, not {code!r}")
        self.put(_NO_CIRCLE, "region", code)
        return self.region()

    # -- the daily check-in reminder ------------------------------------------------------

    def checkin_reminder(self) -> str | None:
        """The time of day ("HH:MM", local) the app offers a check-in, or None."""
        return self.get(_NO_CIRCLE, "checkin-reminder")

    def set_checkin_reminder(self, at: str | None) -> str | None:
        """Set the daily reminder to `at` ("HH:MM", 24-hour, local time), or None: no reminder."""
        if at is not None:
            match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", at.strip())
            if not match:
                raise InvalidInput(f"a reminder time is HH:MM on a 24-hour clock, such as 20:30, not {at!r}")
            at = f"{int(match[1]):02d}:{match[2]}"
        self.put(_NO_CIRCLE, "checkin-reminder", at)
        return at
