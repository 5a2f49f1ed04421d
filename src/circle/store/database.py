"""One SQLite database per profile, in WAL mode with full fsync on commit.

Everything stored here is either public (ids, counters) or sealed by the layer
above; this module never sees a key or a plaintext. A commit that returned is on
disk (`synchronous=FULL`), which is what lets the CLI acknowledge a post.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from circle.errors import InvalidInput, ProfileExists, ProfileMissing, StoreDamaged, StoreUnwritable

# SQLite's primary result codes; the sqlite3 module names them only from Python 3.11 on.
SQLITE_PERM, SQLITE_READONLY, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN = 3, 8, 10, 13, 14

DB_FILENAME = "circle.db"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
    circle_id TEXT PRIMARY KEY,
    snapshot BLOB NOT NULL,
    snapshot_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    circle_id TEXT NOT NULL REFERENCES documents(circle_id),
    blob BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS changes_by_circle ON changes(circle_id, id);
CREATE TABLE IF NOT EXISTS actions (
    circle_id TEXT NOT NULL REFERENCES documents(circle_id),
    action_id TEXT NOT NULL,
    blob BLOB NOT NULL,
    PRIMARY KEY (circle_id, action_id)
);
CREATE TABLE IF NOT EXISTS signed_heads (
    circle_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    blob BLOB NOT NULL,
    PRIMARY KEY (circle_id, actor)
);
CREATE TABLE IF NOT EXISTS private_items (
    circle_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    item_id TEXT NOT NULL,
    blob BLOB NOT NULL,
    PRIMARY KEY (circle_id, kind, item_id)
);
"""


@dataclass(frozen=True)
class CircleRecords:
    """What is needed to open one circle: its snapshot and the changes after it."""

    snapshot: bytes
    changes: tuple[bytes, ...]
    last_change_id: int
    snapshot_seq: int


