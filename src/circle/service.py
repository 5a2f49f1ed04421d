"""The service layer: one object per unlocked profile, used by the CLI and TUI.

It composes the store (disk), crypto (sealing) and the domain (documents and
views). Every action that returns has made its write durable. Time and ids come
in through the constructor so tests are deterministic.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from circle.domain import views
from circle.domain.document import CircleDocument, from_millis, to_millis
from circle.domain.models import (
    MOODS,
    REPEATS,
    RSVP_ANSWERS,
    CheckIn,
    CircleInfo,
    CrisisResource,
    Event,
    Member,
    Post,
)
from circle.domain.refs import resolve
from circle.errors import InvalidInput, NotAllowed, NotFound
from circle.profile import Profile

Clock = Callable[[], datetime]
IdSource = Callable[[], str]

COMPACT_AFTER_CHANGES = 256
MAX_BODY_CHARS = 20_000
MAX_SHORT_CHARS = 200
MAX_TAGS = 10


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def random_id() -> str:
    return secrets.token_hex(8)


@dataclass(frozen=True)
class WhoAmI:
    member_id: str
    device_id: str
    name: str
    home: Path


@dataclass(frozen=True)
class CircleSummary:
    id: str
    name: str
    members: int
    posts: int


class OpenCircle:
    """A circle's document held in memory, with what it has persisted."""

    def __init__(self, document: CircleDocument, last_change_id: int, pending: int) -> None:
        self.document = document
        self.last_change_id = last_change_id
        self.changes_since_snapshot = pending
        self._roster: views.Roster | None = None

    @property
    def id(self) -> str:
        return self.document.circle_id

    def roster(self) -> views.Roster:
        if self._roster is None:
            self._roster = views.read_roster(self.document)
        return self._roster

    def invalidate(self) -> None:
        self._roster = None


def _text(value: str, what: str, limit: int = MAX_SHORT_CHARS, *, allow_empty: bool = False) -> str:
    value = value.strip()
    if not value and not allow_empty:
        raise InvalidInput(f"{what} is empty")
    if len(value) > limit:
        raise InvalidInput(f"{what} is too long ({len(value)} characters, at most {limit})")
    return value


