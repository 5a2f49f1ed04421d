"""Events: planning, editing and cancelling meetups, and answering them.

An event repeats in the IANA zone its organizer keeps it in (domain/recurrence.py):
this device's own zone unless they name another. Only the member who created an
event edits or cancels it: the document gives each event's map to its creator
(domain/ownership.py), and every peer, older releases too, refuses a change that
writes into someone else's. An organizer who needs another member's event gone
asks them, or moderates the post that announced it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path

from circle.domain import views
from circle.domain.models import MAX_EVENT_MINUTES, REPEATS, RSVP_ANSWERS, Event
from circle.domain.recurrence import UTC_NAME, is_zone
from circle.domain.refs import resolve as resolve_ref
from circle.errors import InvalidInput, NotAllowed
from circle.service.core import Clock, IdSource, clean_text
from circle.service.repository import NOT_A_MEMBER, CircleRepository

LOCALTIME = Path("/etc/localtime")


def local_zone_name(environ: Mapping[str, str] = os.environ, localtime: Path = LOCALTIME) -> str:
    """This device's IANA zone: $TZ if it names one, else where /etc/localtime points, else UTC."""
    named = environ.get("TZ", "").removeprefix(":")
    if named and is_zone(named):
        return named
    try:
        parts = localtime.resolve(strict=True).parts
    except (OSError, RuntimeError):
        return UTC_NAME
    if "zoneinfo" in parts:
        name = "/".join(parts[len(parts) - parts[::-1].index("zoneinfo"):])
        if name and is_zone(name):
            return name
    return UTC_NAME


def _checked_zone(tz: str) -> str:
    tz = tz.strip()
    if not is_zone(tz):
        raise InvalidInput(f"unknown time zone {tz!r} (use an IANA name, e.g. Europe/London)")
    return tz


def _checked_when(when: datetime) -> datetime:
    if when.tzinfo is None or not 1970 <= when.astimezone(timezone.utc).year <= 9998:
        raise InvalidInput("an event's time must be a moment between 1970 and 9998")
    return when


def _checked_minutes(minutes: int) -> int:
    if not 0 < minutes <= MAX_EVENT_MINUTES:
        raise InvalidInput(f"an event lasts 1 to {MAX_EVENT_MINUTES} minutes, not {minutes}")
    return minutes


def _checked_repeat(repeat: str) -> str:
    if repeat not in REPEATS:
        raise InvalidInput(f"repeat must be one of {', '.join(REPEATS)}, not {repeat!r}")
    return repeat


class Events:
    def __init__(self, repo: CircleRepository, clock: Clock, new_id: IdSource) -> None:
        self.repo, self.clock, self.new_id = repo, clock, new_id

    def _me(self, circle_id: str) -> str:
        member = self.repo.open(circle_id).my_member_id
        if member is None:
            raise NotAllowed(NOT_A_MEMBER)
        return member

    def events(self, circle_id: str) -> list[Event]:
        circle = self.repo.open(circle_id)
        return views.read_events(circle.document, circle.roster())

    def resolve_event(self, circle_id: str, ref: str) -> Event:
        events = {e.id: e for e in self.events(circle_id)}
        return events[resolve_ref(ref, ((e.id, e.title) for e in events.values()), "event")]

    def local_zone(self) -> str:
        """The zone a new event repeats in unless its organizer names another."""
        return local_zone_name()

    def add_event(self, circle_id: str, title: str, when: datetime, *, repeat: str = "none",
                  where: str = "", notes: str = "", tz: str | None = None, minutes: int | None = None) -> Event:
        title = clean_text(title, "event title", 120)
        repeat = _checked_repeat(repeat)
        where = clean_text(where, "place", allow_empty=True)
        notes = clean_text(notes, "notes", 2000, allow_empty=True)
        zone = _checked_zone(self.local_zone() if tz is None else tz)
        when = _checked_when(when)
        length = None if minutes is None else _checked_minutes(minutes)
        event_id = self.new_id()
        now = self.clock()
        self.repo.write(circle_id, lambda d: d.add_event(
            event_id, title, when, now, repeat=repeat, where=where, notes=notes, tz=zone, minutes=length))
        return self.resolve_event(circle_id, event_id)

    def _own_open_event(self, circle_id: str, ref: str, doing: str) -> Event:
        event = self.resolve_event(circle_id, ref)
        if event.author_id != self._me(circle_id):
            raise NotAllowed(f"only the member who planned an event can {doing} it")
        if event.cancelled:
            raise NotAllowed(f"event {event.id} is cancelled; plan a new one instead")
        return event

    def edit_event(self, circle_id: str, ref: str, *, title: str | None = None, when: datetime | None = None,
                   repeat: str | None = None, where: str | None = None, notes: str | None = None,
                   tz: str | None = None, minutes: int | None = None) -> Event:
        """Change what is given; the rest stays. A new zone keeps the first occurrence's moment
        and repeats on that zone's clock from then on."""
        fields = {
            "title": None if title is None else clean_text(title, "event title", 120),
            "when": None if when is None else _checked_when(when),
            "repeat": None if repeat is None else _checked_repeat(repeat),
            "where": None if where is None else clean_text(where, "place", allow_empty=True),
            "notes": None if notes is None else clean_text(notes, "notes", 2000, allow_empty=True),
            "tz": None if tz is None else _checked_zone(tz),
            "minutes": None if minutes is None else _checked_minutes(minutes),
        }
        changes = {name: value for name, value in fields.items() if value is not None}
        if not changes:
            raise InvalidInput("nothing to change: give a new title, time, repeat, place, notes, zone or length")
        event = self._own_open_event(circle_id, ref, "edit")
        now = self.clock()
        self.repo.write(circle_id, lambda d: d.edit_event(event.id, now, **changes))
        return self.resolve_event(circle_id, event.id)

    def cancel_event(self, circle_id: str, ref: str) -> Event:
        """Cancelled for everyone; it stays listed (and exported) as cancelled, with its answers."""
        event = self._own_open_event(circle_id, ref, "cancel")
        now = self.clock()
        self.repo.write(circle_id, lambda d: d.cancel_event(event.id, now))
        return self.resolve_event(circle_id, event.id)

    def rsvp(self, circle_id: str, ref: str, answer: str) -> Event:
        if answer not in RSVP_ANSWERS:
            raise InvalidInput(f"answer must be one of {', '.join(RSVP_ANSWERS)}, not {answer!r}")
        event = self.resolve_event(circle_id, ref)
        if event.cancelled:
            raise NotAllowed(f"event {event.id} is cancelled")
        me = self._me(circle_id)
        self.repo.write(circle_id, lambda d: d.set_rsvp(event.id, me, answer))
        return self.resolve_event(circle_id, event.id)
