"""Every CLI listing, plain and --json, and both exports, run as real subprocesses against a
profile whose fellow members wrote hostile text everywhere (tests/helpers/hostile_world.py): no byte a
terminal acts on reaches stdout or stderr, markup does not crash, and the text still shows."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests.helpers.hostile_world import PASSPHRASE, build

from circle.crypto.passphrase import KdfParams

UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


@pytest.fixture(scope="module")
def hostile_home(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(KdfParams, "fresh", classmethod(
            lambda cls: cls(salt=os.urandom(16), memory_kib=19456, iterations=2, lanes=1)))
        root = tmp_path_factory.mktemp("hostile") / "world"
        return root / "ana", build(root)


def run(home, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIRCLE_")}
    env.update(CIRCLE_HOME=str(home), CIRCLE_PASSPHRASE=PASSPHRASE)
    proc = subprocess.run([sys.executable, "-m", "circle", *args], capture_output=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=60)
    for stream in (proc.stdout, proc.stderr):
        text = stream.decode("utf-8")  # valid UTF-8, whatever the peers wrote
        found = sorted({hex(ord(c)) for c in UNSAFE.findall(text.replace("\n", ""))})
        assert not found, f"circle {' '.join(args)}: {found} in {text[:300]!r}"
    assert "Traceback" not in proc.stderr.decode(), proc.stderr.decode()
    return proc


LISTINGS = ("feed", "members", "checkins", "events", "resources", "reports", "modlog", "inbox", "guidelines")


@pytest.mark.parametrize("command", LISTINGS)
def test_listings_print_no_control_characters(hostile_home, command):
    home, ids = hostile_home
    args = [command, ids["circle"]]
    plain = run(home, *args)
    assert plain.returncode == 0, plain.stderr
    as_json = run(home, *args, "--json")
    assert as_json.returncode == 0, as_json.stderr
    json.loads(as_json.stdout)  # still valid JSON, the text escaped inside its strings


def test_circles_exports_and_errors(hostile_home):
    home, ids = hostile_home
    assert b"CIRCLEN" in run(home, "circles").stdout
    dumped = run(home, "export", ids["circle"], "--format", "json")
    data = json.loads(dumped.stdout)
    assert any("\x1b]52" in p["body"] for p in data["posts"])  # kept whole, escaped on the way
    md = run(home, "export", ids["circle"], "--format", "md").stdout.decode()
    assert "<script" not in md and "POST1" in md and "NAMEC" in md
    error = run(home, "feed", "\x1b]52;c;eA==\x07\u202enope")  # an unknown circle, quoted back
    assert error.returncode != 0 and error.stderr.startswith(b"circle: ")


def test_markdown_export_escapes_html_and_keeps_lines():
    from circle.export import md_text

    assert md_text("<script>alert(1)</script>") == "&lt;script&gt;alert\\(1\\)&lt;/script&gt;"
    assert md_text("**bold** [x](http://e)") == "\\*\\*bold\\*\\* \\[x\\]\\(http://e\\)"
    assert "\x1b" not in md_text("\x1b]52;c;eA==\x07")
