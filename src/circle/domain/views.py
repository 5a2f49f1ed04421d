"""Reading the circle document into typed values, trusting only op authorship.

The rule (DESIGN.md, "Authorship is never taken from a field"): every value's
writer is the actor in its op id; an actor counts only if the governance log
binds it to a member's device, and a departed device's ops count only up to the
cutoff its removal recorded (the Roster). A value written by anyone other than
whoever may write it is treated as absent, deterministically, on every peer:
- a post, check-in or event belongs to the member whose device created its map;
  its fields count only when written by that same member;
- a reaction or RSVP entry keyed by member M counts only when M wrote it;
- the circle's name and purpose count only when an organizer wrote them.
A post whose body is not the author's own is not shown at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import automerge.core as am

from circle.domain import schema
from circle.domain.document import MAX_MILLIS, ROOT, CircleDocument, from_millis
from circle.domain.models import (
    BANDS,
    DEFAULT_EVENT_MINUTES,
    MAX_EVENT_MINUTES,
    MOODS,
    REPEATS,
    RSVP_ANSWERS,
    CheckIn,
    CircleInfo,
    Event,
    Post,
)
from circle.domain.opids import op_actor, op_counter
from circle.domain.recurrence import is_zone

MAX_REACTION_KIND_CHARS = 32
UNVERIFIED_WARNING = "content warning could not be verified"

WriterCheck = Callable[[bytes], bool]  # takes an op id


@dataclass(frozen=True)
class Roster:
    """Which member each op speaks for, from the governance log.

    An op counts for a member when its actor is bound to one of the member's
    devices and, if that device has departed, the op is not past the cutoff
    the removal (or leave) recorded.
    """

    member_by_actor: dict[bytes, str]
    cutoffs: dict[bytes, int]

    def member_of_op(self, op_id: bytes) -> str | None:
        actor = op_actor(op_id)
        member = self.member_by_actor.get(actor) if actor is not None else None
        if member is None or actor is None:
            return None
        cutoff = self.cutoffs.get(actor)
        if cutoff is not None and op_counter(op_id) > cutoff:
            return None
        return member

    def writes_as(self, member_id: str) -> WriterCheck:
        return lambda op_id: self.member_of_op(op_id) == member_id


class _Reader:
    """Reads the document now, or as it stood at `heads` (which must be known)."""

    def __init__(self, document: CircleDocument, heads: list[bytes] | None = None) -> None:
        self.doc = document.doc
        self.heads = heads

    def obj(self, parent: bytes, key: str | int) -> bytes | None:
        found = self.doc.get(parent, key, self.heads)
        if found is None or not isinstance(found[0], am.ObjType):
            return None
        return found[1]

    def scalar(self, obj: bytes, key: str | int, allowed: WriterCheck, kind: type):
        found = self.doc.get(obj, key, self.heads)
        if found is None:
            return None
        held, op_id = found
        if isinstance(held, am.ObjType):
            return None
        scalar_type, value = held
        if scalar_type == am.ScalarType.Bytes and isinstance(value, list):
            value = bytes(value)  # the binding hands bytes back as a list of ints
        if not allowed(op_id) or not isinstance(value, kind):
            return None
        if kind is int and isinstance(value, bool):
            return None
        return value

    def moment(self, obj: bytes, key: str, allowed: WriterCheck) -> datetime | None:
        """A time field; values outside years 1970-9999 count as absent, so one
        member's absurd timestamp cannot break everyone's views."""
        millis = self.scalar(obj, key, allowed, int)
        if millis is None or not 0 <= millis <= MAX_MILLIS:
            return None
        return from_millis(millis)

    def present(self, obj: bytes, key: str) -> bool:
        return self.doc.get(obj, key, self.heads) is not None

    def children(self, obj: bytes | None) -> list[tuple[str, bytes]]:
        if obj is None:
            return []
        out = []
        for key in self.doc.keys(obj, self.heads):
            child = self.obj(obj, key)
            if child is not None:
                out.append((key, child))
        return out


@dataclass(frozen=True)
class CollectionItem:
    """One item of a collection a later schema version added (domain/schema.py)."""

    id: str
    author_id: str
    fields: dict[str, object]


def read_items(document: CircleDocument, collection: str, roster: Roster) -> list[CollectionItem]:
    """A later collection's items, by id; each keeps only the fields its creator wrote."""
    reader = _Reader(document)
    out = []
    for key in sorted(document.doc.keys(ROOT)):
        item = reader.obj(ROOT, key) if schema.item_collection(key) == collection else None
        author = roster.member_of_op(item) if item is not None else None
        if item is None or author is None:
            continue
        own = roster.writes_as(author)
        fields: dict[str, object] = {}
        for field in document.doc.keys(item):
            found = document.doc.get(item, field)
            if found is not None and not isinstance(found[0], am.ObjType) and own(found[1]):
                fields[field] = found[0][1]
        out.append(CollectionItem(key.partition("/")[2], author, fields))
    return out


