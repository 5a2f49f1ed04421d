"""The shared Automerge document of one circle, and every way we write to it.

Layout (root map):
    circle     {name, purpose, created_at}                 written by organizers
    members    {member_id: {name, joined_at}}              written by that member
    posts      {post_id: {body, created_at, reply_to, content_warning,
                          edited_at, deleted, reactions {"member_id:kind": bool}}}
    checkins   {checkin_id: {mood, energy, note, tags [str], created_at}
                | {band, created_at}}                      (shared as a band only)
    events     {event_id: {title, when, repeat, where, notes, created_at,
                           rsvps {member_id: answer},
                           tz, minutes, cancelled, edited_at}}       (the last four optional)
    schema/<n> True                                        written by organizers
    <collection>/<item_id> {field: value}                  written by its creator
    polls/<poll_id> {question, options [str], created_at, closes_at, post, guidelines,
                     votes {"member_id:choice": int, "member_id:at": int},
                     closes {"member_id:at": int, "member_id:heads": str}}   (schema 2)

The last two come with schema versions after 1 (see domain/schema.py): a
circle gains a collection without anyone creating a shared map for it.

Times are integers: milliseconds since the Unix epoch, UTC. Bodies are plain
strings, not Automerge Text, which keeps a 100k-post document small in memory.
Membership, roles, guidelines, crisis resources and moderation are not here:
they live in the signed governance log (domain/governance). Nothing here decides
who may write what: `views` applies the authorship rules when reading.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timezone

import automerge.core as am

from circle.domain import schema
from circle.domain.change_header import read_change_header
from circle.leb128 import encode_uleb

ROOT = am.ROOT
_STR = am.ScalarType.Str
_INT = am.ScalarType.Int
_BOOL = am.ScalarType.Boolean
_MAP = am.ObjType.Map
_LIST = am.ObjType.List

TOP_MAPS = ("circle", "members", "posts", "checkins", "events")


def to_millis(moment: datetime) -> int:
    return int(moment.astimezone(timezone.utc).timestamp() * 1000)


MAX_MILLIS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z: the last moment `datetime` can hold


def from_millis(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, tz=timezone.utc)


def sync_message_carrying(changes: Iterable[bytes]) -> bytes:
    """An Automerge sync message (v1) that carries only `changes`.

    The binding has no apply_changes; receiving a sync message is its documented
    way to apply raw changes incrementally. Layout: type 0x42, heads, need,
    have (all empty here), then the change count and each change length-prefixed.
    Changes whose dependencies are missing are queued by Automerge until they arrive.
    """
    body = [b"\x42", encode_uleb(0), encode_uleb(0), encode_uleb(0)]
    changes = list(changes)
    body.append(encode_uleb(len(changes)))
    for change in changes:
        body.append(encode_uleb(len(change)))
        body.append(change)
    return b"".join(body)


class DocumentWriteFailed(Exception):
    """Automerge refused or failed a write; the document may be unusable until reloaded."""


class CircleDocument:
    """One circle's Automerge document, written as one actor (this device)."""

    def __init__(self, circle_id: str, doc: am.Document) -> None:
        self.circle_id = circle_id
        self.doc = doc

    # -- lifecycle ----------------------------------------------------------

    @classmethod
    def create(
        cls,
        circle_id: str,
        actor: bytes,
        *,
        name: str,
        purpose: str,
        created_at: datetime,
    ) -> tuple[CircleDocument, list[bytes]]:
        document = cls(circle_id, am.Document(actor_id=actor))

        def write(tx: am.Transaction) -> None:
            objs = {key: tx.put_object(ROOT, key, _MAP) for key in TOP_MAPS}
            tx.put(objs["circle"], "name", _STR, name)
            tx.put(objs["circle"], "purpose", _STR, purpose)
            tx.put(objs["circle"], "created_at", _INT, to_millis(created_at))
            for version in range(schema.BASE_VERSION + 1, schema.known_version() + 1):
                tx.put(ROOT, schema.mark_key(version), _BOOL, True)

        return document, document._commit(write)

    @classmethod
    def load(
        cls, circle_id: str, actor: bytes, snapshot: bytes, changes: Iterable[bytes] = ()
    ) -> CircleDocument:
        # Automerge loads a saved document followed by change chunks in one call.
        doc = am.Document.load(snapshot + b"".join(changes))
        doc.set_actor(actor)
        return cls(circle_id, doc)

    @classmethod
    def rebuilt(cls, circle_id: str, actor: bytes, changes: Iterable[bytes]) -> CircleDocument:
        """A document holding exactly `changes` (e.g. a document minus some of its own)."""
        document = cls(circle_id, am.Document(actor_id=actor))
        document.apply_changes(changes)
        return document

    def fork_as(self, actor: bytes) -> CircleDocument:
        """A copy that writes as another actor (another device's view of the circle)."""
        doc = self.doc.fork()
        doc.set_actor(actor)
        return CircleDocument(self.circle_id, doc)

    def save(self) -> bytes:
        return self.doc.save()

    def heads(self) -> list[bytes]:
        return self.doc.get_heads()

    def apply_changes(self, changes: Iterable[bytes]) -> None:
        """Apply changes from elsewhere without reloading the document.

        Raises ChangeFormatError (a ValueError), applying none of them, if any is
        not an intact change chunk: Automerge itself would drop it silently.
        """
        changes = list(changes)
        for change in changes:
            read_change_header(change)
        message = am.Message.decode(sync_message_carrying(changes))
        self.doc.receive_sync_message(am.SyncState(), message)

    def changes_since(self, heads: list[bytes]) -> list[bytes]:
        return [change.bytes for change in self.doc.get_changes(heads)]

    def _commit(self, write: Callable[[am.Transaction], None]) -> list[bytes]:
        # Older code writing to a newer document could break rules it does not know.
        schema.ensure_writable(self.doc)
        before = self.doc.get_heads()
        try:
            with self.doc.transaction() as tx:
                write(tx)
        except (KeyError, TypeError, ValueError):
            raise
        except BaseException as exc:
            # Automerge panics raise pyo3's PanicException, a BaseException: the
            # caller must see an ordinary error and reload, not a crash.
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            raise DocumentWriteFailed(f"the document refused the write: {exc}") from exc
        return self.changes_since(before)

    def _obj(self, *path: str) -> bytes:
        obj = ROOT
        for key in path:
            found = self.doc.get(obj, key)
            if found is None or not isinstance(found[0], am.ObjType):
                raise KeyError("/".join(path))
            obj = found[1]
        return obj

    # -- schema versions and later collections ------------------------------------

    def upgrade(self) -> list[bytes]:
        """Mark every schema version this code knows and the document lacks
        (organizers only: peers refuse anyone else's marks). No-op when current."""
        pending = schema.pending_versions(self.doc)
        if not pending:
            return []

        def write(tx: am.Transaction) -> None:
            for version in pending:
                tx.put(ROOT, schema.mark_key(version), _BOOL, True)

        return self._commit(write)

    def add_item(self, collection: str, item_id: str, fields: dict[str, str | int | bool]) -> list[bytes]:
        """Add an item to a collection of a later schema version, as its own root map.

        Raises NotUpgraded until the circle holds the version that adds `collection`."""
        self._ensure_holds(collection)
        types = {bool: _BOOL, int: _INT, str: _STR}

        def write(tx: am.Transaction) -> None:
            item = tx.put_object(ROOT, schema.item_key(collection, item_id), _MAP)
            for field, value in fields.items():
                tx.put(item, field, types[type(value)], value)

        return self._commit(write)

    def _ensure_holds(self, collection: str) -> None:
        version = schema.collection_version(collection)
        if version is None:
            raise ValueError(f"unknown collection: {collection!r}")
        if not schema.holds_version(self.doc, version):
            raise schema.NotUpgraded(
                f"this circle does not hold {collection} yet: an organizer's device upgrades it "
                f"to schema {version} when it next opens the circle"
            )

    # -- polls (schema 2) ------------------------------------------------------

    def add_poll(
        self,
        poll_id: str,
        question: str,
        options: Iterable[str],
        created_at: datetime,
        *,
        closes_at: datetime | None = None,
        post_id: str | None = None,
        guidelines_version: int | None = None,
    ) -> list[bytes]:
        """A poll as one change: ownership.py refuses any later write into it
        but the votes and closes entries, so what was asked never changes."""
        self._ensure_holds("polls")

        def write(tx: am.Transaction) -> None:
            poll = tx.put_object(ROOT, schema.item_key("polls", poll_id), _MAP)
            tx.put(poll, "question", _STR, question)
            listed = tx.put_object(poll, "options", _LIST)
            for index, option in enumerate(options):
                tx.insert(listed, index, _STR, option)
            tx.put(poll, "created_at", _INT, to_millis(created_at))
            if closes_at is not None:
                tx.put(poll, "closes_at", _INT, to_millis(closes_at))
            if post_id:
                tx.put(poll, "post", _STR, post_id)
            if guidelines_version:
                tx.put(poll, "guidelines", _INT, guidelines_version)
            tx.put_object(poll, "votes", _MAP)
            tx.put_object(poll, "closes", _MAP)

        return self._commit(write)

    def set_vote(self, poll_id: str, member_id: str, choice: int, at: datetime) -> list[bytes]:
        # Flat keys per member, as reactions: the writer of each entry stays checkable.
        votes = self._obj(schema.item_key("polls", poll_id), "votes")

        def write(tx: am.Transaction) -> None:
            tx.put(votes, f"{member_id}:choice", _INT, choice)
            tx.put(votes, f"{member_id}:at", _INT, to_millis(at))

        return self._commit(write)

    def close_poll(self, poll_id: str, member_id: str, at: datetime) -> list[bytes]:
        """Close a poll as seen here: the heads name exactly the votes that count."""
        closes = self._obj(schema.item_key("polls", poll_id), "closes")
        heads = ",".join(head.hex() for head in self.doc.get_heads())

        def write(tx: am.Transaction) -> None:
            tx.put(closes, f"{member_id}:at", _INT, to_millis(at))
            tx.put(closes, f"{member_id}:heads", _STR, heads)

        return self._commit(write)

    # -- circle-level settings ------------------------------------------------

    def set_circle_field(self, field: str, value: str) -> list[bytes]:
        circle = self._obj("circle")
        return self._commit(lambda tx: tx.put(circle, field, _STR, value))

    # -- people -------------------------------------------------------------

    def introduce(self, member_id: str, name: str, joined_at: datetime) -> list[bytes]:
        """Record this member's display name (members name themselves)."""
        members = self._obj("members")

        def write(tx: am.Transaction) -> None:
            member = tx.put_object(members, member_id, _MAP)
            tx.put(member, "name", _STR, name)
            tx.put(member, "joined_at", _INT, to_millis(joined_at))

        return self._commit(write)

    def rename(self, member_id: str, name: str) -> list[bytes]:
        """Change this member's display name, keeping when they joined."""
        members = self._obj("members")
        existing = self.doc.get(members, member_id)

        def write(tx: am.Transaction) -> None:
            member = existing[1] if existing and isinstance(existing[0], am.ObjType) else \
                tx.put_object(members, member_id, _MAP)
            tx.put(member, "name", _STR, name)

        return self._commit(write)

    # -- posts --------------------------------------------------------------

    def add_post(
        self,
        post_id: str,
        body: str,
        created_at: datetime,
        reply_to: str | None = None,
        content_warning: str | None = None,
    ) -> list[bytes]:
        posts = self._obj("posts")

        def write(tx: am.Transaction) -> None:
            post = tx.put_object(posts, post_id, _MAP)
            tx.put(post, "body", _STR, body)
            tx.put(post, "created_at", _INT, to_millis(created_at))
            if reply_to:
                tx.put(post, "reply_to", _STR, reply_to)
            if content_warning:
                tx.put(post, "content_warning", _STR, content_warning)
            tx.put(post, "deleted", _BOOL, False)
            tx.put_object(post, "reactions", _MAP)

        return self._commit(write)

    def edit_post(self, post_id: str, body: str, edited_at: datetime) -> list[bytes]:
        post = self._obj("posts", post_id)

        def write(tx: am.Transaction) -> None:
            tx.put(post, "body", _STR, body)
            tx.put(post, "edited_at", _INT, to_millis(edited_at))

        return self._commit(write)

    def delete_post(self, post_id: str, deleted_at: datetime) -> list[bytes]:
        """Tombstone: the body is blanked and the post marked deleted."""
        post = self._obj("posts", post_id)

        def write(tx: am.Transaction) -> None:
            tx.put(post, "body", _STR, "")
            tx.put(post, "deleted", _BOOL, True)
            tx.put(post, "edited_at", _INT, to_millis(deleted_at))

        return self._commit(write)

    def set_reaction(self, post_id: str, kind: str, member_id: str, on: bool) -> list[bytes]:
        reactions = self._obj("posts", post_id, "reactions")

        # One flat key per (member, kind): a map per kind, created by whoever reacts
        # first, loses one member's reaction when two create it concurrently.
        # Un-reacting writes False rather than deleting, so the writer of every
        # reaction entry stays visible to the views.
        return self._commit(lambda tx: tx.put(reactions, f"{member_id}:{kind}", _BOOL, on))

    # -- check-ins ----------------------------------------------------------

    def add_checkin(
        self,
        checkin_id: str,
        mood: int,
        created_at: datetime,
        *,
        energy: int | None = None,
        note: str = "",
        tags: Iterable[str] = (),
    ) -> list[bytes]:
        checkins = self._obj("checkins")

        def write(tx: am.Transaction) -> None:
            entry = tx.put_object(checkins, checkin_id, _MAP)
            tx.put(entry, "mood", _INT, mood)
            if energy is not None:
                tx.put(entry, "energy", _INT, energy)
            tx.put(entry, "note", _STR, note)
            tag_list = tx.put_object(entry, "tags", _LIST)
            for index, tag in enumerate(tags):
                tx.insert(tag_list, index, _STR, tag)
            tx.put(entry, "created_at", _INT, to_millis(created_at))

        return self._commit(write)

    def add_checkin_band(self, checkin_id: str, band: str, created_at: datetime) -> list[bytes]:
        """A check-in shared only as a band: the number, note and tags stay on the device."""
        checkins = self._obj("checkins")

        def write(tx: am.Transaction) -> None:
            entry = tx.put_object(checkins, checkin_id, _MAP)
            tx.put(entry, "band", _STR, band)
            tx.put(entry, "created_at", _INT, to_millis(created_at))

        return self._commit(write)

    # -- events -------------------------------------------------------------

    def add_event(
        self,
        event_id: str,
        title: str,
        when: datetime,
        created_at: datetime,
        *,
        repeat: str = "none",
        where: str = "",
        notes: str = "",
        tz: str = "",
        minutes: int | None = None,
    ) -> list[bytes]:
        events = self._obj("events")

        def write(tx: am.Transaction) -> None:
            entry = tx.put_object(events, event_id, _MAP)
            _put_event_fields(tx, entry, title=title, when=when, repeat=repeat, where=where, notes=notes,
                              tz=tz, minutes=minutes)
            tx.put(entry, "created_at", _INT, to_millis(created_at))
            tx.put_object(entry, "rsvps", _MAP)

        return self._commit(write)

    def edit_event(self, event_id: str, edited_at: datetime, **fields) -> list[bytes]:
        """Overwrite some of an event's fields (title, when, repeat, where, notes, tz, minutes)."""
        entry = self._obj("events", event_id)

        def write(tx: am.Transaction) -> None:
            _put_event_fields(tx, entry, **fields)
            tx.put(entry, "edited_at", _INT, to_millis(edited_at))

        return self._commit(write)

    def cancel_event(self, event_id: str, cancelled_at: datetime) -> list[bytes]:
        entry = self._obj("events", event_id)

        def write(tx: am.Transaction) -> None:
            tx.put(entry, "cancelled", _BOOL, True)
            tx.put(entry, "edited_at", _INT, to_millis(cancelled_at))

        return self._commit(write)

    def set_rsvp(self, event_id: str, member_id: str, answer: str) -> list[bytes]:
        rsvps = self._obj("events", event_id, "rsvps")
        return self._commit(lambda tx: tx.put(rsvps, member_id, _STR, answer))


def _put_event_fields(tx: am.Transaction, entry: bytes, **fields) -> None:
    # Fields after version 1's (tz, minutes) are plain keys in the creator's own
    # map: older code ignores them and its ownership rule already lets only the
    # creator write there, so they need no schema version (domain/schema.py).
    for name, value in fields.items():
        if value is None:
            continue
        if name == "when":
            tx.put(entry, name, _INT, to_millis(value))
        elif name == "minutes":
            tx.put(entry, name, _INT, value)
        elif name in ("title", "repeat", "where", "notes", "tz"):
            tx.put(entry, name, _STR, value)
        else:
            raise ValueError(f"not an event field: {name}")
