"""`circle relay --status`: circles, bundles, bytes and live connections, with no profile."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers.live import wait_until
from tests.helpers.relay import CircleKeys, Relay


def test_status_reports_circles_bundles_bytes_and_open_connections(relay: Relay):
    first, second = CircleKeys(), CircleKeys()
    first.register(relay)
    second.register(relay)
    with first.mailbox(relay) as box:
        box.put(b"x" * 100)
        box.put(b"y" * 23)
        wait_until(lambda: relay.connections() == 1, 15, "the relay to count the connection")
        status = relay.status()
        plain = subprocess.run([sys.executable, "-m", "circle", "relay", "--status", "--data", str(relay.data)],
                               env=relay.env(), capture_output=True, text=True, timeout=60)
    assert {k: status[k] for k in ("circles", "bundles", "bytes", "connections", "token")} == {
        "circles": 2, "bundles": 2, "bytes": 123, "connections": 1, "token": relay.token}
    assert sorted(status["per_circle"], key=lambda c: c["bundles"]) == [
        {"circle": second.circle_id, "bundles": 0, "bytes": 0, "connections": 0},
        {"circle": first.circle_id, "bundles": 2, "bytes": 123, "connections": 1}]
    assert plain.returncode == 0, plain.stderr
    lines = plain.stdout.splitlines()
    assert lines[:2] == ["circles: 2  bundles: 2  bytes: 123  connections: 1", f"registration token: {relay.token}"]
    assert f"  {first.circle_id}  2 bundles  123 bytes  1 connections" in lines


def test_status_of_a_directory_no_relay_has_used_is_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "circle", "relay", "--status", "--data", str(tmp_path / "none")],
                            capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "CIRCLE_HOME": str(tmp_path / "no-profile")})
    assert result.returncode == 1
    assert result.stderr.startswith("circle: no relay has run with the data directory ")
    assert len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "none").exists()


def test_a_second_relay_on_a_taken_port_says_so_in_one_line(relay: Relay):
    result = subprocess.run([sys.executable, "-m", "circle", "relay", "--host", "127.0.0.1", "--port",
                             str(relay.port), "--data", str(relay.data)],
                            env=relay.env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr == f"circle: cannot listen on 127.0.0.1:{relay.port}: that port is already in use\n"
