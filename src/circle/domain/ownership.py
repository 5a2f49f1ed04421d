"""Who may write where: checking a change's operations before it is applied.

Views already ignore values written by the wrong member (views.py), but an
Automerge op can also *shadow*: overwrite or delete another member's value, or
replace a whole map. This module refuses such changes at the door. The rules,
for an op written by member M:

- it may overwrite or delete only values M wrote (every pred must be M's),
  except in the `circle` map, which organizers edit together;
- after the circle's first change, the root map only gains keys of later
  schema versions (domain/schema.py): a new item map "<collection>/<id>" of a
  collection this code knows, which its creator owns, or, from an organizer,
  a version mark "schema/<n>" this code knows; nothing at the root is ever
  overwritten or deleted. A key of a version this code does not know is
  refused with a line saying so: what it cannot check, it does not store;
- `posts`, `checkins`, `events`: M may only add a new item map;
- `members`: M may only write the entry keyed by M;
- a post, check-in, event or member entry (and the lists inside them) belongs
  to whoever created it: only its owner writes there;
- a post's `reactions`: only keys starting with "M:"; an event's `rsvps`: only key M;
- the `circle` map: organizers only;
- a poll (`polls/<id>`, schema 2) and its options list are written only in
  the change that creates them, so a question or its options never change
  under the votes; its `votes` and `closes` maps take only keys "M:".

The registry of objects (what each object is, who owns it) is built from the
document once, then extended with every accepted op that creates an object.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import automerge.core as am

from circle.domain import schema
from circle.domain.change_ops import MAKE_LIST, MAKE_MAP, MAKE_TEXT, PUT, Op, OpId
from circle.domain.opids import ROOT_ID, op_actor, op_counter

_CHILD_KIND = {
    ("root", "circle"): "circle",
    ("root", "members"): "members",
    ("root", "posts"): "posts",
    ("root", "checkins"): "checkins",
    ("root", "events"): "events",
    ("members", None): "member",
    ("posts", None): "post",
    ("checkins", None): "checkin",
    ("events", None): "event",
    ("post", "reactions"): "reactions",
    ("event", "rsvps"): "rsvps",
    ("poll", "options"): "poll_options",
    ("poll", "votes"): "poll_votes",
    ("poll", "closes"): "poll_closes",
}
# Items of later collections (root keys "<collection>/<id>") with rules of their own.
_ITEM_KINDS = {"polls": "poll"}
_MADE_ONCE = {"poll", "poll_options"}
_KEYED_BY_MEMBER = {"reactions", "poll_votes", "poll_closes"}
_ITEM_CONTAINERS = {"posts", "checkins", "events"}


class OwnershipError(ValueError):
    """A change writes where its author may not."""


@dataclass(frozen=True)
class ObjInfo:
    kind: str
    owner: str | None  # member id; None for the shared containers


_ROOT_INFO = ObjInfo("root", None)
_NEWER = "uses a newer document schema than this version of circle knows: update circle to sync it"


def _root_allowed(op: Op, member: str, organizers: set[str]) -> None:
    """A root op after the first change: only what a known later schema version adds."""
    key = op.key if isinstance(op.key, str) else ""
    version = schema.mark_version(key)
    collection = schema.item_collection(key)
    if version is not None:
        if version > schema.known_version():
            raise OwnershipError(_NEWER)
        if op.action != PUT or op.preds or version <= schema.BASE_VERSION:
            raise OwnershipError("writes to the document root")
        if member not in organizers:
            raise OwnershipError("only organizers upgrade the circle's schema")
    elif collection is not None:
        if schema.collection_version(collection) is None:
            raise OwnershipError(_NEWER)
        if op.action != MAKE_MAP or op.preds:
            raise OwnershipError(f"may only add new items to {collection}")
    else:
        raise OwnershipError("writes to the document root")


def _child_kind(parent: str, key) -> str:
    if parent == "root" and isinstance(key, str):
        collection = schema.item_collection(key)
        if collection in _ITEM_KINDS:
            return _ITEM_KINDS[collection]
    if isinstance(key, str):
        specific = _CHILD_KIND.get((parent, key))
        if specific:
            return specific
    return _CHILD_KIND.get((parent, None), "other")


def _opid(raw: bytes) -> OpId:
    return OpId(op_counter(raw), op_actor(raw))


class Registry:
    """obj id -> what it is and who owns it, for one circle document."""

    def __init__(self, objects: dict[OpId, ObjInfo]) -> None:
        self.objects = objects

    @classmethod
    def from_document(cls, doc: am.Document, member_of: Callable[[bytes], str | None]) -> Registry:
        objects: dict[OpId, ObjInfo] = {}
        stack = [(ROOT_ID, "root")]
        while stack:
            obj, kind = stack.pop()
            is_list = kind != "root" and doc.object_type(obj) == am.ObjType.List
            keys: Iterable = range(doc.length(obj)) if is_list else doc.keys(obj)
            for key in keys:
                found = doc.get(obj, key)
                if found is None or not isinstance(found[0], am.ObjType):
                    continue
                child = found[1]
                child_kind = _child_kind(kind, key if isinstance(key, str) else None)
                shared = child_kind in _ITEM_CONTAINERS | {"members", "circle"}
                actor = None if shared else op_actor(child)
                owner = None if actor is None else member_of(actor)
                objects[_opid(child)] = ObjInfo(child_kind, owner)
                stack.append((child, child_kind))
        return cls(objects)

    def check(self, ops: list[Op], member: str, member_of: Callable[[bytes], str | None],
              organizers: set[str]) -> None:
        """Raise OwnershipError if any op writes where `member` may not; on
        success, remember the objects the ops create."""
        created: dict[OpId, ObjInfo] = {}
        for op in ops:
            if op.obj is None:
                _root_allowed(op, member, organizers)
                self._note_created(op, _ROOT_INFO, member, created)
                continue
            target = created.get(op.obj) or self.objects.get(op.obj)
            if target is None:
                raise OwnershipError("writes to an unknown object")
            if target.kind in _MADE_ONCE and op.obj not in created:
                raise OwnershipError("changes a poll after it was made")
            self._allowed(op, target, member, organizers)
            # Circle settings are the organizers' together; everything else is
            # overwritten only by whoever wrote it.
            if target.kind != "circle":
                for pred in op.preds:
                    if (member_of(pred.actor) if pred.actor is not None else None) != member:
                        raise OwnershipError("overwrites or deletes another member's value")
            self._note_created(op, target, member, created)
        self.objects.update(created)

    def learn(self, ops: list[Op], member: str | None) -> None:
        """Record the objects created by ops already accepted (e.g. our own)."""
        created: dict[OpId, ObjInfo] = {}
        for op in ops:
            target = _ROOT_INFO if op.obj is None else created.get(op.obj) or self.objects.get(op.obj)
            if target is not None:
                self._note_created(op, target, member, created)
        self.objects.update(created)

    @staticmethod
    def _note_created(op: Op, target: ObjInfo, member: str | None, created: dict[OpId, ObjInfo]) -> None:
        if op.action in (MAKE_MAP, MAKE_LIST, MAKE_TEXT):
            kind = _child_kind(target.kind, op.key if isinstance(op.key, str) else None)
            shared = kind in _ITEM_CONTAINERS | {"members", "circle"}
            created[op.id] = ObjInfo(kind, None if shared else member)

    @staticmethod
    def _allowed(op: Op, target: ObjInfo, member: str, organizers: set[str]) -> None:
        kind, key = target.kind, op.key
        if kind in _ITEM_CONTAINERS:
            if op.action != MAKE_MAP or op.preds:
                raise OwnershipError(f"may only add new items to {kind}")
        elif kind == "members":
            if key != member:
                raise OwnershipError("writes another member's entry")
        elif kind == "circle":
            if member not in organizers:
                raise OwnershipError("only organizers change the circle's settings")
        elif kind in _KEYED_BY_MEMBER:
            if not isinstance(key, str) or not key.startswith(f"{member}:"):
                what = {"reactions": "reacts", "poll_votes": "votes"}.get(kind, "closes a poll")
                raise OwnershipError(f"{what} in another member's name")
        elif kind == "rsvps":
            if key != member:
                raise OwnershipError("answers in another member's name")
        elif target.owner != member:
            raise OwnershipError("writes into another member's content")