class Store:
    """A profile's database. Not thread-safe: one Store per thread."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._data_version: int | None = None
        self._depth = 0

    # -- opening -----------------------------------------------------------

    @classmethod
    def create(cls, home: Path) -> Store:
        try:
            home.mkdir(parents=True, exist_ok=True, mode=0o700)
            path = home / DB_FILENAME
            path.touch(mode=0o600, exist_ok=False)
        except FileExistsError:
            raise ProfileExists(f"a profile already exists at {home}") from None
        except OSError as exc:
            raise InvalidInput(f"cannot create a profile at {home}: {exc.strerror}") from None
        return cls._connect(path, create=True)

    @classmethod
    def open(cls, home: Path) -> Store:
        path = home / DB_FILENAME
        if not path.exists():
            raise ProfileMissing(
                f"no profile at {home}; create one with `circle init --name NAME`"
            )
        return cls._connect(path, create=False)

    @classmethod
    def exists(cls, home: Path) -> bool:
        return (home / DB_FILENAME).exists()

    @classmethod
    def _connect(cls, path: Path, *, create: bool) -> Store:
        try:
            conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        except sqlite3.Error as exc:
            raise StoreDamaged(f"profile database {path} is damaged: {exc}") from exc
        store = cls(conn, path)
        try:
            with store._guard():
                if not create:
                    # Read before any pragma can write: a damaged file stays as found.
                    store._check_schema()
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
                # Temporary tables and sort spills stay in memory: no stray files.
                conn.execute("PRAGMA temp_store=MEMORY")
                conn.execute("PRAGMA foreign_keys=ON")
                if create:
                    with store._transaction():
                        for statement in _SCHEMA.split(";"):
                            if statement.strip():
                                conn.execute(statement)
                        conn.execute(
                            "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                            (str(SCHEMA_VERSION).encode(),),
                        )
                store._check_schema()
        except BaseException:
            conn.close()
            raise
        return store

    def _check_schema(self) -> None:
        row = self._conn.execute(
            "SELECT value FROM meta WHERE key = 'schema_version'"
        ).fetchone()
        if row is None:
            raise StoreDamaged(f"profile database {self.path} is damaged: schema version missing")
        try:
            version = int(row[0])
        except (ValueError, TypeError):
            raise StoreDamaged(f"profile database {self.path} is damaged: its schema version is unreadable") from None
        if version != SCHEMA_VERSION:
            raise StoreDamaged(
                f"profile database {self.path} has schema {version}, "
                f"this circle understands {SCHEMA_VERSION}"
            )

    def close(self) -> None:
        self._conn.close()

    def changed_elsewhere(self) -> bool:
        """True if another connection committed since the last call (cheap to poll)."""
        version = self._read("PRAGMA data_version")[0][0]
        changed = self._data_version != version
        self._data_version = version
        return changed

    # -- error and transaction plumbing -----------------------------------

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:
            code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
            if code == SQLITE_IOERR and os.statvfs(self.path.parent).f_bavail == 0:
                code = SQLITE_FULL  # a full tmpfs shows up as an I/O error on the WAL
            if code == SQLITE_IOERR:
                raise StoreUnwritable(f"disk I/O error on {self.path}: {exc}") from exc
            if code == SQLITE_FULL:
                raise StoreUnwritable(f"the disk holding {self.path} is full: nothing was written") from exc
            if code == SQLITE_READONLY or (
                    code == SQLITE_CANTOPEN and not os.access(self.path.parent, os.W_OK)):
                raise StoreUnwritable(f"the profile at {self.path.parent} is read-only: nothing was written") from exc
            if code in (SQLITE_CANTOPEN, SQLITE_PERM):
                raise StoreUnwritable(f"cannot open the profile database {self.path}: {exc}") from exc
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreDamaged(f"profile database {self.path} is busy: {exc}") from exc
            raise StoreDamaged(f"profile database {self.path} is damaged: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise StoreDamaged(f"profile database {self.path} is damaged: {exc}") from exc

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock up front, so two processes writing the
        # same profile serialise instead of failing half-way. Inside write_lock()
        # the outer transaction commits: nested writes join it.
        if self._depth:
            self._depth += 1
            try:
                yield self._conn
            finally:
                self._depth -= 1
            return
        self._conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self._conn
        except BaseException:
            self._depth = 0
            self._conn.execute("ROLLBACK")
            raise
        self._depth = 0
        self._conn.execute("COMMIT")

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """Hold the profile's write lock across several reads and writes: what is
        read inside cannot change before what is written inside commits."""
        with self._guard(), self._transaction():
            yield

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._guard(), self._transaction() as conn:
            yield conn

    def _read(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._guard():
            return self._conn.execute(sql, params).fetchall()

    # -- meta ---------------------------------------------------------------

    def get_meta(self, key: str) -> bytes | None:
        rows = self._read("SELECT value FROM meta WHERE key = ?", (key,))
        return bytes(rows[0][0]) if rows else None

    def put_meta(self, items: dict[str, bytes]) -> None:
        """Set several meta keys in one transaction."""
        with self._write() as conn:
            conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list(items.items()))

    # -- circle documents ---------------------------------------------------

    def add_circle(
        self,
        circle_id: str,
        snapshot: bytes,
        actions: list[tuple[str, bytes]],
        heads: list[tuple[str, bytes]],
    ) -> None:
        """A new circle with its first snapshot and governance log, all or nothing."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO documents (circle_id, snapshot) VALUES (?, ?)",
                (circle_id, snapshot),
            )
            self._insert_rest(conn, circle_id, actions, heads)

    @staticmethod
    def _insert_rest(conn, circle_id, actions, heads) -> None:
        conn.executemany(
            # An action's id is the hash of what it says, so a row is only ever
            # replaced by the same action: this mends a row altered at rest.
            "INSERT OR REPLACE INTO actions VALUES (?, ?, ?)",
            [(circle_id, action_id, blob) for action_id, blob in actions],
        )
        conn.executemany(
            "INSERT OR REPLACE INTO signed_heads VALUES (?, ?, ?)",
            [(circle_id, actor, blob) for actor, blob in heads],
        )

    def circle_ids(self) -> list[str]:
        return [row[0] for row in self._read("SELECT circle_id FROM documents ORDER BY rowid")]

    def load_circle(self, circle_id: str) -> CircleRecords:
        with self._guard():
            # One read transaction, so the snapshot and its changes are consistent
            # (or the caller's write lock already provides one).
            own = not self._conn.in_transaction
            if own:
                self._conn.execute("BEGIN")
            try:
                row = self._conn.execute(
                    "SELECT snapshot, snapshot_seq FROM documents WHERE circle_id = ?", (circle_id,)
                ).fetchone()
                changes = self._conn.execute(
                    "SELECT id, blob FROM changes WHERE circle_id = ? ORDER BY id",
                    (circle_id,),
                ).fetchall()
            finally:
                if own:
                    self._conn.execute("COMMIT")
        if row is None:
            raise KeyError(circle_id)
        last = changes[-1][0] if changes else 0
        return CircleRecords(bytes(row[0]), tuple(bytes(c[1]) for c in changes), last, row[1])

    def snapshot_seq(self, circle_id: str) -> int:
        """Bumped by every compaction: a reader whose seq is older must reload."""
        rows = self._read("SELECT snapshot_seq FROM documents WHERE circle_id = ?", (circle_id,))
        return rows[0][0] if rows else 0

    def append(
        self,
        circle_id: str,
        *,
        changes: Sequence[bytes] = (),
        actions: Sequence[tuple[str, bytes]] = (),
        heads: Sequence[tuple[str, bytes]] = (),
    ) -> int:
        """Durably add document changes, governance actions and signed heads, all
        or nothing. Returns the id of the last change appended (0 if none)."""
        with self._write() as conn:
            last = 0
            for blob in changes:
                last = conn.execute(
                    "INSERT INTO changes (circle_id, blob) VALUES (?, ?)", (circle_id, blob)
                ).lastrowid or 0
            self._insert_rest(conn, circle_id, actions, heads)
            return last

    def actions(self, circle_id: str) -> list[tuple[str, bytes]]:
        rows = self._read(
            "SELECT action_id, blob FROM actions WHERE circle_id = ? ORDER BY rowid", (circle_id,)
        )
        return [(row[0], bytes(row[1])) for row in rows]

    def signed_heads(self, circle_id: str) -> list[tuple[str, bytes]]:
        rows = self._read("SELECT actor, blob FROM signed_heads WHERE circle_id = ?", (circle_id,))
        return [(row[0], bytes(row[1])) for row in rows]

    def changes_after(self, circle_id: str, after_id: int) -> list[tuple[int, bytes]]:
        rows = self._read(
            "SELECT id, blob FROM changes WHERE circle_id = ? AND id > ? ORDER BY id",
            (circle_id, after_id),
        )
        return [(row[0], bytes(row[1])) for row in rows]

    def compact(
        self,
        circle_id: str,
        known_through_id: int,
        build_snapshot: Callable[[list[bytes]], bytes],
    ) -> int:
        """Replace the snapshot and drop the changes it now contains.

        `build_snapshot` receives the change blobs newer than `known_through_id`
        (written meanwhile by another process on this profile) and must return a
        snapshot containing them too. It runs inside the write lock, so nothing
        can slip between reading those changes and deleting them. Returns the id
        of the last change folded in.
        """
        with self._write() as conn:
            rows = conn.execute(
                "SELECT id, blob FROM changes WHERE circle_id = ? AND id > ? ORDER BY id",
                (circle_id, known_through_id),
            ).fetchall()
            through = rows[-1][0] if rows else known_through_id
            snapshot = build_snapshot([bytes(row[1]) for row in rows])
            conn.execute(
                "UPDATE documents SET snapshot = ?, snapshot_seq = snapshot_seq + 1 "
                "WHERE circle_id = ?",
                (snapshot, circle_id),
            )
            conn.execute(
                "DELETE FROM changes WHERE circle_id = ? AND id <= ?", (circle_id, through)
            )
            return through

    # -- items that never leave this device ---------------------------------

    def put_private(self, circle_id: str, kind: str, item_id: str, blob: bytes) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO private_items VALUES (?, ?, ?, ?)",
                (circle_id, kind, item_id, blob),
            )

    def delete_private(self, circle_id: str, kind: str, item_id: str) -> None:
        with self._write() as conn:
            conn.execute(
                "DELETE FROM private_items WHERE circle_id = ? AND kind = ? AND item_id = ?",
                (circle_id, kind, item_id),
            )

    def private_items(self, circle_id: str, kind: str) -> list[tuple[str, bytes]]:
        rows = self._read(
            "SELECT item_id, blob FROM private_items WHERE circle_id = ? AND kind = ? "
            "ORDER BY rowid",
            (circle_id, kind),
        )
        return [(row[0], bytes(row[1])) for row in rows]
