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
from collections.abc import Callable
from pathlib import Path

import pytest

from circle.demo import LIVE_POSTS, SEEDED_POSTS
from tests.helpers.live import wait_until

SHOWS_EVERYTHING_WITHIN = 15.0  # seconds; the product aims at 10 on an idle machine
STEP_WITHIN = 60.0  # seconds for any later step; only a failing run waits this long


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

    def until(self, check: Callable[[str], object], what: str, timeout: float = STEP_WITHIN) -> None:
        """Poll the screen until `check(screen)` holds; a failure shows the last screen."""
        wait_until(lambda: check(self.screen()), timeout, what, every=0.2, detail=lambda: "\n" + self.screen())

    def wait_for(self, text: str, timeout: float = STEP_WITHIN) -> None:
        self.until(lambda shown: text in shown, repr(text), timeout)


def posts_shown(screen: str) -> int:
    """The feed's "N posts" count, 0 while it is not on screen (a capture may catch a repaint)."""
    match = re.search(r"(\d+) posts", screen)
    return int(match.group(1)) if match else 0


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
        while posts_shown(tmux.screen()) < SEEDED_POSTS:
            assert time.monotonic() - started < SHOWS_EVERYTHING_WITHIN, f"the feed is not there:\n{tmux.screen()}"
            time.sleep(0.2)
        # A simulated member posts over real local sync: the count grows; G shows the newest.
        tmux.until(lambda shown: posts_shown(shown) > SEEDED_POSTS, "a live post")
        # Priya's seeded "reach out to me" is announced; the Inbox tab shows it and ends the notice.
        tmux.wait_for("asks you to reach out")
        tmux("send-keys", "-t", "smoke", "6")
        tmux.wait_for("Could one of you give me a call")
        tmux("send-keys", "-t", "smoke", "1")
        tmux.until(lambda shown: "asks you to reach out" not in shown, "the notice to end with a visit to the inbox")
        tmux("send-keys", "-t", "smoke", "G")
        tmux.until(lambda shown: any(body[:12] in shown for _, body, _ in LIVE_POSTS), "the live post shown")

        tmux("send-keys", "-t", "smoke", "n")
        tmux.wait_for("ctrl+s posts")
        time.sleep(0.5)  # let the dialog take focus
        tmux("send-keys", "-t", "smoke", "-l", "hello from a real terminal")
        tmux.wait_for("hello from a real terminal")
        tmux("send-keys", "-t", "smoke", "C-s")
        # One capture with the dialog gone and the post in the feed under your name (a
        # capture can catch the app mid-repaint while live posts keep arriving).
        tmux.until(lambda shown: "You (you)" in shown and "hello from a real terminal" in shown
                   and "ctrl+s posts" not in shown, "the new post in the feed")

        tmux("send-keys", "-t", "smoke", "F1")
        tmux.wait_for("Need help now?")
        assert "Samaritans: Call 116 123" in tmux.screen()
        tmux("send-keys", "-t", "smoke", "Escape")
        tmux.until(lambda shown: "Need help now?" not in shown, "Escape to close the help panel")

        tmux("send-keys", "-t", "smoke", "C-q")
        tmux.wait_for("circle exited with 0")
    finally:
        subprocess.run(["tmux", "-S", str(tmux.socket), "kill-server"], capture_output=True, timeout=10)
