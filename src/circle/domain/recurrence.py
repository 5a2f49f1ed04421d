"""When a repeating event happens, in the zone its organizer keeps it in.

An event repeats on the wall clock of its IANA time zone, as RFC 5545 expands
an RRULE with a DTSTART that has a TZID: a weekly 10:00 London walk is at 10:00
GMT in winter and 10:00 BST in summer. Events stored without a zone (written
before zones existed) repeat in UTC, as they always did.

Monthly repeats keep the first occurrence's day of month; a month without that
day is skipped (RFC 5545: "FREQ=MONTHLY" on the 31st has no occurrence in April),
so the export's RRULE and what the app shows agree. A wall time that does not
exist (inside the spring-forward gap) is read with the offset before the gap,
as RFC 5545 says, which puts it that much later.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC_NAME = "UTC"


def zone(name: str) -> tzinfo:
    """The zone named `name` ("" means UTC); ValueError if no such IANA zone is known."""
    if not name or name == UTC_NAME:
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone {name!r}") from None


def is_zone(name: str) -> bool:
    try:
        zone(name)
    except ValueError:
        return False
    return True


def _at(local: datetime, tz: tzinfo) -> datetime:
    """A naive wall time in `tz` as an aware UTC moment (fold=0: the earlier of a repeated hour,
    the offset before a gap)."""
    return local.replace(tzinfo=tz, fold=0).astimezone(timezone.utc)


def _monthly(wall: datetime, n: int) -> datetime | None:
    """`wall` n months on, or None for a month without its day of month."""
    month_index = wall.month - 1 + n
    year, month = wall.year + month_index // 12, month_index % 12 + 1
    if wall.day > calendar.monthrange(year, month)[1]:
        return None
    return wall.replace(year=year, month=month)


def occurrences(first: datetime, repeat: str, tz_name: str = "", *, start: int = 0) -> Iterator[datetime]:
    """Every occurrence in UTC, in order, from the `start`-th period on (0: the first),
    up to the last moment `datetime` holds."""
    if repeat == "none":
        if start == 0:
            yield first.astimezone(timezone.utc)
        return
    if repeat not in ("weekly", "monthly"):
        raise ValueError(f"unknown repeat {repeat!r}")
    tz = zone(tz_name)
    wall = first.astimezone(tz).replace(tzinfo=None)
    n = start
    try:
        while True:
            local = wall + timedelta(weeks=n) if repeat == "weekly" else _monthly(wall, n)
            if local is not None:
                yield _at(local, tz)
            n += 1
    except (OverflowError, ValueError):  # past year 9999
        return


def next_occurrence(first: datetime, repeat: str, now: datetime, tz_name: str = "") -> datetime:
    """The first occurrence at or after `now` (or `first` itself if still ahead, or if the
    event does not repeat)."""
    if repeat == "none" or first >= now:
        return first.astimezone(timezone.utc)
    # Start a period early: an offset change can move one occurrence across `now`.
    if repeat == "weekly":
        start = max(0, (now - first) // timedelta(weeks=1) - 1)
    else:
        start = max(0, (now.year - first.year) * 12 + (now.month - first.month) - 1)
    for moment in occurrences(first, repeat, tz_name, start=start):
        if moment >= now:
            return moment
    return first.astimezone(timezone.utc)  # no later occurrence before year 9999