class Service:
    def __init__(
        self, profile: Profile, *, clock: Clock = utc_now, new_id: IdSource = random_id
    ) -> None:
        self.profile = profile
        self.clock = clock
        self.new_id = new_id
        self._open: dict[str, OpenCircle] = {}

    # -- profile ------------------------------------------------------------

    @classmethod
    def create_profile(
        cls, home: Path, name: str, passphrase: str, *, clock: Clock = utc_now, **kw
    ) -> "Service":
        name = _text(name, "name", 80)
        return cls(Profile.create(home, name, passphrase, clock()), clock=clock, **kw)

    @classmethod
    def unlock(cls, home: Path, passphrase: str, **kw) -> "Service":
        return cls(Profile.unlock(home, passphrase), **kw)

    def close(self) -> None:
        self.profile.close()

    def whoami(self) -> WhoAmI:
        p = self.profile
        return WhoAmI(p.member_id, p.identity.device_id, p.name, p.home)

    # -- circles ------------------------------------------------------------

    def create_circle(self, name: str, purpose: str = "") -> str:
        name = _text(name, "circle name", 80)
        purpose = _text(purpose, "purpose", 500, allow_empty=True)
        circle_id = secrets.token_hex(16)
        actor = self.profile.identity.actor_id(circle_id)
        now = self.clock()
        document, _ = CircleDocument.create(
            circle_id, actor, name=name, purpose=purpose, created_at=now
        )
        document.introduce(self.profile.identity.public, self.profile.member_id, self.profile.name, now)
        snapshot = self.profile.seal(document.save(), "snapshot", circle_id)
        self.profile.store.add_circle(circle_id, snapshot)
        self._open[circle_id] = OpenCircle(document, 0, 0)
        return circle_id

    def circles(self) -> list[CircleSummary]:
        out = []
        for circle_id in self.profile.store.circle_ids():
            circle = self.open_circle(circle_id)
            roster = circle.roster()
            out.append(
                CircleSummary(
                    circle_id,
                    views.read_info(circle.document, roster).name,
                    len(views.read_members(circle.document, roster)),
                    len(views.read_posts(circle.document, roster)),
                )
            )
        return out

    def resolve_circle(self, ref: str) -> str:
        ids = self.profile.store.circle_ids()
        if ref in ids:
            return ref
        names = [(cid, self.info(cid).name) for cid in ids]
        return resolve(ref, names, "circle")

    def open_circle(self, circle_id: str) -> OpenCircle:
        if circle_id in self._open:
            return self._open[circle_id]
        try:
            records = self.profile.store.load_circle(circle_id)
        except KeyError:
            raise NotFound(f"unknown circle: {circle_id!r}") from None
        snapshot = self.profile.open(records.snapshot, "snapshot", circle_id)
        changes = [self.profile.open(blob, "change", circle_id) for blob in records.changes]
        actor = self.profile.identity.actor_id(circle_id)
        document = CircleDocument.load(circle_id, actor, snapshot, changes)
        circle = OpenCircle(document, records.last_change_id, len(changes))
        self._open[circle_id] = circle
        return circle

    def _persist(self, circle: OpenCircle, changes: list[bytes]) -> None:
        """Make `changes` (already applied in memory) durable, compacting when due."""
        circle.invalidate()
        sealed = [self.profile.seal(change, "change", circle.id) for change in changes]
        last = self.profile.store.append_changes(circle.id, sealed)
        circle.changes_since_snapshot += len(changes)
        if circle.changes_since_snapshot >= COMPACT_AFTER_CHANGES:
            self._compact(circle, known_through=last)
        circle.last_change_id = max(circle.last_change_id, last)

    def _compact(self, circle: OpenCircle, known_through: int) -> None:
        def build(newer: list[bytes]) -> bytes:
            # Changes another process wrote meanwhile join the snapshot first.
            circle.document.apply_changes(
                self.profile.open(blob, "change", circle.id) for blob in newer
            )
            return self.profile.seal(circle.document.save(), "snapshot", circle.id)

        circle.last_change_id = self.profile.store.compact(circle.id, known_through, build)
        circle.changes_since_snapshot = 0
        circle.invalidate()

    def refresh(self, circle_id: str) -> bool:
        """Apply changes other processes stored since we loaded. True if any."""
        circle = self.open_circle(circle_id)
        rows = self.profile.store.changes_after(circle_id, circle.last_change_id)
        if not rows:
            return False
        circle.document.apply_changes(self.profile.open(blob, "change", circle_id) for _, blob in rows)
        circle.last_change_id = rows[-1][0]
        circle.changes_since_snapshot += len(rows)
        circle.invalidate()
        return True

    def receive_changes(self, circle_id: str, changes: list[bytes]) -> int:
        """Apply changes from another device and store the ones new to us.

        Returns how many changes became part of the document (changes whose
        dependencies are still missing wait inside Automerge and are stored
        when they apply).
        """
        circle = self.open_circle(circle_id)
        before = circle.document.heads()
        circle.document.apply_changes(changes)
        applied = circle.document.changes_since(before)
        if applied:
            self._persist(circle, applied)
        return len(applied)

    # -- reading ------------------------------------------------------------

    def info(self, circle_id: str) -> CircleInfo:
        circle = self.open_circle(circle_id)
        return views.read_info(circle.document, circle.roster())

    def members(self, circle_id: str) -> list[Member]:
        circle = self.open_circle(circle_id)
        return views.read_members(circle.document, circle.roster())

    def member_names(self, circle_id: str) -> dict[str, str]:
        return {m.id: m.name for m in self.members(circle_id)}

    def feed(self, circle_id: str) -> list[Post]:
        circle = self.open_circle(circle_id)
        return views.read_posts(circle.document, circle.roster())

    def checkins(self, circle_id: str) -> list[CheckIn]:
        circle = self.open_circle(circle_id)
        shared = views.read_checkins(circle.document, circle.roster())
        return sorted(shared + self._private_checkins(circle_id), key=lambda c: (c.created_at, c.id))

    def events(self, circle_id: str) -> list[Event]:
        circle = self.open_circle(circle_id)
        return views.read_events(circle.document, circle.roster())

    def resolve_post(self, circle_id: str, ref: str) -> Post:
        posts = {p.id: p for p in self.feed(circle_id)}
        return posts[resolve(ref, ((pid, "") for pid in posts), "post")]

    def resolve_event(self, circle_id: str, ref: str) -> Event:
        events = {e.id: e for e in self.events(circle_id)}
        return events[resolve(ref, ((e.id, e.title) for e in events.values()), "event")]

    # -- writing ------------------------------------------------------------

    def _write(self, circle_id: str, write: Callable[[CircleDocument], list[bytes]]) -> None:
        circle = self.open_circle(circle_id)
        self._persist(circle, write(circle.document))

    def post(
        self,
        circle_id: str,
        body: str,
        *,
        reply_to: str | None = None,
        content_warning: str | None = None,
    ) -> Post:
        body = _text(body, "post", MAX_BODY_CHARS)
        cw = _text(content_warning, "content warning", allow_empty=True) if content_warning else None
        parent = self.resolve_post(circle_id, reply_to).id if reply_to else None
        post_id = self.new_id()
        now = self.clock()
        self._write(circle_id, lambda d: d.add_post(post_id, body, now, parent, cw or None))
        return self.resolve_post(circle_id, post_id)

    def _own_post(self, circle_id: str, ref: str, verb: str) -> Post:
        post = self.resolve_post(circle_id, ref)
        if post.author_id != self.profile.member_id:
            raise NotAllowed(f"you can only {verb} your own posts")
        if post.deleted:
            raise NotAllowed(f"post {post.id} is deleted")
        return post

    def edit(self, circle_id: str, ref: str, body: str) -> Post:
        body = _text(body, "post", MAX_BODY_CHARS)
        post = self._own_post(circle_id, ref, "edit")
        now = self.clock()
        self._write(circle_id, lambda d: d.edit_post(post.id, body, now))
        return self.resolve_post(circle_id, post.id)

    def delete(self, circle_id: str, ref: str) -> Post:
        post = self._own_post(circle_id, ref, "delete")
        now = self.clock()
        self._write(circle_id, lambda d: d.delete_post(post.id, now))
        return self.resolve_post(circle_id, post.id)

    def react(self, circle_id: str, ref: str, kind: str, *, on: bool = True) -> Post:
        kind = _text(kind, "reaction", views.MAX_REACTION_KIND_CHARS)
        post = self.resolve_post(circle_id, ref)
        if post.deleted:
            raise NotAllowed(f"post {post.id} is deleted")
        me = self.profile.member_id
        self._write(circle_id, lambda d: d.set_reaction(post.id, kind, me, on))
        return self.resolve_post(circle_id, post.id)

    def checkin(
        self,
        circle_id: str,
        mood: int,
        *,
        energy: int | None = None,
        note: str = "",
        tags: tuple[str, ...] = (),
        private: bool = False,
    ) -> CheckIn:
        if mood not in MOODS:
            raise InvalidInput(f"mood must be 1 to 5, not {mood}")
        if energy is not None and energy not in MOODS:
            raise InvalidInput(f"energy must be 1 to 5, not {energy}")
        note = _text(note, "note", 2000, allow_empty=True)
        tags = tuple(dict.fromkeys(_text(t, "tag", 40) for t in tags))
        if len(tags) > MAX_TAGS:
            raise InvalidInput(f"at most {MAX_TAGS} tags")
        self.open_circle(circle_id)
        checkin = CheckIn(
            id=self.new_id(),
            author_id=self.profile.member_id,
            mood=mood,
            created_at=self.clock(),
            energy=energy,
            note=note,
            tags=tags,
            visibility="me" if private else "circle",
        )
        if private:
            # `me` check-ins never enter the shared document: sealed, local only.
            record = {
                "mood": mood, "energy": energy, "note": note, "tags": list(tags),
                "created_at": to_millis(checkin.created_at),
            }
            sealed = self.profile.seal(json.dumps(record).encode(), "private", circle_id, "checkin", checkin.id)
            self.profile.store.put_private(circle_id, "checkin", checkin.id, sealed)
        else:
            self._write(
                circle_id,
                lambda d: d.add_checkin(
                    checkin.id, mood, checkin.created_at, energy=energy, note=note, tags=tags
                ),
            )
        return checkin

    def _private_checkins(self, circle_id: str) -> list[CheckIn]:
        out = []
        for item_id, blob in self.profile.store.private_items(circle_id, "checkin"):
            record = json.loads(self.profile.open(blob, "private", circle_id, "checkin", item_id))
            out.append(
                CheckIn(
                    id=item_id,
                    author_id=self.profile.member_id,
                    mood=record["mood"],
                    created_at=from_millis(record["created_at"]),
                    energy=record["energy"],
                    note=record["note"],
                    tags=tuple(record["tags"]),
                    visibility="me",
                )
            )
        return out

    def add_event(
        self, circle_id: str, title: str, when: datetime, *, repeat: str = "none",
        where: str = "", notes: str = "",
    ) -> Event:
        title = _text(title, "event title", 120)
        if repeat not in REPEATS:
            raise InvalidInput(f"repeat must be one of {', '.join(REPEATS)}, not {repeat!r}")
        where = _text(where, "place", allow_empty=True)
        notes = _text(notes, "notes", 2000, allow_empty=True)
        event_id = self.new_id()
        now = self.clock()
        self._write(
            circle_id,
            lambda d: d.add_event(event_id, title, when, now, repeat=repeat, where=where, notes=notes),
        )
        return self.resolve_event(circle_id, event_id)

    def rsvp(self, circle_id: str, ref: str, answer: str) -> Event:
        if answer not in RSVP_ANSWERS:
            raise InvalidInput(f"answer must be one of {', '.join(RSVP_ANSWERS)}, not {answer!r}")
        event = self.resolve_event(circle_id, ref)
        me = self.profile.member_id
        self._write(circle_id, lambda d: d.set_rsvp(event.id, me, answer))
        return self.resolve_event(circle_id, event.id)

    def add_resource(self, circle_id: str, resource: CrisisResource) -> CircleInfo:
        self._require_organizer(circle_id, "add crisis resources")
        fields = {
            "name": _text(resource.name, "resource name"),
            "contact": _text(resource.contact, "resource contact"),
            "region": _text(resource.region, "region", allow_empty=True),
            "hours": _text(resource.hours, "hours", allow_empty=True),
        }
        self._write(circle_id, lambda d: d.add_resource(**fields))
        return self.info(circle_id)

    def set_guidelines(self, circle_id: str, text: str) -> CircleInfo:
        self._require_organizer(circle_id, "change the guidelines")
        text = _text(text, "guidelines", MAX_BODY_CHARS)
        self._write(circle_id, lambda d: d.set_circle_field("guidelines", text))
        return self.info(circle_id)

    def _require_organizer(self, circle_id: str, doing: str) -> None:
        if self.profile.member_id not in self.info(circle_id).organizer_ids:
            raise NotAllowed(f"only organizers can {doing}")

