"""The circle document's schema version, and how an existing circle gains a collection.

Version 1 is the layout every circle had before versions existed: the five root
maps its first change made (document.py) and no mark. Each later version is a
`Migration` that may add collections; `MIGRATIONS` lists them in order.

Two rules keep this safe when devices upgrade the same circle concurrently:

- **A later collection is not a root map.** Two devices that both create root
  map "notes" make two objects under one key; Automerge keeps one winner and the
  Python binding offers no way to read the loser, so whatever was written into
  it would vanish. Instead each item of a later collection is its own map at the
  root, under "<collection>/<item id>": item ids are random, so concurrent writers
  never meet on a key, and there is nothing for a migration to create.
- **The version is a set of marks, not one number.** Migrating to version n puts
  `True` at root key "schema/<n>", with no predecessor. Two organizers marking
  concurrently write the same key with the same value: a harmless conflict. A
  single integer could conflict as 2 against 3 and the winner could be the lower.
  Marks only ever appear, so the version only ever rises.

Only organizers write marks (ownership.py); members write a collection's items
once the circle holds its version's mark. Code that knows fewer versions than a
document carries refuses to write to it (`NewerSchema`) and refuses received
changes that use what it does not know, so it never stores what it cannot check.
"""

from __future__ import annotations

from dataclasses import dataclass

import automerge.core as am

from circle.errors import CircleError, NotAllowed

BASE_VERSION = 1
MARK_PREFIX = "schema/"


@dataclass(frozen=True)
class Migration:
    """What version `version` adds to a circle (the version before it is version - 1)."""

    version: int
    collections: tuple[str, ...] = ()


# In order, version 2 first.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(2, ("polls",)),  # decisions by the circle: domain/polls.py
)


class NewerSchema(CircleError):
    """The circle's document uses a schema version this code does not know."""


class NotUpgraded(NotAllowed):
    """A collection is written before the circle holds the version that adds it."""


def known_version() -> int:
    """The newest schema version this code can read and write."""
    version = BASE_VERSION
    for migration in MIGRATIONS:
        if migration.version != version + 1:
            raise ValueError(f"schema migrations out of order at version {migration.version}")
        version = migration.version
    return version


def collection_version(collection: str) -> int | None:
    """The version that adds `collection`, or None if this code does not know it."""
    for migration in MIGRATIONS:
        if collection in migration.collections:
            return migration.version
    return None


def mark_key(version: int) -> str:
    return f"{MARK_PREFIX}{version}"


def mark_version(key: str) -> int | None:
    """The version a root key "schema/<n>" marks, or None if it is not a mark."""
    if not key.startswith(MARK_PREFIX):
        return None
    digits = key[len(MARK_PREFIX):]
    if not digits.isascii() or not digits.isdigit() or digits.startswith("0"):
        return None
    return int(digits)


def item_key(collection: str, item_id: str) -> str:
    return f"{collection}/{item_id}"


def item_collection(key: str) -> str | None:
    """The collection a root key "<collection>/<item id>" belongs to, or None."""
    collection, slash, item_id = key.partition("/")
    if not slash or not collection or not item_id or key.startswith(MARK_PREFIX):
        return None
    return collection


def holds_version(doc: am.Document, version: int) -> bool:
    """Whether the document was migrated to `version` (version 1 always holds)."""
    return version <= BASE_VERSION or doc.get(am.ROOT, mark_key(version)) is not None


def document_version(doc: am.Document) -> int:
    """The highest schema version marked in the document (1 when unmarked)."""
    marked = [mark_version(key) for key in doc.keys(am.ROOT)]
    return max([BASE_VERSION, *(v for v in marked if v is not None)])


def newer_than_known(doc: am.Document) -> bool:
    # Migrations write every mark up to theirs, so the next one's mark is enough
    # to tell: no need to scan a root that holds every later collection's items.
    return holds_version(doc, known_version() + 1)


def pending_versions(doc: am.Document) -> list[int]:
    """The versions this code knows that the document does not hold yet, in order."""
    return [v for v in range(BASE_VERSION + 1, known_version() + 1) if not holds_version(doc, v)]


def ensure_writable(doc: am.Document) -> None:
    """Raise NewerSchema if the document is of a newer schema than this code knows."""
    if newer_than_known(doc):
        raise NewerSchema(
            f"this circle uses document schema {document_version(doc)}, newer than this version of "
            f"circle knows ({known_version()}): update circle to write to it; reading still works"
        )
