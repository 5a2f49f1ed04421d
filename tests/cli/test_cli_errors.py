"""The CLI contract for errors: one line on stderr, `circle: ...`, non-zero, nothing written."""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.helpers.cli import PASSPHRASE, Cli, CliResult

from circle.demo import seed_demo
from circle.service import Service


@dataclass(frozen=True)
class World:
    """A profile with the demo circle (posts by simulated members), one own post
    deleted, two posts whose ids share a prefix, and two circles named alike."""

    cli: Cli
    circle: str
    mayas_post: str
    deleted_post: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("errors")
    cli = Cli(root / "home")
    cli.ok("init", "--name", "Ana")
    ids = iter(["abcd0001", "abcd0002"])
    service = Service.unlock(cli.home, PASSPHRASE, new_id=lambda: next(ids))
    try:
        circle, peers = seed_demo(service, root / "peers", service.clock())
        for peer in peers.values():
            peer.close()
        names = service.member_names(circle)
        mayas = next(p.id for p in service.feed(circle) if names[p.author_id] == "Maya")
        service.post(circle, "one of two look-alike ids")
        service.post(circle, "the other look-alike id")
        service.create_circle("Twin")
        service.create_circle("Twin")
    finally:
        service.close()
    deleted = cli.ok("post", circle, "soon gone").stdout.strip()
    cli.ok("delete", circle, deleted)
    return World(cli, circle, mayas, deleted)


def database_content(home: Path) -> str:
    """A digest of every row the profile database holds, plus each table's row count."""
    digest = hashlib.sha256()
    with closing(sqlite3.connect(home / "circle.db")) as conn:
        tables = [t for (t,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        assert "changes" in tables and "private_items" in tables
        for table in tables:
            rows = conn.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
            digest.update(f"{table}:{len(rows)}:{rows!r}".encode())
    return digest.hexdigest()


def assert_one_line_error(result: CliResult, fragment: str) -> None:
    assert result.returncode != 0, result
    assert result.stdout == "", result.stdout
    assert result.stderr.startswith("circle: "), result.stderr
    assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert fragment in result.stderr, result.stderr


# (id, argv with {circle}/{mayas}/{deleted} placeholders, stdin, what the error line must say)
CASES = [
    ("unknown subcommand", ["frobnicate"], None, "invalid choice: 'frobnicate'"),
    ("missing --mood", ["checkin", "{circle}"], None, "--mood"),
    ("missing --when", ["event", "{circle}", "Picnic"], None, "--when"),
    ("missing --format", ["export", "{circle}"], None, "--format"),
    ("unknown circle", ["feed", "Nowhere"], None, "unknown circle: 'Nowhere'"),
    ("unknown post", ["react", "{circle}", "ffffffff", "heart"], None, "unknown post"),
    ("unknown event", ["rsvp", "{circle}", "Moon landing", "yes"], None, "unknown event"),
    ("ambiguous post prefix", ["react", "{circle}", "abcd", "heart"], None, "matches 2"),
    ("ambiguous circle name", ["post", "Twin", "hello"], None, "matches 2"),
    ("mood 0", ["checkin", "{circle}", "--mood", "0"], None, "mood must be 1 to 5"),
    ("mood 6", ["checkin", "{circle}", "--mood", "6"], None, "mood must be 1 to 5"),
    ("mood not a number", ["checkin", "{circle}", "--mood", "good"], None, "invalid int value"),
    ("energy 0", ["checkin", "{circle}", "--mood", "3", "--energy", "0"], None, "energy must be 1 to 5"),
    ("energy 9", ["checkin", "{circle}", "--mood", "3", "--energy", "9"], None, "energy must be 1 to 5"),
    ("empty post", ["post", "{circle}", "   "], None, "post is empty"),
    ("empty post from stdin", ["post", "{circle}", "-"], "\n\n", "post is empty"),
    ("post over 20000 chars", ["post", "{circle}", "x" * 20_001], None, "too long"),
    ("stdin post over 20000 chars", ["post", "{circle}", "-"], "y" * 20_001, "too long"),
    ("reply to unknown post", ["post", "{circle}", "hi", "--reply-to", "ffffffff"], None, "unknown post"),
    ("edit someone else's post", ["edit", "{circle}", "{mayas}", "mine now"], None, "your own posts"),
    ("delete someone else's post", ["delete", "{circle}", "{mayas}"], None, "your own posts"),
    ("edit a deleted post", ["edit", "{circle}", "{deleted}", "back again"], None, "is deleted"),
    ("delete a deleted post", ["delete", "{circle}", "{deleted}"], None, "is deleted"),
    ("react to a deleted post", ["react", "{circle}", "{deleted}", "heart"], None, "is deleted"),
    ("rsvp bad answer", ["rsvp", "{circle}", "Tuesday walk", "perhaps"], None, "invalid choice: 'perhaps'"),
    ("event unparseable --when", ["event", "{circle}", "Picnic", "--when", "next tuesday"], None,
     "not a date and time"),
    ("event --repeat bogus", ["event", "{circle}", "Picnic", "--when", "2030-01-01T10:00", "--repeat",
                              "fortnightly"], None, "invalid choice: 'fortnightly'"),
    ("resources --add without --contact", ["resources", "{circle}", "--add", "Helpline"], None,
     "--add needs --contact"),
    ("resources --edit unknown id", ["resources", "{circle}", "--edit", "ffffffff", "--contact", "1"], None,
     "unknown resource"),
    ("resources --edit without a field", ["resources", "{circle}", "--edit", "ffffffff"], None,
     "--edit needs at least one of"),
    ("resources --add with --remove", ["resources", "{circle}", "--add", "X", "--contact", "1", "--remove",
                                       "ffffffff"], None, "one of --add, --edit, --remove"),
    ("guidelines --set missing file", ["guidelines", "{circle}", "--set", "/nonexistent/rules.txt"], None,
     "cannot read /nonexistent/rules.txt"),
    ("export into missing directory", ["export", "{circle}", "--format", "md", "--output",
                                       "/nonexistent/dir/out.md"], None, "cannot write /nonexistent/dir/out.md"),
]


@pytest.mark.parametrize(("argv", "stdin", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error_is_one_line_non_zero_and_writes_nothing(world: World, argv, stdin, fragment):
    args = [a.format(circle=world.circle, mayas=world.mayas_post, deleted=world.deleted_post) for a in argv]
    before = database_content(world.cli.home)
    assert_one_line_error(world.cli.run(*args, input=stdin), fragment)
    assert database_content(world.cli.home) == before


def test_command_before_init_says_there_is_no_profile(cli: Cli):
    for args in (("whoami",), ("post", "Walkers", "hello")):
        assert_one_line_error(cli.run(*args), f"no profile at {cli.home}")
    assert not (cli.home / "circle.db").exists()
