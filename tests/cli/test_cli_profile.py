"""The CLI contract for profiles: init, whoami, --home, and the passphrase rules."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from contextlib import closing
from pathlib import Path

from tests.helpers.cli import PASSPHRASE, Cli, CliResult

HEX32 = re.compile(r"[0-9a-f]{32}")
DB = "circle.db"


def assert_one_line_error(result: CliResult, *fragments: str) -> None:
    assert result.returncode != 0
    assert result.stderr.startswith("circle: "), result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.endswith("\n"), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def database_files_digest(home: Path) -> dict[str, str]:
    """The bytes of circle.db and of any write-ahead log beside it."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(home.glob(DB + "*"))
        if path.name in (DB, DB + "-wal")
    }


def test_init_creates_profile_in_home_and_whoami_reports_it(cli: Cli):
    created = cli.ok("init", "--name", "Ana")
    assert created.stdout.startswith("created profile Ana ")
    assert (cli.home / DB).is_file()

    me = cli.ok("whoami", "--json").json()
    assert set(me) == {"member_id", "device_id", "name", "home"}
    assert me["name"] == "Ana"
    assert me["home"] == str(cli.home)
    assert HEX32.fullmatch(me["member_id"]) and HEX32.fullmatch(me["device_id"])

    plain = cli.ok("whoami").stdout
    assert "Ana" in plain and me["member_id"] in plain and str(cli.home) in plain


def test_home_option_before_subcommand_wins_over_circle_home(tmp_path: Path):
    chosen, ignored = tmp_path / "chosen", tmp_path / "ignored"
    cli = Cli(ignored)

    cli.ok("--home", str(chosen), "init", "--name", "Ana")
    assert (chosen / DB).is_file()
    assert not ignored.exists()

    me = cli.ok("--home", str(chosen), "whoami", "--json").json()
    assert me["home"] == str(chosen)

    # Without CIRCLE_HOME at all (and the platform data dir pointed somewhere
    # empty), --home alone finds the profile.
    env = {k: v for k, v in cli.env().items() if k != "CIRCLE_HOME"}
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    alone = cli.ok("--home", str(chosen), "whoami", "--json", env=env).json()
    assert alone == me


def test_init_twice_fails_and_original_profile_still_unlocks(profile_cli: Cli):
    before = profile_cli.ok("whoami", "--json").json()
    files_before = database_files_digest(profile_cli.home)

    again = Cli(profile_cli.home, passphrase="a different passphrase").run("init", "--name", "Bea")
    assert_one_line_error(again, "already exists", str(profile_cli.home))
    same_pass = profile_cli.run("init", "--name", "Ana")
    assert_one_line_error(same_pass, "already exists")

    assert database_files_digest(profile_cli.home) == files_before
    assert profile_cli.ok("whoami", "--json").json() == before


def test_passphrase_shorter_than_eight_characters_is_rejected(tmp_path: Path):
    short = Cli(tmp_path / "short", passphrase="7chars!")
    assert_one_line_error(short.run("init", "--name", "Ana"), "passphrase too short", "8")
    assert not (short.home / DB).exists()

    Cli(tmp_path / "eight", passphrase="8chars!!").ok("init", "--name", "Ana")


def test_no_passphrase_and_no_terminal_is_one_clear_error(profile_cli: Cli, tmp_path: Path):
    no_pass = Cli(profile_cli.home, passphrase=None)
    assert_one_line_error(no_pass.run("whoami"), "no passphrase", "CIRCLE_PASSPHRASE")

    fresh = Cli(tmp_path / "fresh", passphrase=None)
    assert_one_line_error(fresh.run("init", "--name", "Ana"), "CIRCLE_PASSPHRASE")
    assert not (fresh.home / DB).exists()


def test_wrong_passphrase_is_named_and_leaves_the_database_unchanged(profile_cli: Cli, circle_id: str):
    profile_cli.ok("post", circle_id, "before the wrong passphrase")
    files_before = database_files_digest(profile_cli.home)
    assert DB in files_before

    wrong = Cli(profile_cli.home, passphrase=PASSPHRASE + "x")
    assert_one_line_error(wrong.run("post", circle_id, "must not land"), "wrong passphrase")
    assert_one_line_error(wrong.run("whoami"), "wrong passphrase")

    assert database_files_digest(profile_cli.home) == files_before
    bodies = [p["body"] for p in profile_cli.ok("feed", circle_id, "--json").json()]
    assert bodies == ["before the wrong passphrase"]


def test_vault_key_derivation_meets_owasp_argon2id_minimums(profile_cli: Cli):
    with closing(sqlite3.connect(profile_cli.home / DB)) as conn:
        (raw,) = conn.execute("SELECT value FROM meta WHERE key = 'kdf'").fetchone()
    params = json.loads(bytes(raw))
    assert params["alg"] == "argon2id"
    assert params["memory_kib"] >= 19456
    assert params["iterations"] >= 2
    assert params["lanes"] >= 1
    assert len(bytes.fromhex(params["salt"])) >= 16


def test_profile_database_holds_no_plaintext_names_bodies_or_passphrase(cli: Cli):
    cli.ok("init", "--name", "Zephyrine Quillfeather")
    circle = cli.ok("new", "Marigold Lanterns Society").stdout.strip()
    cli.ok("post", circle, "my xylophonic secret diary entry")

    raw = b"".join((cli.home / name).read_bytes() for name in database_files_digest(cli.home))
    for secret in ("Zephyrine", "Marigold Lanterns", "xylophonic", PASSPHRASE):
        assert secret.encode() not in raw, secret
