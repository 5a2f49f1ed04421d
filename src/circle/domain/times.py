"""Moments as people and programs read them, in the local zone (from the
environment: TZ, else the system's) unless a zone is given.

`readable` is for every line a person reads: the CLI, the app, Markdown exports.
`stamp` is for JSON: ISO 8601 with the local offset (2026-12-07T20:30:00+01:00),
so a script gets the instant and the reader's wall clock in one field.
Stored moments stay UTC; only what is shown is local.
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo

READABLE = "%a %d %b %Y %H:%M"


def readable(moment: datetime, tz: tzinfo | None = None) -> str:
    """'Tue 04 Mar 2025 12:00' on the clock of `tz` (the local zone if None)."""
    return _on_clock(moment, tz).strftime(READABLE)


def stamp(moment: datetime | None, tz: tzinfo | None = None) -> str | None:
    """ISO 8601 with the offset of `tz` (the local zone if None); None stays None."""
    return _on_clock(moment, tz).isoformat() if moment else None


def _on_clock(moment: datetime, tz: tzinfo | None) -> datetime:
    try:
        return moment.astimezone(tz)
    except OverflowError:
        # A peer may name any moment up to 9999-12-31 UTC, which east of UTC is
        # past the last date Python holds: that one is shown in UTC.
        return moment.astimezone(timezone.utc)
