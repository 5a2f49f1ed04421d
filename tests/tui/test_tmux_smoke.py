"""`circle demo` in a real terminal (tmux): it starts, the simulated members post live, you
post, F1 opens help, ctrl+q quits. Needs tmux; CI must install it (it is not optional)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from circle.demo import LIVE_POSTS, SEEDED_POSTS

SHOWS_EVERYTHING_WITHIN = 15.0  # seconds; the product aims at 10 on an idle machine


class Tmux:
    def __init__(self, socket: Path) -> None:
        self.socket = socket

    def __call__(self, *args: str) -> str:
        out = subprocess.run(["tmux", "-S", str(self.socket), "-f", "/dev/null", *args],
                             capture_output=True, text=True, timeout=10)
        assert out.returncode == 0, out.stderr
        return out.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "smoke")

    def wait_for(self, text: str, timeout: float) -> float:
        start = time.monotonic()
        while text not in (shown := self.screen()):
            if time.monotonic() - start > timeout:
                raise AssertionError(f"{text!r} did not appear within {timeout} s; the screen:\n{shown}")
            time.sleep(0.2)
        return time.monotonic() - start


def test_demo_in_a_real_terminal(tmp_path):
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed: this test needs a real terminal. "
                    "Install it (apt-get install -y tmux); CI must have it.")
    tmux = Tmux(tmp_path / "tmux.sock")
    command = (f"{shlex.quote(sys.executable)} -m circle demo --first-after 1 --every-min 2 --every-max 3; "
               "echo circle exited with $?; sleep 60")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CIRCLE_", "TEXTUAL"))}
    env.update(TERM="xterm-256color", CIRCLE_REGION="GB", LANG="C.UTF-8")
    started = time.monotonic()
    subprocess.run(["tmux", "-S", str(tmux.socket), "-f", "/dev/null", "new-session", "-d", "-s", "smoke",
                    "-x", "120", "-y", "36", command], env=env, check=True, timeout=10)
    try:
        tmux("resize-window", "-t", "smoke", "-x", "120", "-y", "36")  # some tmux ignore -x/-y when detached
        # The whole seeded history is there (where the feed is scrolled to depends on
        # how many live posts have come in meanwhile).
        tmux.wait_for("Tuesday Walkers", SHOWS_EVERYTHING_WITHIN)
        while int((re.search(r"(\d+) posts", tmux.screen()) or [0, 0])[1]) < SEEDED_POSTS:
            assert time.monotonic() - started < SHOWS_EVERYTHING_WITHIN, f"the feed is not there:\n{tmux.screen()}"
            time.sleep(0.2)
        # A simulated member posts over real local sync: the count grows; G shows the newest.
        deadline = time.monotonic() + 20
        while int(re.search(r"(\d+) posts", tmux.screen()).group(1)) <= SEEDED_POSTS:
            assert time.monotonic() < deadline, f"no live post within 20 s:\n{tmux.screen()}"
            time.sleep(0.2)
        # Priya's seeded "reach out to me" is announced; the Inbox tab shows it and ends the notice.
        tmux.wait_for("asks you to reach out", 10)
        tmux("send-keys", "-t", "smoke", "6")
        tmux.wait_for("Could one of you give me a call", 5)
        tmux("send-keys", "-t", "smoke", "1")
        deadline = time.monotonic() + 5
        while "asks you to reach out" in tmux.screen():
            assert time.monotonic() < deadline, f"the notice outlived a visit to the inbox:\n{tmux.screen()}"
            time.sleep(0.2)
        tmux("send-keys", "-t", "smoke", "G")
        deadline = time.monotonic() + 5
        while not any(body[:12] in tmux.screen() for _, body, _ in LIVE_POSTS):
            assert time.monotonic() < deadline, f"the live post is not shown:\n{tmux.screen()}"
            time.sleep(0.2)

        tmux("send-keys", "-t", "smoke", "n")
        tmux.wait_for("ctrl+s posts", 5)
        time.sleep(0.5)  # let the dialog take focus
        tmux("send-keys", "-t", "smoke", "-l", "hello from a real terminal")
        tmux.wait_for("hello from a real terminal", 5)
        tmux("send-keys", "-t", "smoke", "C-s")
        # One capture with the dialog gone and the post in the feed under your name (a
        # capture can catch the app mid-repaint while live posts keep arriving).
        deadline = time.monotonic() + 5
        while not all(part in (shown := tmux.screen()) for part in ("You (you)", "hello from a real terminal")) \
                or "ctrl+s posts" in shown:
            assert time.monotonic() < deadline, f"the new post is not in the feed:\n{shown}"
            time.sleep(0.2)

        tmux("send-keys", "-t", "smoke", "F1")
        tmux.wait_for("Need help now?", 5)
        assert "Samaritans: Call 116 123" in tmux.screen()
        tmux("send-keys", "-t", "smoke", "Escape")
        deadline = time.monotonic() + 5
        while "Need help now?" in tmux.screen():
            assert time.monotonic() < deadline, "Escape did not close the help panel"
            time.sleep(0.2)

        tmux("send-keys", "-t", "smoke", "C-q")
        tmux.wait_for("circle exited with 0", 10)
    finally:
        subprocess.run(["tmux", "-S", str(tmux.socket), "kill-server"], capture_output=True, timeout=10)
