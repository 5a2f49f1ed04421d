"""Hostile bytes and damaged stores end in one `circle:` line, never a traceback."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import datetime, timezone

import pytest

from circle.domain.document import CircleDocument, DocumentWriteFailed
from tests.helpers.cli import Cli, one_line, raw


@pytest.fixture
def world(profile_cli: Cli, circle_id: str) -> tuple[Cli, str, str]:
    post = profile_cli.ok("post", circle_id, "hello").stdout.strip()
    return profile_cli, circle_id, post


def test_invalid_utf8_argument(world):
    cli, circle, _ = world
    assert "not valid UTF-8" in one_line(raw(cli, "post", circle, b"\xff"))


def test_invalid_utf8_stdin(world):
    cli, circle, _ = world
    assert "not UTF-8" in one_line(raw(cli, "post", circle, "-", stdin=b"ok \xff"))
    assert "not UTF-8" in one_line(raw(cli, "guidelines", circle, "--set", "-", stdin=b"\xfe\xff"))


def test_binary_guidelines_file(world, tmp_path):
    cli, circle, _ = world
    blob = tmp_path / "blob"
    blob.write_bytes(bytes(range(256)))
    assert "not UTF-8" in one_line(raw(cli, "guidelines", circle, "--set", str(blob)))


def test_invalid_utf8_passphrase(world):
    cli, _, _ = world
    env = cli.env()
    env_b = {k.encode(): v.encode() for k, v in env.items()}
    env_b[b"CIRCLE_PASSPHRASE"] = b"\xff\xfe"
    assert "CIRCLE_PASSPHRASE" in one_line(raw(cli, "circles", env=env_b))


def test_nul_in_post_refused(world):
    cli, circle, _ = world
    assert "NUL" in one_line(raw(cli, "post", circle, "-", stdin=b"a\x00b"))


def test_react_with_surrogate_kind_is_one_line(world):
    # b"\xff" reached Automerge as a lone surrogate and panicked (a BaseException).
    cli, circle, post = world
    one_line(raw(cli, "react", circle, post, b"\xff"))
    assert cli.ok("feed", circle, "--json").json()[0]["body"] == "hello"


def test_document_writer_turns_a_panic_into_an_error():
    now = datetime.now(timezone.utc)
    doc, _ = CircleDocument.create("c1", b"\x01" * 16, name="n", purpose="", created_at=now)
    doc.add_post("p1", "hi", now)
    with pytest.raises(DocumentWriteFailed):
        doc.set_reaction("p1", "\udcff", "m1", True)


def test_non_integer_schema_version(world):
    cli, _, _ = world
    with closing(sqlite3.connect(cli.home / "circle.db")) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (b"one",))
        conn.commit()
    assert "damaged" in one_line(raw(cli, "circles"))


def test_disk_full_is_reported_as_full(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mount)]).returncode:
        pytest.fail("cannot mount a small tmpfs (these tests run as root)")
    try:
        cli = Cli(mount / "home")
        cli.ok("init", "--name", "Ana")
        circle = cli.ok("new", "W").stdout.strip()
        filler = mount / "filler"
        subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=4k"], capture_output=True)
        err = ""
        for _ in range(20):
            proc = raw(cli, "post", circle, "x" * 4000)
            if proc.returncode:
                err = one_line(proc)
                break
        assert "full" in err and "damaged" not in err
        filler.unlink()
        cli.ok("feed", circle)
    finally:
        subprocess.run(["umount", "-l", str(mount)])


def test_read_only_profile_is_reported_as_read_only(tmp_path):
    mount = tmp_path / "ro"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)]).returncode:
        pytest.fail("cannot mount a tmpfs (these tests run as root)")
    try:
        cli = Cli(mount / "home")
        cli.ok("init", "--name", "Ana")
        circle = cli.ok("new", "W").stdout.strip()
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        err = one_line(raw(cli, "post", circle, "hello"))
        assert "read-only" in err and "damaged" not in err
    finally:
        subprocess.run(["umount", "-l", str(mount)])


def test_broken_pipe_is_quiet(world):
    cli, circle, _ = world
    for i in range(3):
        cli.ok("post", circle, f"post {i} " + "y" * 3000)
    proc = subprocess.run(f"{sys.executable} -m circle feed {circle} | head -c 10 >/dev/null",
                          shell=True, capture_output=True, env=cli.env(), timeout=60)
    assert b"Traceback" not in proc.stderr and b"Exception" not in proc.stderr
