"""The relay's own SQLite file: which circles it serves, under which keys, and their bundles.

WAL with synchronous=FULL: a put is committed (and fsynced) before it is
acknowledged, so `kill -9` right after loses nothing. A put checks the quotas
and writes in one IMMEDIATE transaction, so nothing is ever partially stored.
The join areas (docs/protocol.md, "Join area") are in the same file under the
same discipline: a request, an answer and the expiry of old ones are each one
transaction, and an answer's bytes count against its circle's byte quota
until it expires.
The live connection counts (for `circle relay --status`) go through a second
connection without fsync: they are reset at every start anyway.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from circle.errors import CircleError
from circle.sync.relay_wire import NO_SUCH_JOIN_REQUEST

_SCHEMA = """
CREATE TABLE IF NOT EXISTS circles (
    circle_id BLOB PRIMARY KEY,
    admin_pub BLOB NOT NULL,
    access_pub BLOB NOT NULL,
    previous_pub BLOB,
    bytes INTEGER NOT NULL DEFAULT 0,
    bundles INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS bundles (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    circle_id BLOB NOT NULL,
    digest BLOB NOT NULL,
    data BLOB NOT NULL,
    UNIQUE (circle_id, digest)
);
CREATE TABLE IF NOT EXISTS join_requests (
    circle_id BLOB NOT NULL,
    request_id BLOB NOT NULL,
    area_id BLOB NOT NULL,
    sealed BLOB NOT NULL,
    put_at REAL NOT NULL,
    answer BLOB,
    PRIMARY KEY (circle_id, request_id)
);
CREATE TABLE IF NOT EXISTS live (
    circle_id BLOB PRIMARY KEY,
    connections INTEGER NOT NULL
);
"""
_ALL = b""  # the `live` row counting every open connection


class RelayStoreError(CircleError):
    """The relay's database cannot be opened or written; `str()` says why."""


class OverQuota(Exception):
    """A put that would take a circle past a limit; `what` is "bytes" or "bundles"."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class JoinRefused(Exception):
    """A join area operation the relay refuses; `str()` is the reason to send."""




@dataclass(frozen=True)
class PendingJoin:
    request_id: bytes
    area_id: bytes
    sealed: bytes


@dataclass(frozen=True)
class CircleRecord:
    admin_pub: bytes
    access_pub: bytes
    previous_pub: bytes | None


@dataclass(frozen=True)
class Totals:
    circles: int
    bundles: int
    bytes: int
    connections: int


def _connect(path: Path, synchronous: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA busy_timeout = 5000")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute(f"PRAGMA synchronous = {synchronous}")
    return db


class RelayStore:
    def __init__(self, path: Path) -> None:
        try:
            self._db = _connect(path, "FULL")
            self._db.executescript(_SCHEMA)
            self._live = _connect(path, "OFF")
        except sqlite3.Error as exc:
            raise RelayStoreError(f"cannot open the relay database {path}: {exc}") from None

    def close(self) -> None:
        self._live.close()
        self._db.close()

    def circle(self, circle_id: bytes) -> CircleRecord | None:
        row = self._db.execute("SELECT admin_pub, access_pub, previous_pub FROM circles WHERE circle_id = ?",
                               (circle_id,)).fetchone()
        return CircleRecord(*row) if row else None

    def register(self, circle_id: bytes, admin_pub: bytes, access_pub: bytes) -> None:
        """Bind a new circle, or set a known one's access key (the current one becomes
        the previous). The caller has checked the admin key matches."""
        with self._transaction():
            known = self.circle(circle_id)
            if known is None:
                self._db.execute("INSERT INTO circles (circle_id, admin_pub, access_pub) VALUES (?, ?, ?)",
                                 (circle_id, admin_pub, access_pub))
            elif known.access_pub != access_pub:
                self._db.execute("UPDATE circles SET access_pub = ?, previous_pub = ? WHERE circle_id = ?",
                                 (access_pub, known.access_pub, circle_id))

    def names(self, circle_id: bytes) -> list[bytes]:
        """The circle's bundle digests, in the order they were stored."""
        rows = self._db.execute("SELECT digest FROM bundles WHERE circle_id = ? ORDER BY seq", (circle_id,))
        return [row[0] for row in rows]

    def get(self, circle_id: bytes, digest: bytes) -> bytes | None:
        row = self._db.execute("SELECT data FROM bundles WHERE circle_id = ? AND digest = ?",
                               (circle_id, digest)).fetchone()
        return row[0] if row else None

    def put(self, circle_id: bytes, data: bytes, *, max_bytes: int, max_bundles: int) -> bytes:
        """Store `data` for the circle unless it is there already; its SHA-256.
        Raises OverQuota (nothing written) if it would pass a limit."""
        digest = hashlib.sha256(data).digest()
        try:
            self._put(circle_id, digest, data, max_bytes, max_bundles)
        except sqlite3.Error as exc:  # disk full, read-only: nothing was written
            raise RelayStoreError(f"could not store a bundle: {exc}") from None
        return digest

    def _put(self, circle_id: bytes, digest: bytes, data: bytes, max_bytes: int, max_bundles: int) -> None:
        with self._transaction():
            if self._db.execute("SELECT 1 FROM bundles WHERE circle_id = ? AND digest = ?",
                                (circle_id, digest)).fetchone():
                return
            used_bytes, used_bundles = self._db.execute(
                "SELECT bytes, bundles FROM circles WHERE circle_id = ?", (circle_id,)).fetchone()
            if used_bundles + 1 > max_bundles:
                raise OverQuota("bundles")
            if used_bytes + len(data) > max_bytes:
                raise OverQuota("bytes")
            self._db.execute("INSERT INTO bundles (circle_id, digest, data) VALUES (?, ?, ?)",
                             (circle_id, digest, data))
            self._db.execute("UPDATE circles SET bytes = bytes + ?, bundles = bundles + 1 WHERE circle_id = ?",
                             (len(data), circle_id))

    # -- join areas ----------------------------------------------------------------------

    def join_put(self, circle_id: bytes, request_id: bytes, area_id: bytes, sealed: bytes, *, now: float,
                 expiry: float, max_pending: int) -> None:
        """Keep a newcomer's request (one already there under this id stays as it is).
        OverQuota("join requests") past `max_pending` unanswered ones."""
        try:
            with self._transaction():
                self._expire(circle_id, now - expiry)
                if self._db.execute("SELECT 1 FROM join_requests WHERE circle_id = ? AND request_id = ?",
                                    (circle_id, request_id)).fetchone():
                    return
                (pending,) = self._db.execute("SELECT COUNT(*) FROM join_requests WHERE circle_id = ? "
                                              "AND answer IS NULL", (circle_id,)).fetchone()
                if pending >= max_pending:
                    raise OverQuota("join requests")
                self._db.execute("INSERT INTO join_requests (circle_id, request_id, area_id, sealed, put_at) "
                                 "VALUES (?, ?, ?, ?, ?)", (circle_id, request_id, area_id, sealed, now))
        except sqlite3.Error as exc:
            raise RelayStoreError(f"could not store a join request: {exc}") from None

    def join_pending(self, circle_id: bytes, *, now: float, expiry: float) -> list[PendingJoin]:
        """The circle's unanswered requests, oldest first."""
        try:
            with self._transaction():
                self._expire(circle_id, now - expiry)
                rows = self._db.execute("SELECT request_id, area_id, sealed FROM join_requests WHERE circle_id = ? "
                                        "AND answer IS NULL ORDER BY put_at, request_id", (circle_id,)).fetchall()
        except sqlite3.Error as exc:
            raise RelayStoreError(f"could not read the join requests: {exc}") from None
        return [PendingJoin(*row) for row in rows]

    def join_answer(self, circle_id: bytes, request_id: bytes, answer: bytes, *, now: float, expiry: float,
                    max_bytes: int) -> None:
        """Keep a member's answer to a request; JoinRefused if there is no such
        request or it has an answer already, OverQuota("bytes") past the quota."""
        try:
            with self._transaction():
                self._expire(circle_id, now - expiry)
                row = self._db.execute("SELECT answer IS NOT NULL FROM join_requests WHERE circle_id = ? "
                                       "AND request_id = ?", (circle_id, request_id)).fetchone()
                if row is None:
                    raise JoinRefused(NO_SUCH_JOIN_REQUEST)
                if row[0]:
                    raise JoinRefused("this join request has an answer already")
                (used,) = self._db.execute("SELECT bytes FROM circles WHERE circle_id = ?", (circle_id,)).fetchone()
                if used + len(answer) > max_bytes:
                    raise OverQuota("bytes")
                self._db.execute("UPDATE join_requests SET answer = ? WHERE circle_id = ? AND request_id = ?",
                                 (answer, circle_id, request_id))
                self._db.execute("UPDATE circles SET bytes = bytes + ? WHERE circle_id = ?", (len(answer), circle_id))
        except sqlite3.Error as exc:
            raise RelayStoreError(f"could not store a join answer: {exc}") from None

    def join_fetch(self, circle_id: bytes, request_id: bytes, *, now: float, expiry: float) -> bytes | None:
        """The answer to a request, None while it has none; JoinRefused if there is no such request."""
        try:
            with self._transaction():
                self._expire(circle_id, now - expiry)
                row = self._db.execute("SELECT answer FROM join_requests WHERE circle_id = ? AND request_id = ?",
                                       (circle_id, request_id)).fetchone()
        except sqlite3.Error as exc:
            raise RelayStoreError(f"could not read a join answer: {exc}") from None
        if row is None:
            raise JoinRefused(NO_SUCH_JOIN_REQUEST)
        return row[0]

    def _expire(self, circle_id: bytes, before: float) -> None:
        """Within a transaction: forget the circle's requests put before `before`,
        and give their answers' bytes back to its quota."""
        (freed,) = self._db.execute("SELECT COALESCE(SUM(LENGTH(answer)), 0) FROM join_requests "
                                    "WHERE circle_id = ? AND put_at < ?", (circle_id, before)).fetchone()
        self._db.execute("DELETE FROM join_requests WHERE circle_id = ? AND put_at < ?", (circle_id, before))
        if freed:
            self._db.execute("UPDATE circles SET bytes = bytes - ? WHERE circle_id = ?", (freed, circle_id))

    def _transaction(self):
        return _Transaction(self._db)

    def reset_connections(self) -> None:
        self._live.execute("DELETE FROM live")

    def set_connections(self, circle_id: bytes | None, count: int) -> None:
        """Record the open connections of one circle (None: of the whole relay)."""
        self._live.execute("INSERT INTO live (circle_id, connections) VALUES (?, ?) "
                           "ON CONFLICT (circle_id) DO UPDATE SET connections = excluded.connections",
                           (_ALL if circle_id is None else circle_id, count))

    def totals(self) -> Totals:
        circles, bundles, size = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(bundles), 0), COALESCE(SUM(bytes), 0) FROM circles").fetchone()
        row = self._db.execute("SELECT connections FROM live WHERE circle_id = ?", (_ALL,)).fetchone()
        return Totals(circles, bundles, size, row[0] if row else 0)

    def per_circle(self) -> list[tuple[str, int, int, int]]:
        """(circle id hex, bundles, bytes, open connections) for every circle."""
        rows = self._db.execute(
            "SELECT c.circle_id, c.bundles, c.bytes, COALESCE(l.connections, 0) FROM circles c "
            "LEFT JOIN live l ON l.circle_id = c.circle_id ORDER BY c.circle_id")
        return [(circle_id.hex(), bundles, size, live) for circle_id, bundles, size, live in rows]


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.db.execute("COMMIT")
        elif self.db.in_transaction:  # SQLite may have rolled back already (disk full)
            self.db.execute("ROLLBACK")