def read_info(document: CircleDocument, roster: Roster, organizers: frozenset[str]) -> CircleInfo:
    """Name, purpose and creation time; guidelines and resources live in governance."""
    reader = _Reader(document)
    circle = reader.obj(ROOT, "circle")
    if circle is None:
        raise ValueError("circle document has no circle settings")

    def by_organizer(op_id: bytes) -> bool:
        return roster.member_of_op(op_id) in organizers

    created = reader.moment(circle, "created_at", by_organizer) or from_millis(0)
    return CircleInfo(
        id=document.circle_id,
        name=reader.scalar(circle, "name", by_organizer, str) or "",
        purpose=reader.scalar(circle, "purpose", by_organizer, str) or "",
        guidelines="",
        created_at=created,
        organizer_ids=organizers,
    )


def read_names(document: CircleDocument, roster: Roster) -> dict[str, tuple[str, datetime | None]]:
    """Display names (and join time) members wrote for themselves."""
    reader = _Reader(document)
    out = {}
    for member_id, entry in reader.children(reader.obj(ROOT, "members")):
        own = roster.writes_as(member_id)
        if not own(entry):
            continue
        name = reader.scalar(entry, "name", own, str)
        if name:
            out[member_id] = (name, reader.moment(entry, "joined_at", own))
    return out


def _reactions(reader: _Reader, post: bytes, roster: Roster) -> dict[str, frozenset[str]]:
    """Keys are "member_id:kind" (member ids hold no colon); member M's entry counts
    only when M wrote it."""
    out: dict[str, set[str]] = {}
    reactions = reader.obj(post, "reactions")
    if reactions is None:
        return {}
    for key in reader.doc.keys(reactions, reader.heads):
        member_id, _, kind = key.partition(":")
        if not kind or len(kind) > MAX_REACTION_KIND_CHARS:
            continue
        if reader.scalar(reactions, key, roster.writes_as(member_id), bool):
            out.setdefault(kind, set()).add(member_id)
    return {kind: frozenset(who) for kind, who in out.items()}


def read_posts(document: CircleDocument, roster: Roster) -> list[Post]:
    """Every verifiable post, oldest first (ties broken by write order, then id)."""
    reader = _Reader(document)
    keyed = []
    for post_id, obj in reader.children(reader.obj(ROOT, "posts")):
        post = _post(reader, roster, post_id, obj)
        if post is not None:
            # Within one millisecond, the later op (a Lamport counter) was written later.
            keyed.append(((post.created_at, op_counter(obj), post.id), post))
    return [post for _, post in sorted(keyed, key=lambda pair: pair[0])]


def post_ids(document: CircleDocument) -> list[str]:
    """The keys of the posts map, verifiable or not (cheap: no values read)."""
    reader = _Reader(document)
    posts = reader.obj(ROOT, "posts")
    return list(document.doc.keys(posts)) if posts is not None else []


def read_post(document: CircleDocument, roster: Roster, post_id: str,
              heads: list[bytes] | None = None) -> Post | None:
    """One post (as it stood at `heads`, if given), or None if it is missing or
    not verifiable."""
    reader = _Reader(document, heads)
    posts = reader.obj(ROOT, "posts")
    obj = reader.obj(posts, post_id) if posts is not None else None
    return _post(reader, roster, post_id, obj) if obj is not None else None


