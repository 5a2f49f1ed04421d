"""LAN discovery: members find each other over mDNS (bound to 127.0.0.1 here) by
blinded, rotating tags; a stranger's tags never match."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from circle.service import Service
from circle.sync.discovery import WINDOW_SECONDS, current_window, discovery_tag
from tests.helpers.in_process import join

PASS = "passphrase-discovery"


def test_tags_rotate_per_window_and_differ_per_circle_and_key():
    key, other_key = b"k" * 32, b"q" * 32
    circle, other_circle = "ab" * 16, "cd" * 16
    window = current_window(1_800_000_000)
    tag = discovery_tag(key, circle, window)
    assert tag == discovery_tag(key, circle, window)
    assert len({tag, discovery_tag(key, circle, window + 1), discovery_tag(key, other_circle, window),
                discovery_tag(other_key, circle, window)}) == 4
    assert current_window(1_800_000_000 + WINDOW_SECONDS) == window + 1
    assert circle not in tag and len(tag) == 20


def test_a_removal_changes_the_advertised_tags(tmp_path):
    """Tags are keyed from the current epoch key, so a removed member who kept old keys
    cannot recognise the circle's devices after the rotation."""
    ana = Service.create_profile(tmp_path / "ana", "Ana", PASS)
    ben = Service.create_profile(tmp_path / "ben", "Ben", PASS)
    circle = ana.create_circle("Walkers")
    code = ana.invite(circle)
    join(sponsor=ana, newcomer=ben, code=code)
    ana.receive_bundle(ben.bundle_for(circle, ana.whoami().device_id))
    window = current_window(time.time())
    before = ana.discovery_tags(window)
    assert before == ben.discovery_tags(window)
    ana.remove(circle, "Ben")
    assert ana.discovery_tags(window).isdisjoint(before)
    ana.close()
    ben.close()


def _serve(home, env):
    proc = subprocess.Popen(
        [sys.executable, "-m", "circle", "--home", str(home), "serve", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    line = proc.stdout.readline()
    assert line.startswith("listening on 127.0.0.1:"), line + proc.stderr.read()
    return proc


def test_two_members_serving_on_loopback_find_each_other_and_sync_live(tmp_path):
    ana = Service.create_profile(tmp_path / "ana", "Ana", PASS)
    ben = Service.create_profile(tmp_path / "ben", "Ben", PASS)
    circle = ana.create_circle("Walkers")
    code = ana.invite(circle)
    join(sponsor=ana, newcomer=ben, code=code)
    ana.close()
    ben.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIRCLE_")} | {"CIRCLE_PASSPHRASE": PASS}
    servers = [_serve(tmp_path / "ana", env), _serve(tmp_path / "ben", env)]
    try:
        posted = subprocess.run(
            [sys.executable, "-m", "circle", "--home", str(tmp_path / "ben"), "post", circle, "found you"],
            capture_output=True, text=True, env=env, timeout=60,
        )
        assert posted.returncode == 0, posted.stderr
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            feed = subprocess.run(
                [sys.executable, "-m", "circle", "--home", str(tmp_path / "ana"), "feed", circle, "--json"],
                capture_output=True, text=True, env=env, timeout=60,
            )
            if "found you" in feed.stdout:
                break
            time.sleep(0.5)
        else:
            pytest.fail("Ben's post never reached Ana through discovery")
    finally:
        for proc in servers:
            proc.send_signal(signal.SIGTERM)
        for proc in servers:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    for proc in servers:
        assert proc.returncode == 0
        assert "Traceback" not in proc.stderr.read()
