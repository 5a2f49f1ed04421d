"""The service layer: one object per unlocked profile, used by the CLI and TUI.

It composes the store (disk), crypto (sealing) and the domain (documents,
governance, views). Every action that returns has made its write durable.
Time and ids come in through the constructor so tests are deterministic.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from circle.domain import views
from circle.domain.document import CircleDocument, DocumentWriteFailed, from_millis, to_millis
from circle.domain.governance.actions import Action, sign_action
from circle.domain.governance.keyring import rotation_body
from circle.domain.governance.resolver import resolve
from circle.domain.models import (
    MOODS,
    REPEATS,
    RSVP_ANSWERS,
    SHARES,
    CheckIn,
    CircleInfo,
    Event,
    Member,
    Post,
    band_of,
)
from circle.domain.refs import resolve as resolve_ref
from circle.errors import CircleError, InternalError, InvalidInput, NotAllowed, NotFound
from circle.profile import Profile
from circle.service.opened import OpenCircle, load_open_circle, open_stored_action
from circle.service.restore import ensure_may_write
from circle.domain.heads import SignedHead

log = logging.getLogger("circle.service")

Clock = Callable[[], datetime]
IdSource = Callable[[], str]

COMPACT_AFTER_CHANGES = 256
MAX_BODY_CHARS = 20_000
MAX_SHORT_CHARS = 200
MAX_TAGS = 10
MODERATING_ROLES = ("organizer", "moderator")
PREFS = "prefs"


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
    role: str | None


def clean_text(value: str, what: str, limit: int = MAX_SHORT_CHARS, *, allow_empty: bool = False) -> str:
    value = value.strip()
    if "\x00" in value:
        raise InvalidInput(f"{what} contains a NUL character")
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        raise InvalidInput(f"{what} is not valid UTF-8 text")
    if not value and not allow_empty:
        raise InvalidInput(f"{what} is empty")
    if len(value) > limit:
        raise InvalidInput(f"{what} is too long ({len(value)} characters, at most {limit})")
    return value


def topic_pattern(topics: tuple[str, ...]) -> re.Pattern | None:
    """One pattern for all of a reader's topics, each matched as whole words."""
    if not topics:
        return None
    return re.compile("|".join(rf"(?<!\w){re.escape(t)}(?!\w)" for t in topics), re.IGNORECASE)


def _filtered(post: Post, pattern: re.Pattern | None) -> Post:
    """Fold a post whose warning or text names one of the reader's topics."""
    if pattern is None or post.collapsed_reason or post.deleted or (post.hidden and not post.body):
        return post
    found = pattern.search(f"{post.content_warning or ''}\n{post.body}")
    if found is None:
        return post
    return replace(post, collapsed_reason=f"matches your filter: {found.group(0).lower()}")


