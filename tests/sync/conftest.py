"""Fixtures for the sync tests: one `circle serve` under attack per module, and the check
that it survived each attack."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import pytest

from tests.helpers.cli import Cli
from tests.helpers.hostile_peer import LOOPBACK, NORMAL_END, Target
from tests.helpers.live import wait_until


@pytest.fixture(scope="module")
def target(tmp_path_factory) -> Target:
    root = tmp_path_factory.mktemp("robust")
    a, b = Cli(root / "A"), Cli(root / "B")
    a.ok("init", "--name", "Ana")
    b.ok("init", "--name", "Ben")
    circle = a.ok("new", "Walkers").stdout.strip()
    a.ok("post", circle, "hello")
    out, err = root / "serve.out", root / "serve.err"
    with open(out, "w") as out_file, open(err, "w") as err_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "circle", "serve", "--host", LOOPBACK, "--port", "0", "--no-discovery"],
            env=a.env(), stdin=subprocess.DEVNULL, stdout=out_file, stderr=err_file,
        )
    try:
        def ready():
            assert proc.poll() is None, err.read_text()
            match = re.search(r"listening on 127\.0\.0\.1:(\d+)", out.read_text())
            return match and int(match.group(1))

        port = wait_until(ready, 30, "serve to listen")
        code = a.ok("invite", circle, "--uses", "2", "--peer", f"{LOOPBACK}:{port}").stdout.strip()
        b.ok("join", code)
        yield Target(a, b, circle, proc, port, err)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


@pytest.fixture
def survives(target: Target):
    """After the test's attack: a new log line, no traceback, server alive and useful."""
    before = len(target.stderr())
    yield

    def attack_logged() -> bool:
        # A member's sync that ended normally also logs a line; that one does not count.
        return any(not line.endswith(NORMAL_END) for line in target.stderr()[before:].splitlines())

    wait_until(attack_logged, 15, "a log line for the dropped peer")
    log = target.stderr()
    assert "Traceback" not in log, log
    assert target.proc.poll() is None, "the server died"
    for line in log[before:].strip().splitlines():
        assert line.startswith("circle serve: "), line
    normal_ends = log.count(NORMAL_END)
    result = target.b.run("sync", target.address, timeout=60)
    assert result.returncode == 0, result.stderr
    # Let the server log the end of that sync now, not during the next test.
    wait_until(lambda: target.stderr().count(NORMAL_END) > normal_ends, 15, "the sync's end to be logged")
    # The store opens and reads (while the server still holds it).
    assert [p["body"] for p in target.a.ok("feed", target.circle, "--json").json()][:1] == ["hello"]
