"""Nothing a member wrote or named appears in plaintext in any file under the profile directory.

Every marker below goes in through a real `circle` subprocess; afterwards every byte of every
file under the home directory (database, -wal, -shm, anything else) is searched for it in the
encodings a careless cache, log or temp file would use. The scan runs twice: while a reader
holds the database open (so the write-ahead log still carries the new pages) and after every
connection has closed.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest

from circle.demo import GUIDELINES, seed_demo
from circle.service import Service

from tests.helpers.cli import Cli

# -- the scanner -----------------------------------------------------------------


def encodings_of(marker: str) -> dict[str, bytes]:
    """The byte forms in which `marker` could sit in a file if it leaked."""
    forms = {
        "utf-8": marker.encode("utf-8"),
        "utf-16-le": marker.encode("utf-16-le"),
        "utf-16-be": marker.encode("utf-16-be"),
        "lowercase utf-8": marker.lower().encode("utf-8"),
        "uppercase utf-8": marker.upper().encode("utf-8"),
        "nfd utf-8": unicodedata.normalize("NFD", marker).encode("utf-8"),
        "json-escaped": json.dumps(marker)[1:-1].encode("ascii"),
        "hex": marker.encode("utf-8").hex().encode("ascii"),
        "HEX": marker.encode("utf-8").hex().upper().encode("ascii"),
    }
    return forms


def every_file(home: Path) -> list[Path]:
    """Every regular file under `home`, hidden ones and -wal/-shm included."""
    found = []
    for root, _dirs, files in os.walk(home):
        found.extend(Path(root) / name for name in files)
    return sorted(found)


def find_plaintext(home: Path, markers: dict[str, str]) -> list[str]:
    """One line per (file, marker, encoding) where a marker shows in the clear."""
    leaks = []
    for path in every_file(home):
        data = path.read_bytes()
        for label, marker in markers.items():
            for form, needle in encodings_of(marker).items():
                if needle in data:
                    leaks.append(f"{path.relative_to(home)}: {label} {marker!r} as {form}")
    return leaks


def hold_open(db: Path) -> sqlite3.Connection:
    """A reader on `db`: while it stays open no writer is the last one out, so the
    write-ahead log is neither checkpointed away nor deleted on their exit."""
    reader = sqlite3.connect(db, isolation_level=None)
    reader.execute("SELECT count(*) FROM sqlite_master").fetchall()
    return reader


def mark(label: str) -> str:
    """A distinct, mixed-case random marker (mixed case makes the lowercase form differ)."""
    return f"{label}Q{secrets.token_hex(5)}"


# -- the scanner can fail --------------------------------------------------------


def test_scanner_finds_a_marker_in_every_encoding_it_claims(tmp_path: Path):
    """If the scanner could not see plaintext, every other test here would pass vacuously."""
    marker = mark("Zoë-心")
    for index, (form, needle) in enumerate(encodings_of(marker).items()):
        nested = tmp_path / f"d{index}" / ".hidden"
        nested.mkdir(parents=True)
        (nested / "cache.bin").write_bytes(b"\x00junk" + needle + b"junk\x00")
        leaks = find_plaintext(tmp_path, {"m": marker})
        assert any(f"as {form}" in leak for leak in leaks), (form, leaks)
        (nested / "cache.bin").unlink()
    assert find_plaintext(tmp_path, {"m": marker}) == []


def test_scanner_reaches_pages_that_live_only_in_the_wal(tmp_path: Path):
    """The WAL scan below relies on `hold_open` keeping fresh pages in circle.db-wal."""
    db = tmp_path / "circle.db"
    setup = sqlite3.connect(db, isolation_level=None)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE t (v TEXT)")
    setup.close()
    reader = hold_open(db)
    try:
        marker = mark("InWal")
        writer = sqlite3.connect(db, isolation_level=None)
        writer.execute("INSERT INTO t VALUES (?)", (marker,))
        writer.close()
        assert marker.encode() not in db.read_bytes()
        leaks = find_plaintext(tmp_path, {"m": marker})
        assert leaks and all(leak.startswith("circle.db-wal:") for leak in leaks), leaks
    finally:
        reader.close()


# -- a profile full of markers ---------------------------------------------------


@dataclass
class MarkedProfile:
    home: Path
    markers: dict[str, str]
    leaks_while_open: list[str]
    wal_bytes_while_open: int


def _write_everything(cli: Cli, outside: Path, markers: dict[str, str]) -> str:
    """Every kind of member-written or member-named text after `init`, via the real CLI."""
    m = markers
    circle = cli.ok("new", m["circle name"], "--purpose", m["purpose"]).stdout.strip()
    guidelines = outside / "guidelines.txt"  # outside the profile directory on purpose
    guidelines.write_text(f"{m['guidelines']}\n2. {m['guidelines, non-ASCII']}\n", "utf-8")
    cli.ok("guidelines", circle, "--set", str(guidelines))
    first = cli.ok("post", circle, m["post body"]).stdout.strip()
    cli.ok("post", circle, m["post body, non-ASCII"])
    cli.ok("post", circle, m["reply body"], "--reply-to", first)
    cli.ok("post", circle, m["post under warning"], "--cw", m["content warning"])
    edited = cli.ok("post", circle, m["body before edit"]).stdout.strip()
    cli.ok("edit", circle, edited, m["body after edit"])
    cli.ok("react", circle, first, m["reaction kind"])
    cli.ok("checkin", circle, "--mood", "2", "--note", m["shared note"], "--tag", m["shared tag"])
    cli.ok("checkin", circle, "--mood", "1", "--note", m["private note"],
           "--tag", m["private tag"], "--private")
    cli.ok("event", circle, m["event title"], "--when", "2031-03-04T18:30",
           "--where", m["event place"], "--notes", m["event notes"])
    cli.ok("resources", circle, "--add", m["resource name"], "--contact", m["resource contact"])
    return circle


def _read_back(cli: Cli, circle: str) -> str:
    """Everything the CLI shows, so the test knows each marker really was stored."""
    shown = [cli.ok(*cmd, "--json").stdout for cmd in (
        ("whoami",), ("feed", circle), ("checkins", circle), ("events", circle),
        ("resources", circle), ("export", circle, "--format", "json"),
    )]
    return "\n".join(json.dumps(json.loads(s), ensure_ascii=False) for s in shown)


NOT_SHOWN = {"passphrase", "body before edit"}  # stored (or used) but never displayed


@pytest.fixture(scope="module")
def marked(tmp_path_factory) -> MarkedProfile:
    base = tmp_path_factory.mktemp("at-rest")
    markers = {
        "display name": mark("Zoë Ångström "),
        "passphrase": mark("Passphrase "),
        "circle name": mark("Circle "),
        "purpose": mark("Purpose "),
        "guidelines": mark("Guideline "),
        "guidelines, non-ASCII": mark("Ли́пы 心の声 "),
        "post body": mark("Body "),
        "post body, non-ASCII": mark("שלום 🌧 naïve "),
        "reply body": mark("Reply "),
        "post under warning": mark("Warned "),
        "content warning": mark("Cw "),
        "body before edit": mark("Before "),
        "body after edit": mark("After "),
        "reaction kind": mark("💛Kind"),
        "shared note": mark("Note "),
        "shared tag": mark("Tag"),
        "private note": mark("Secret Ñote "),
        "private tag": mark("Ptag"),
        "event title": mark("Title "),
        "event place": mark("Place "),
        "event notes": mark("Notes "),
        "resource name": mark("Helpline "),
        "resource contact": mark("Contact "),
    }
    cli = Cli(base / "home", passphrase=markers["passphrase"])
    cli.ok("init", "--name", markers["display name"])
    reader = hold_open(cli.home / "circle.db")
    try:
        circle = _write_everything(cli, base, markers)
        shown = _read_back(cli, circle)
        missing = [k for k, m in markers.items() if k not in NOT_SHOWN and m not in shown]
        assert not missing, f"markers never stored, so scanning for them proves nothing: {missing}"
        wal = cli.home / "circle.db-wal"
        wal_bytes = wal.stat().st_size if wal.exists() else 0
        leaks_while_open = find_plaintext(cli.home, markers)
    finally:
        reader.close()
    return MarkedProfile(cli.home, markers, leaks_while_open, wal_bytes)


def test_no_marker_in_any_file_while_the_wal_holds_the_writes(marked: MarkedProfile):
    """Fresh pages sit in circle.db-wal until a checkpoint; they must be sealed there too."""
    assert marked.wal_bytes_while_open > 32 * 1024, "the writes did not stay in the WAL"
    assert marked.leaks_while_open == []


def test_no_marker_in_any_file_after_every_connection_closed(marked: MarkedProfile):
    """After the checkpoint the main file holds everything; still nothing in the clear."""
    assert (marked.home / "circle.db").stat().st_size > 0
    assert not (marked.home / "circle.db-wal").exists()
    assert find_plaintext(marked.home, marked.markers) == []


# -- the demo's simulated members --------------------------------------------------

DEMO_MARKERS = {
    "member": "Maya",
    "member 2": "Jonas",
    "member 3": "Priya",
    "circle name": "Tuesday Walkers",
    "post": "Made it round the lake",
    "post 2": "not sleeping much since the news",
    "content warning": "family illness",
    "event place": "North gate",
    "guidelines": GUIDELINES.splitlines()[1],
}


def test_demo_circle_leaves_no_simulated_member_name_or_post_on_disk(tmp_path: Path):
    """`circle demo` writes real profiles (yours and the simulated members' own, which post
    through real bundles); its made-up people are as private on disk as real ones."""
    demo_home = tmp_path / "demo"
    service = Service.create_profile(demo_home / "you", "You", secrets.token_urlsafe(16))
    peers = {}
    try:
        circle, peers = seed_demo(service, demo_home / "peers", service.clock())
        names = {m.name for m in service.members(circle)}
        assert {"Maya", "Jonas", "Priya"} <= names
        assert any("Made it round the lake" in p.body for p in service.feed(circle))
        assert (demo_home / "you" / "circle.db-wal").stat().st_size > 0
        assert find_plaintext(demo_home, DEMO_MARKERS) == []
    finally:
        for peer in peers.values():
            peer.close()
        service.close()
    assert len(every_file(demo_home)) >= 4, "expected the demo profile and three member profiles"
    assert find_plaintext(demo_home, DEMO_MARKERS) == []
