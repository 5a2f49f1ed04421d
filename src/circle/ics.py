"""A circle's events as an iCalendar file (RFC 5545) that calendar apps import.

Each event is a VEVENT whose DTSTART carries the event's own zone (TZID) and
whose RRULE repeats on that zone's wall clock, as domain/recurrence.py does;
events without a zone are written in UTC. Each zone used gets a VTIMEZONE built
from this device's tz database: its offset changes are listed as dates (RDATE)
over the years the events can reach, so no app has to know IANA names.
Member text is untrusted: controls are dropped and RFC 5545's specials escaped,
so no title can end a property or start a new one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone, tzinfo

from circle.domain.models import CircleInfo, Event
from circle.domain.recurrence import UTC_NAME, zone
from circle.domain.untrusted import shown

PRODID = "-//circle//circle events//EN"
_FREQ = {"weekly": "WEEKLY", "monthly": "MONTHLY"}
ZONE_YEARS = 30  # how far past the last event's start a zone's offset changes are listed


def text(value: str) -> str:
    """A TEXT value: backslash, semicolon, comma and line breaks escaped (RFC 5545, 3.3.11)."""
    value = shown(value, multiline=True).replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """One content line folded at 75 octets, never inside a UTF-8 character (RFC 5545, 3.1)."""
    parts, current, size = [], "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > 75:
            parts.append(current)
            current, size = " ", 1
        current += char
        size += width
    parts.append(current)
    return "\r\n".join(parts)


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _local(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S")


def _offset(delta: timedelta | None) -> str:
    seconds = int((delta or timedelta(0)).total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    return f"{sign}{hours:02d}{rest // 60:02d}"


def _changes(tz: tzinfo, start: datetime, end: datetime) -> list[datetime]:
    """The UTC moments in [start, end) at which `tz`'s offset changes, to the minute."""
    found, step = [], timedelta(days=7)
    moment = start
    while moment < end:
        later = min(moment + step, end)
        if moment.astimezone(tz).utcoffset() != later.astimezone(tz).utcoffset():
            low, high = moment, later
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                if low.astimezone(tz).utcoffset() == middle.astimezone(tz).utcoffset():
                    low = middle
                else:
                    high = middle
            found.append(high.replace(second=0, microsecond=0))
        moment = later
    return found


def vtimezone(name: str, first: datetime, last: datetime) -> list[str]:
    """A VTIMEZONE for `name` valid from `first`'s year to ZONE_YEARS past `last`'s."""
    tz = zone(name)
    start = datetime(max(first.year - 1, 1970), 1, 1, tzinfo=timezone.utc)
    end = datetime(min(last.year + ZONE_YEARS, 9998), 1, 1, tzinfo=timezone.utc)
    before = start.astimezone(tz)
    observances: dict[tuple[str, str, str, bool], list[datetime]] = {}
    # The offset in force at the start, as an observance from then, so every moment is covered.
    key = (_offset(before.utcoffset()), _offset(before.utcoffset()), before.tzname() or "", bool(before.dst()))
    observances[key] = [before.replace(tzinfo=None)]
    for change in _changes(tz, start, end):
        old, new = (change - timedelta(minutes=1)).astimezone(tz), change.astimezone(tz)
        # An onset is given in the local time in force before it (RFC 5545, 3.6.5).
        onset = (change + (old.utcoffset() or timedelta(0))).replace(tzinfo=None)
        key = (_offset(old.utcoffset()), _offset(new.utcoffset()), new.tzname() or "", bool(new.dst()))
        observances.setdefault(key, []).append(onset)
    lines = ["BEGIN:VTIMEZONE", f"TZID:{text(name)}"]
    for (offset_from, offset_to, abbreviation, dst), onsets in observances.items():
        kind = "DAYLIGHT" if dst else "STANDARD"
        lines += [f"BEGIN:{kind}", f"DTSTART:{_local(onsets[0])}", f"TZOFFSETFROM:{offset_from}",
                  f"TZOFFSETTO:{offset_to}"]
        if len(onsets) > 1:
            lines.append("RDATE:" + ",".join(_local(o) for o in onsets[1:]))
        if abbreviation:
            lines.append(f"TZNAME:{text(abbreviation)}")
        lines.append(f"END:{kind}")
    return lines + ["END:VTIMEZONE"]


def vevent(event: Event, circle_id: str, now: datetime) -> list[str]:
    lines = ["BEGIN:VEVENT", f"UID:{event.id}@{circle_id}.circle", f"DTSTAMP:{_utc(now)}"]
    if event.tz and event.tz != UTC_NAME:
        lines.append(f"DTSTART;TZID={event.tz}:{_local(event.when.astimezone(zone(event.tz)))}")
    else:
        lines.append(f"DTSTART:{_utc(event.when)}")
    lines.append(f"DURATION:PT{event.minutes}M")
    if event.repeat in _FREQ:
        lines.append(f"RRULE:FREQ={_FREQ[event.repeat]}")
    lines.append(f"SUMMARY:{text(event.title)}")
    if event.where:
        lines.append(f"LOCATION:{text(event.where)}")
    if event.notes:
        lines.append(f"DESCRIPTION:{text(event.notes)}")
    lines.append(f"STATUS:{'CANCELLED' if event.cancelled else 'CONFIRMED'}")
    if event.edited_at:
        lines.append(f"LAST-MODIFIED:{_utc(event.edited_at)}")
    return lines + ["END:VEVENT"]


def export_ics(info: CircleInfo, events: Iterable[Event], now: datetime) -> str:
    events = list(events)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN",
             f"X-WR-CALNAME:{text(info.name)}"]
    for name in sorted({e.tz for e in events if e.tz and e.tz != UTC_NAME}):
        starts = [e.when for e in events if e.tz == name]
        lines += vtimezone(name, min(starts), max(max(starts), now))
    for event in events:
        lines += vevent(event, info.id, now)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
