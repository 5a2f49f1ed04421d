"""`circle search`, run as a real subprocess: plain and --json, one circle or --all, bad input
as one line, and another member's hostile text printed safely."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from tests.helpers.cli import Cli
from tests.helpers.hostile_world import PASSPHRASE, build

from circle.crypto.passphrase import KdfParams

UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064"
                    "\u2066-\u2069\ufeff]")


def test_search_prints_newest_first_with_snippets_and_json(profile_cli: Cli, circle_id: str):
    cli = profile_cli
    old = cli.ok("post", circle_id, "Went for a walk by the river").stdout.strip()
    cli.ok("post", circle_id, "Rain all day, no walk")
    new = cli.ok("post", circle_id, "A WALK in the café garden", "--cw", "garden").stdout.strip()
    plain = cli.ok("search", circle_id, "walk").stdout.splitlines()
    assert plain[0].startswith(f"[{new[:8]}] Ana · ")
    assert plain[1] == "  CW: garden (body hidden; use --json to read)"
    assert plain[3] == "  Rain all day, no walk"
    assert plain[5] == "  Went for a walk by the river" and plain[-1] == "3 matches"
    assert cli.ok("search", circle_id, '"walk by the"', "--limit", "1").stdout.splitlines()[-1] == "1 match"
    assert cli.ok("search", circle_id, "walk", "--limit", "1").stdout.splitlines()[-1] == (
        "3 matches, showing the newest 1 (--limit)")
    data = cli.ok("search", circle_id, "cafe walk", "--json").json()
    assert data["total"] == 1 and data["query"] == "cafe walk"
    hit = data["hits"][0]
    assert (hit["id"], hit["author"], hit["content_warning"]) == (new, "Ana", "garden")
    assert [hit["snippet"][a:b] for a, b in hit["marks"]] == ["WALK", "café"]
    other = cli.ok("new", "Readers").stdout.strip()
    cli.ok("post", other, "a walk to the library")
    everywhere = cli.ok("search", "--all", "walk", "--json").json()
    assert [h["circle_name"] for h in everywhere["hits"]] == ["Readers", "Walkers", "Walkers", "Walkers"]
    assert everywhere["hits"][-1]["id"] == old
    assert "· Readers" in cli.ok("search", "--all", "library").stdout
    assert cli.ok("search", circle_id, "nothing").stdout == "no matches\n"


@pytest.mark.parametrize("args", [("walk",), ("--all", "Walkers", "walk")])
def test_search_wants_a_circle_or_all(profile_cli: Cli, circle_id: str, args):
    result = profile_cli.run("search", *args)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == "circle: search takes a CIRCLE or --all, not both or neither\n"


def test_an_empty_query_is_one_line(profile_cli: Cli, circle_id: str):
    result = profile_cli.run("search", circle_id, '""')
    assert result.returncode != 0 and result.stderr == "circle: search for at least one word\n"


@pytest.fixture(scope="module")
def hostile_home(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(KdfParams, "fresh", classmethod(
            lambda cls: cls(salt=os.urandom(16), memory_kib=19456, iterations=2, lanes=1)))
        root = tmp_path_factory.mktemp("hostile") / "world"
        return root / "ana", build(root)


def run_checked(home, *args) -> subprocess.CompletedProcess:
    """`circle ARGS` as Ana, checking that no byte a terminal acts on reaches either stream."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIRCLE_")}
    env.update(CIRCLE_HOME=str(home), CIRCLE_PASSPHRASE=PASSPHRASE)
    proc = subprocess.run([sys.executable, "-m", "circle", *args], capture_output=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=60)
    for stream in (proc.stdout, proc.stderr):
        found = sorted({hex(ord(c)) for c in UNSAFE.findall(stream.decode("utf-8").replace("\n", ""))})
        assert not found, f"circle {' '.join(args)}: {found} in {stream[:300]!r}"
    assert b"Traceback" not in proc.stderr, proc.stderr
    return proc


# What a hit shows of each: POST1 has a warning, so its warning stands for the body.
SHOWN = {"POST1": b"CW1", "POST2": b"POST2", "POST3": b"POST3", "CW1": b"CW1"}


@pytest.mark.parametrize("extra", [(), ("--json",)])
@pytest.mark.parametrize("query", sorted(SHOWN))
def test_hostile_text_in_hits_reaches_the_terminal_as_plain_text(hostile_home, query, extra):
    home, ids = hostile_home
    for where in ((str(ids["circle"]),), ("--all",)):
        proc = run_checked(home, "search", *where, query, *extra)
        assert proc.returncode == 0, proc.stderr
        out = proc.stdout.decode()
        if extra:
            assert json.loads(out)["total"] == 1
        else:
            assert out.splitlines()[-1] == "1 match" and SHOWN[query] in proc.stdout
