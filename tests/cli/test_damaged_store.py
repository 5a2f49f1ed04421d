"""A damaged or tampered database gives one clear line naming the problem, never a traceback.

Each test damages a copy of a real profile (two circles, posts, a private check-in), runs a
real `circle` subprocess against it and checks three things: the command fails with exactly
one `circle: ...` line on stderr that names what is wrong, it prints nothing on stdout, and
it leaves every file in the profile directory byte-for-byte as it found it (a failed command
must not make the damage worse or paper over it).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.cli import Cli, CliResult


@dataclass(frozen=True)
class Template:
    home: Path
    circle_a: str
    circle_b: str


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Template:
    """A healthy profile, built once with the real CLI and copied for each test."""
    cli = Cli(tmp_path_factory.mktemp("damaged-template") / "home")
    cli.ok("init", "--name", "Ana")
    a = cli.ok("new", "Walkers").stdout.strip()
    b = cli.ok("new", "Readers").stdout.strip()
    for circle in (a, b):
        cli.ok("post", circle, f"first in {circle}")
        cli.ok("post", circle, f"second in {circle}")
    cli.ok("checkin", a, "--mood", "3", "--note", "only me", "--private")
    assert sorted(p.name for p in cli.home.iterdir()) == ["circle.db"], "template not checkpointed"
    return Template(cli.home, a, b)


@pytest.fixture
def home(template: Template, tmp_path: Path) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(template.home, copy)
    return copy


def files_of(home: Path) -> dict[str, str]:
    """Every path under `home` with a hash of its bytes (or 'dir'), to prove nothing moved."""
    out = {}
    for path in sorted(home.rglob("*")):
        key = str(path.relative_to(home))
        out[key] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def run_unchanged(home: Path, *args: str, passphrase: str | None = None) -> CliResult:
    """Run `circle args` and assert it left the profile directory exactly as it was."""
    cli = Cli(home) if passphrase is None else Cli(home, passphrase=passphrase)
    before = files_of(home)
    result = cli.run(*args, timeout=30)
    assert files_of(home) == before, "a failed command changed the profile directory"
    return result


def assert_one_clear_line(result: CliResult, *naming: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("circle: "), result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.endswith("\n"), result.stderr
    assert result.stdout == ""
    for word in naming:
        assert word in result.stderr, f"{word!r} not in {result.stderr!r}"


def db(home: Path) -> sqlite3.Connection:
    return closing(sqlite3.connect(home / "circle.db", isolation_level=None))


def flip_middle_byte(blob: bytes) -> bytes:
    middle = len(blob) // 2
    return blob[:middle] + bytes([blob[middle] ^ 0x5A]) + blob[middle + 1:]


# -- damage to the file itself --------------------------------------------------


def test_truncated_database_is_reported_damaged(home: Path, template: Template):
    """A copy cut short (a full disk, an interrupted sync) must not crash the app."""
    path = home / "circle.db"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert_one_clear_line(run_unchanged(home, "feed", template.circle_a, "--json"), "damaged")


def test_garbage_header_is_reported_damaged(home: Path, template: Template):
    """The 100-byte SQLite header overwritten: the file is no longer a database."""
    path = home / "circle.db"
    data = path.read_bytes()
    path.write_bytes(bytes(range(7, 107)) + data[100:])
    assert_one_clear_line(run_unchanged(home, "feed", template.circle_a), "damaged", "not a database")


def test_zero_length_database_is_reported_damaged_and_left_empty(home: Path, template: Template):
    """SQLite happily treats an empty file as a new database; we must not write one into it."""
    (home / "circle.db").write_bytes(b"")
    assert_one_clear_line(run_unchanged(home, "whoami"), "damaged")
    assert (home / "circle.db").stat().st_size == 0


def test_database_path_that_is_a_directory_is_reported(home: Path, template: Template):
    (home / "circle.db").unlink()
    (home / "circle.db").mkdir()
    assert_one_clear_line(run_unchanged(home, "whoami"), "damaged", "circle.db")


# -- tampered records -------------------------------------------------------------


def test_flipped_byte_in_a_change_fails_its_integrity_check(home: Path, template: Template):
    """AES-GCM authenticates every record: one changed bit is caught, not parsed."""
    with db(home) as con:
        row_id, blob = con.execute(
            "SELECT id, blob FROM changes WHERE circle_id = ? ORDER BY id LIMIT 1",
            (template.circle_a,),
        ).fetchone()
        con.execute("UPDATE changes SET blob = ? WHERE id = ?", (flip_middle_byte(blob), row_id))
    result = run_unchanged(home, "feed", template.circle_a, "--json")
    assert_one_clear_line(result, "damaged", "change record failed its integrity check")


def test_flipped_byte_in_the_snapshot_fails_its_integrity_check(home: Path, template: Template):
    with db(home) as con:
        (blob,) = con.execute(
            "SELECT snapshot FROM documents WHERE circle_id = ?", (template.circle_b,)
        ).fetchone()
        con.execute(
            "UPDATE documents SET snapshot = ? WHERE circle_id = ?",
            (flip_middle_byte(blob), template.circle_b),
        )
    result = run_unchanged(home, "feed", template.circle_b, "--json")
    assert_one_clear_line(result, "damaged", "snapshot record failed its integrity check")


def test_change_moved_to_another_circle_is_caught_by_associated_data(home: Path, template: Template):
    """Each sealed record names its circle; a valid ciphertext from circle B is not A's."""
    with db(home) as con:
        rows = {
            circle: con.execute(
                "SELECT id, blob FROM changes WHERE circle_id = ? ORDER BY id LIMIT 1", (circle,)
            ).fetchone()
            for circle in (template.circle_a, template.circle_b)
        }
        (id_a, blob_a), (id_b, blob_b) = rows[template.circle_a], rows[template.circle_b]
        con.execute("UPDATE changes SET blob = ? WHERE id = ?", (blob_b, id_a))
        con.execute("UPDATE changes SET blob = ? WHERE id = ?", (blob_a, id_b))
    for circle in (template.circle_a, template.circle_b):
        result = run_unchanged(home, "feed", circle, "--json")
        assert_one_clear_line(result, "damaged", "change record failed its integrity check")