def _post(reader: _Reader, roster: Roster, post_id: str, obj: bytes) -> Post | None:
    author = roster.member_of_op(obj)
    if author is None:
        return None
    own = roster.writes_as(author)
    body = reader.scalar(obj, "body", own, str)
    created = reader.moment(obj, "created_at", own)
    if body is None or created is None:
        return None
    warning = reader.scalar(obj, "content_warning", own, str)
    if warning is None and reader.present(obj, "content_warning"):
        # Someone else overwrote the author's warning: keep the post
        # collapsed rather than show it unwarned.
        warning = UNVERIFIED_WARNING
    return Post(
        id=post_id,
        author_id=author,
        body=body,
        created_at=created,
        reply_to=reader.scalar(obj, "reply_to", own, str),
        content_warning=warning,
        edited_at=reader.moment(obj, "edited_at", own),
        deleted=bool(reader.scalar(obj, "deleted", own, bool)),
        reactions=_reactions(reader, obj, roster),
    )


def read_checkins(document: CircleDocument, roster: Roster) -> list[CheckIn]:
    reader = _Reader(document)
    out = []
    for checkin_id, obj in reader.children(reader.obj(ROOT, "checkins")):
        author = roster.member_of_op(obj)
        if author is None:
            continue
        own = roster.writes_as(author)
        mood = reader.scalar(obj, "mood", own, int)
        band = reader.scalar(obj, "band", own, str)
        created = reader.moment(obj, "created_at", own)
        if created is None or (mood not in MOODS and band not in BANDS):
            continue
        if mood not in MOODS:  # shared as a band only: no number, note or tags
            out.append(CheckIn(id=checkin_id, author_id=author, mood=None, created_at=created,
                               visibility="band", band=band))
            continue
        energy = reader.scalar(obj, "energy", own, int)
        tags_obj = reader.obj(obj, "tags")
        tags: tuple[str, ...] = ()
        if tags_obj is not None:
            tags = tuple(
                value[1]
                for value, op_id in document.doc.values(tags_obj)
                if not isinstance(value, am.ObjType)
                and own(op_id)
                and isinstance(value[1], str)
            )
        out.append(
            CheckIn(
                id=checkin_id,
                author_id=author,
                mood=mood,
                created_at=created,
                energy=energy if energy in MOODS else None,
                note=reader.scalar(obj, "note", own, str) or "",
                tags=tags,
                visibility="circle",
            )
        )
    return sorted(out, key=lambda c: (c.created_at, c.id))


def read_events(document: CircleDocument, roster: Roster) -> list[Event]:
    reader = _Reader(document)
    out = []
    for event_id, obj in reader.children(reader.obj(ROOT, "events")):
        author = roster.member_of_op(obj)
        if author is None:
            continue
        own = roster.writes_as(author)
        title = reader.scalar(obj, "title", own, str)
        when = reader.moment(obj, "when", own)
        if not title or when is None:
            continue
        repeat = reader.scalar(obj, "repeat", own, str)
        tz = reader.scalar(obj, "tz", own, str) or ""
        minutes = reader.scalar(obj, "minutes", own, int)
        rsvps = {}
        rsvp_obj = reader.obj(obj, "rsvps")
        if rsvp_obj:
            for member_id in document.doc.keys(rsvp_obj):
                answer = reader.scalar(rsvp_obj, member_id, roster.writes_as(member_id), str)
                if answer in RSVP_ANSWERS:
                    rsvps[member_id] = answer
        out.append(
            Event(
                id=event_id,
                author_id=author,
                title=title,
                when=when,
                repeat=repeat if repeat in REPEATS else "none",
                where=reader.scalar(obj, "where", own, str) or "",
                notes=reader.scalar(obj, "notes", own, str) or "",
                rsvps=rsvps,
                # A zone this device's tz database lacks reads as UTC rather than breaking the view.
                tz=tz if is_zone(tz) else "",
                minutes=minutes if minutes is not None and 0 < minutes <= MAX_EVENT_MINUTES
                else DEFAULT_EVENT_MINUTES,
                cancelled=reader.scalar(obj, "cancelled", own, bool) is True,
                edited_at=reader.moment(obj, "edited_at", own),
            )
        )
    return sorted(out, key=lambda e: (e.when, e.id))