class ServiceCore:
    def __init__(
        self, profile: Profile, *, clock: Clock = utc_now, new_id: IdSource = random_id
    ) -> None:
        self.profile = profile
        self.clock = clock
        self.new_id = new_id
        self._open: dict[str, OpenCircle] = {}
        self._listeners: list[Callable[[str], None]] = []
        self._cw_filters: tuple[str, ...] | None = None

    def subscribe(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Call `listener(circle_id)` after anything new is stored; returns an unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _notify(self, circle_id: str) -> None:
        for listener in list(self._listeners):
            listener(circle_id)

    # -- profile ------------------------------------------------------------

    @classmethod
    def create_profile(cls, home: Path, name: str, passphrase: str, *, clock: Clock = utc_now, **kw):
        name = clean_text(name, "name", 80)
        return cls(Profile.create(home, name, passphrase, clock()), clock=clock, **kw)

    @classmethod
    def unlock(cls, home: Path, passphrase: str, **kw):
        return cls(Profile.unlock(home, passphrase), **kw)

    def close(self) -> None:
        self.profile.close()

    def whoami(self) -> WhoAmI:
        p = self.profile
        return WhoAmI(p.member_id, p.identity.device_id, p.name, p.home)

    def now_ms(self) -> int:
        return to_millis(self.clock())

    # -- this device's own preferences (sealed private items, never synced) -------

    def _pref(self, circle_id: str, name: str):
        for item_id, blob in self.profile.store.private_items(circle_id, PREFS):
            if item_id == name:
                return json.loads(self.profile.open(blob, "private", circle_id, PREFS, name))
        return None

    def _set_pref(self, circle_id: str, name: str, value) -> None:
        sealed = self.profile.seal(json.dumps(value).encode(), "private", circle_id, PREFS, name)
        self.profile.store.put_private(circle_id, PREFS, name, sealed)

    # -- circles ------------------------------------------------------------

    def create_circle(self, name: str, purpose: str = "") -> str:
        name = clean_text(name, "circle name", 80)
        purpose = clean_text(purpose, "purpose", 500, allow_empty=True)
        identity = self.profile.identity
        now = self.clock()
        device = {"sign": identity.public.sign_pub.hex(), "dh": identity.public.dh_pub.hex()}
        genesis = sign_action(
            identity, None, "create", [], to_millis(now),
            {"name": name, "nonce": secrets.token_hex(16), "device": device},
        )
        circle_id = genesis.id[:32]
        body, _ = rotation_body(resolve(circle_id, [genesis]), {})
        first_epoch = sign_action(identity, circle_id, "rotate", [genesis.id], to_millis(now), body)
        document, changes = CircleDocument.create(
            circle_id, identity.actor_id(circle_id), name=name, purpose=purpose, created_at=now
        )
        changes += document.introduce(self.profile.member_id, self.profile.name, now)
        circle = OpenCircle(identity, document, {a.id: a for a in (genesis, first_epoch)}, {}, 0, 0)
        head = circle.sign_own_head(changes)
        self.profile.store.add_circle(
            circle_id,
            self.profile.seal(document.save(), "snapshot", circle_id),
            [self._sealed_action(circle_id, a) for a in (genesis, first_epoch)],
            [self._sealed_head(circle_id, head)],
        )
        self._open[circle_id] = circle
        return circle_id

    def circles(self) -> list[CircleSummary]:
        out = []
        for circle_id in self.profile.store.circle_ids():
            circle = self.open_circle(circle_id)
            out.append(
                CircleSummary(
                    circle_id,
                    self.info(circle_id).name,
                    len(circle.state.active_members()),
                    len(self.feed(circle_id)),
                    circle.state.role_of(circle.my_member_id or ""),
                )
            )
        return out

    def resolve_circle(self, ref: str) -> str:
        ids = self.profile.store.circle_ids()
        if ref in ids:
            return ref
        return resolve_ref(ref, [(cid, self.info(cid).name) for cid in ids], "circle")

    def open_circle(self, circle_id: str) -> OpenCircle:
        if circle_id not in self._open:
            self._open[circle_id] = load_open_circle(self.profile, circle_id)
        return self._open[circle_id]

    # -- persistence ----------------------------------------------------------

    def _sealed_action(self, circle_id: str, action: Action) -> tuple[str, bytes]:
        return action.id, self.profile.seal(action.wire, "action", circle_id, action.id)

    def _sealed_head(self, circle_id: str, head: SignedHead) -> tuple[str, bytes]:
        actor = head.actor.hex()
        return actor, self.profile.seal(head.encode(), "head", circle_id, actor)

    @contextmanager
    def _writing(self, circle_id: str) -> Iterator[OpenCircle]:
        """Hold the profile's write lock with the circle up to date.

        Other processes may write this profile (the app, `circle serve`, a CLI
        command). Under the lock we first fold in what they stored, so our next
        change builds on theirs and never reuses a sequence number. If anything
        fails, the in-memory circle is dropped and reloaded from disk next time,
        so memory never holds a change the store does not.
        """
        try:
            with self.profile.store.write_lock():
                self.refresh(circle_id)
                circle = self.open_circle(circle_id)
                yield circle
        except BaseException:
            self._open.pop(circle_id, None)
            raise
        if circle.changes_since_snapshot >= COMPACT_AFTER_CHANGES:
            try:
                self._compact(circle)
            except CircleError as exc:  # the write is safe; compaction retries later
                log.warning("compaction of %s postponed: %s", circle_id, exc)

    def _persist(
        self,
        circle: OpenCircle,
        changes: list[bytes] = (),
        actions: list[Action] = (),
        heads: list[SignedHead] = (),
    ) -> None:
        """Make changes (already in the document), actions and heads durable together.
        Call inside `_writing`."""
        heads = list(heads)
        own = circle.sign_own_head(list(changes))
        if own is not None:
            heads.append(own)
        last = self.profile.store.append(
            circle.id,
            changes=[self.profile.seal(c, "change", circle.id) for c in changes],
            actions=[self._sealed_action(circle.id, a) for a in actions],
            heads=[self._sealed_head(circle.id, h) for h in heads],
        )
        if actions:
            circle.add_actions(list(actions))
        if changes:
            circle.learn_objects(changes)
            circle.changes_since_snapshot += len(changes)
            circle.last_change_id = max(circle.last_change_id, last)
        self._notify(circle.id)

    def _compact(self, circle: OpenCircle) -> None:
        def build(newer: list[bytes]) -> bytes:
            # Changes another process wrote meanwhile join the snapshot first.
            circle.document.apply_changes(self.profile.open(b, "change", circle.id) for b in newer)
            return self.profile.seal(circle.document.save(), "snapshot", circle.id)

        circle.last_change_id = self.profile.store.compact(circle.id, circle.last_change_id, build)
        circle.changes_since_snapshot = 0
        circle.snapshot_seq = self.profile.store.snapshot_seq(circle.id)

    def refresh(self, circle_id: str) -> bool:
        """Fold in what other processes on this profile stored since we loaded."""
        circle = self.open_circle(circle_id)
        if self.profile.store.snapshot_seq(circle_id) != circle.snapshot_seq:
            # Another process compacted: changes we never read may now live only
            # in the new snapshot. Reload from it.
            self._open[circle_id] = load_open_circle(self.profile, circle_id)
            self._notify(circle_id)
            return True
        rows = self.profile.store.changes_after(circle_id, circle.last_change_id)
        fresh_actions = []
        for action_id, blob in self.profile.store.actions(circle_id):
            if action_id in circle.actions or action_id in circle.tampered:
                continue
            action = open_stored_action(self.profile, circle_id, action_id, blob)
            if isinstance(action, str):
                circle.tampered[action_id] = action
            else:
                fresh_actions.append(action)
        if rows:
            circle.document.apply_changes(self.profile.open(b, "change", circle_id) for _, b in rows)
            circle.forget_objects()
            circle.last_change_id = rows[-1][0]
            circle.changes_since_snapshot += len(rows)
        if fresh_actions:
            circle.add_actions(fresh_actions)
        for actor_hex, blob in self.profile.store.signed_heads(circle_id):
            circle.keep_head(SignedHead.decode(self.profile.open(blob, "head", circle_id, actor_hex)))
        if rows or fresh_actions:
            self._notify(circle_id)
        return bool(rows or fresh_actions)

    def refresh_all(self) -> list[str]:
        """Fold in other processes' writes to every open circle, and any new circle
        (e.g. one joined meanwhile); returns the circles that changed."""
        if not self.profile.store.changed_elsewhere():
            return []
        changed = [cid for cid in list(self._open) if self.refresh(cid)]
        for circle_id in self.profile.store.circle_ids():
            if circle_id not in self._open:
                self.open_circle(circle_id)
                changed.append(circle_id)
        return changed

    def _write(self, circle_id: str, write: Callable[[CircleDocument], list[bytes]]) -> None:
        with self._writing(circle_id) as circle:
            if not circle.is_active_member():
                raise NotAllowed("you are no longer a member of this circle")
            ensure_may_write(self, circle)
            try:
                changes = write(circle.document)
            except DocumentWriteFailed as exc:
                raise InternalError(f"{exc}; nothing was stored") from exc
            self._persist(circle, changes)

    # -- reading ------------------------------------------------------------

    def info(self, circle_id: str) -> CircleInfo:
        circle = self.open_circle(circle_id)
        organizers = frozenset(m.id for m in circle.state.organizers())
        base = views.read_info(circle.document, circle.roster(), organizers)
        return replace(
            base,
            name=base.name or circle.state.name,
            guidelines=circle.state.guidelines,
            resources=circle.state.resources,
        )

    def members(self, circle_id: str, *, include_departed: bool = False) -> list[Member]:
        circle = self.open_circle(circle_id)
        names = views.read_names(circle.document, circle.roster())
        out = []
        for member in sorted(circle.state.members.values(), key=lambda m: m.rank):
            if member.status != "active" and not include_departed:
                continue
            name, joined = names.get(member.id, (f"member {member.id[:6]}", None))
            out.append(Member(member.id, name, joined, member.role, member.status))
        return out

    def last_seen(self, circle_id: str) -> dict[str, datetime]:
        """When each member was last heard from: their newest post or shared check-in."""
        circle = self.open_circle(circle_id)
        seen: dict[str, datetime] = {}
        shared = views.read_checkins(circle.document, circle.roster())
        for item in [*self.feed(circle_id), *shared]:
            if item.author_id not in seen or item.created_at > seen[item.author_id]:
                seen[item.author_id] = item.created_at
        return seen

    def rename(self, circle_id: str, name: str) -> None:
        """Change one's own display name in one circle (others see it after sync)."""
        name = clean_text(name, "name", 80)
        with self._writing(circle_id) as circle:
            if not circle.is_active_member():
                raise NotAllowed("you are no longer a member of this circle")
            ensure_may_write(self, circle)
            self._persist(circle, circle.document.rename(circle.my_member_id, name))

    def member_names(self, circle_id: str) -> dict[str, str]:
        return {m.id: m.name for m in self.members(circle_id, include_departed=True)}

    def my_role(self, circle_id: str) -> str | None:
        circle = self.open_circle(circle_id)
        return circle.state.role_of(circle.my_member_id or "")

    def feed(self, circle_id: str) -> list[Post]:
        """Posts, with moderation applied: hidden posts keep their place, but only
        moderators still see the body; posts pending review, or touching a topic
        this member filters, come folded. Computed once per state of the circle."""
        circle = self.open_circle(circle_id)
        moderating = self.my_role(circle_id) in MODERATING_ROLES
        topics = self.cw_filters()
        pattern = topic_pattern(topics)
        return circle.cached("feed/" + "\n".join(topics), lambda: [
            _filtered(self._moderated(circle, post, moderating), pattern)
            for post in views.read_posts(circle.document, circle.roster())
        ])

    def cw_filters(self) -> tuple[str, ...]:
        """Topics whose posts stay folded for this member, in every circle (read
        from the store once: `feed` runs on every repaint)."""
        if self._cw_filters is None:
            self._cw_filters = tuple(self._pref("", "cw-filters") or ())
        return self._cw_filters

    @staticmethod
    def _moderated(circle: OpenCircle, post: Post, moderating: bool) -> Post:
        hidden = circle.state.hidden.get(post.id)
        reason = hidden.reason if hidden else None
        if reason is None and post.author_id in circle.state.mutes:
            since, until = circle.state.mutes[post.author_id]
            if since <= to_millis(post.created_at) < until:
                reason = "written while muted"
        if reason is None:
            collapsed = circle.state.collapsed.get(post.id)
            if collapsed is None:
                return post
            n = collapsed.reports
            return replace(post, collapsed_reason=f"pending moderator review ({n} report{'s' * (n != 1)})")
        return replace(post, hidden=True, hidden_reason=reason, body=post.body if moderating else "")

    def checkins(self, circle_id: str) -> list[CheckIn]:
        """Everyone's shared check-ins, with this member's own in full (their
        band-only ones included) from the sealed local copies."""
        circle = self.open_circle(circle_id)
        mine = {c.id: c for c in self._private_checkins(circle_id)}
        shared = [c for c in views.read_checkins(circle.document, circle.roster()) if c.id not in mine]
        return sorted(shared + list(mine.values()), key=lambda c: (c.created_at, c.id))

    def events(self, circle_id: str) -> list[Event]:
        circle = self.open_circle(circle_id)
        return views.read_events(circle.document, circle.roster())

    def resolve_post(self, circle_id: str, ref: str) -> Post:
        """One post by id or unique prefix, reading only that post."""
        circle = self.open_circle(circle_id)
        post_id = resolve_ref(ref, ((pid, "") for pid in views.post_ids(circle.document)), "post")
        post = views.read_post(circle.document, circle.roster(), post_id)
        if post is None:
            raise NotFound(f"unknown post: {ref!r}")
        return self._moderated(circle, post, self.my_role(circle_id) in MODERATING_ROLES)

    def resolve_event(self, circle_id: str, ref: str) -> Event:
        events = {e.id: e for e in self.events(circle_id)}
        return events[resolve_ref(ref, ((e.id, e.title) for e in events.values()), "event")]

    def resolve_member(self, circle_id: str, ref: str) -> Member:
        members = {m.id: m for m in self.members(circle_id)}
        return members[resolve_ref(ref, ((m.id, m.name) for m in members.values()), "member")]

    # -- writing content ------------------------------------------------------

    def post(self, circle_id: str, body: str, *, reply_to: str | None = None,
             content_warning: str | None = None) -> Post:
        body = clean_text(body, "post", MAX_BODY_CHARS)
        cw = clean_text(content_warning, "content warning", allow_empty=True) if content_warning else None
        parent = self.resolve_post(circle_id, reply_to).id if reply_to else None
        self._check_may_post(circle_id)
        post_id = self.new_id()
        now = self.clock()
        self._write(circle_id, lambda d: d.add_post(post_id, body, now, parent, cw or None))
        return self.resolve_post(circle_id, post_id)

    def _check_may_post(self, circle_id: str) -> None:
        circle = self.open_circle(circle_id)
        me = circle.my_member_id or ""
        _, until = circle.state.mutes.get(me, (0, 0))
        if self.now_ms() < until:
            raise NotAllowed(f"a moderator muted you until {from_millis(until).isoformat(timespec='minutes')}")
        if circle.state.must_accept_guidelines(me):
            raise NotAllowed("accept the circle's current guidelines before posting (in the app: the "
                             "Guidelines tab; on the command line: `circle guidelines CIRCLE --accept`)")

    def _own_post(self, circle_id: str, ref: str, verb: str) -> Post:
        post = self.resolve_post(circle_id, ref)
        if post.author_id != self.open_circle(circle_id).my_member_id:
            raise NotAllowed(f"you can only {verb} your own posts")
        if post.deleted:
            raise NotAllowed(f"post {post.id} is deleted")
        return post

    def edit(self, circle_id: str, ref: str, body: str) -> Post:
        body = clean_text(body, "post", MAX_BODY_CHARS)
        post = self._own_post(circle_id, ref, "edit")
        self._check_may_post(circle_id)
        now = self.clock()
        self._write(circle_id, lambda d: d.edit_post(post.id, body, now))
        return self.resolve_post(circle_id, post.id)

    def delete(self, circle_id: str, ref: str) -> Post:
        post = self._own_post(circle_id, ref, "delete")
        now = self.clock()
        self._write(circle_id, lambda d: d.delete_post(post.id, now))
        return self.resolve_post(circle_id, post.id)

    def react(self, circle_id: str, ref: str, kind: str, *, on: bool = True) -> Post:
        kind = clean_text(kind, "reaction", views.MAX_REACTION_KIND_CHARS)
        post = self.resolve_post(circle_id, ref)
        if post.deleted:
            raise NotAllowed(f"post {post.id} is deleted")
        me = self.open_circle(circle_id).my_member_id
        self._write(circle_id, lambda d: d.set_reaction(post.id, kind, me, on))
        return self.resolve_post(circle_id, post.id)

    def checkin(self, circle_id: str, mood: int, *, energy: int | None = None, note: str = "",
                tags: tuple[str, ...] = (), share: str = "circle") -> CheckIn:
        """Record a check-in. `share`: "circle" (in full), "band" (the circle sees
        only "doing okay" / "could use support"; the rest stays here) or "me"."""
        if mood not in MOODS:
            raise InvalidInput(f"mood must be 1 to 5, not {mood}")
        if energy is not None and energy not in MOODS:
            raise InvalidInput(f"energy must be 1 to 5, not {energy}")
        if share not in SHARES:
            raise InvalidInput(f"share must be one of {', '.join(SHARES)}, not {share!r}")
        note = clean_text(note, "note", 2000, allow_empty=True)
        tags = tuple(dict.fromkeys(clean_text(t, "tag", 40) for t in tags))
        if len(tags) > MAX_TAGS:
            raise InvalidInput(f"at most {MAX_TAGS} tags")
        circle = self.open_circle(circle_id)
        checkin = CheckIn(
            id=self.new_id(), author_id=circle.my_member_id or self.profile.member_id, mood=mood,
            created_at=self.clock(), energy=energy, note=note, tags=tags, visibility=share,
            band=band_of(mood) if share == "band" else None,
        )
        if share == "circle":
            self._write(circle_id, lambda d: d.add_checkin(
                checkin.id, mood, checkin.created_at, energy=energy, note=note, tags=tags))
            return checkin
        if share == "band":  # the band goes out first: if that fails, nothing is kept
            self._write(circle_id, lambda d: d.add_checkin_band(checkin.id, checkin.band, checkin.created_at))
        # The full record never enters the shared document: sealed, local only.
        record = {"mood": mood, "energy": energy, "note": note, "tags": list(tags),
                  "created_at": to_millis(checkin.created_at), "share": share}
        sealed = self.profile.seal(json.dumps(record).encode(), "private", circle_id, "checkin", checkin.id)
        self.profile.store.put_private(circle_id, "checkin", checkin.id, sealed)
        return checkin

    def _private_checkins(self, circle_id: str) -> list[CheckIn]:
        me = self.open_circle(circle_id).my_member_id or self.profile.member_id
        out = []
        for item_id, blob in self.profile.store.private_items(circle_id, "checkin"):
            record = json.loads(self.profile.open(blob, "private", circle_id, "checkin", item_id))
            share = record.get("share", "me")
            out.append(CheckIn(
                id=item_id, author_id=me, mood=record["mood"],
                created_at=from_millis(record["created_at"]), energy=record["energy"],
                note=record["note"], tags=tuple(record["tags"]), visibility=share,
                band=band_of(record["mood"]) if share == "band" else None,
            ))
        return out

    def add_event(self, circle_id: str, title: str, when: datetime, *, repeat: str = "none",
                  where: str = "", notes: str = "") -> Event:
        title = clean_text(title, "event title", 120)
        if repeat not in REPEATS:
            raise InvalidInput(f"repeat must be one of {', '.join(REPEATS)}, not {repeat!r}")
        where = clean_text(where, "place", allow_empty=True)
        notes = clean_text(notes, "notes", 2000, allow_empty=True)
        event_id = self.new_id()
        now = self.clock()
        self._write(circle_id, lambda d: d.add_event(
            event_id, title, when, now, repeat=repeat, where=where, notes=notes))
        return self.resolve_event(circle_id, event_id)

    def rsvp(self, circle_id: str, ref: str, answer: str) -> Event:
        if answer not in RSVP_ANSWERS:
            raise InvalidInput(f"answer must be one of {', '.join(RSVP_ANSWERS)}, not {answer!r}")
        event = self.resolve_event(circle_id, ref)
        me = self.open_circle(circle_id).my_member_id
        self._write(circle_id, lambda d: d.set_rsvp(event.id, me, answer))
        return self.resolve_event(circle_id, event.id)