def test_tampered_private_checkin_fails_its_integrity_check(home: Path, template: Template):
    with db(home) as con:
        item_id, blob = con.execute("SELECT item_id, blob FROM private_items").fetchone()
        con.execute(
            "UPDATE private_items SET blob = ? WHERE item_id = ?", (flip_middle_byte(blob), item_id)
        )
    result = run_unchanged(home, "checkins", template.circle_a, "--json")
    assert_one_clear_line(result, "damaged", "private record failed its integrity check")


def test_failed_post_on_a_damaged_circle_writes_nothing(home: Path, template: Template):
    """A write command that cannot read the circle must not append to it either."""
    with db(home) as con:
        row_id, blob = con.execute(
            "SELECT id, blob FROM changes WHERE circle_id = ? ORDER BY id DESC LIMIT 1",
            (template.circle_a,),
        ).fetchone()
        con.execute("UPDATE changes SET blob = ? WHERE id = ?", (blob[:20], row_id))
    result = run_unchanged(home, "post", template.circle_a, "this must not be stored")
    assert_one_clear_line(result, "damaged", "integrity check")


# -- the key vault ----------------------------------------------------------------


def test_missing_vault_row_is_reported(home: Path, template: Template):
    with db(home) as con:
        con.execute("DELETE FROM meta WHERE key = 'vault'")
    assert_one_clear_line(run_unchanged(home, "whoami"), "damaged", "key vault is missing")


@pytest.mark.parametrize(
    "tampered",
    [{"lanes": 0}, {"memory_kib": 2**31}, {"iterations": 2**31}, {"memory_kib": "64"}, {"salt": "zz"}],
    ids=["zero-lanes", "absurd-memory", "absurd-iterations", "memory-as-text", "bad-salt"],
)
def test_tampered_key_derivation_settings_give_one_line_quickly(
    home: Path, template: Template, tampered: dict
):
    """Settings read from disk are attacker-controlled: no traceback, no hours-long unlock."""
    with db(home) as con:
        (raw,) = con.execute("SELECT value FROM meta WHERE key = 'kdf'").fetchone()
        con.execute(
            "UPDATE meta SET value = ? WHERE key = 'kdf'",
            (json.dumps(json.loads(raw) | tampered).encode(),),
        )
    assert_one_clear_line(run_unchanged(home, "whoami"), "damaged", "key derivation")


def test_wrong_passphrase_is_one_line_and_changes_no_byte(home: Path, template: Template):
    result = run_unchanged(home, "feed", template.circle_a, passphrase="not the passphrase at all")
    assert_one_clear_line(result, "wrong passphrase")
