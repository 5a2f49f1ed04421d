"""A command that reported success has made its write durable.

`circle post` prints the new post's id only after the write committed and reached the disk.
These tests SIGKILL real `circle post` processes at random moments and at the very moment the
id appears, watch one post's system calls to see the WAL synced before the id is printed, and
run an in-process Service (as the TUI would) beside `circle post` processes on the same
profile, through compaction: whatever was acknowledged must still be there, and the profile
must still open."""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from circle.service import COMPACT_AFTER_CHANGES, Service
from tests.helpers.cli import PASSPHRASE, Cli

POST_ID = re.compile(r"^[0-9a-f]{16}$")


@dataclass
class Attempt:
    body: str
    proc: subprocess.Popen
    kill_at: float | None  # None: let it finish
    killed: bool = False
    stdout: str = ""

    @property
    def printed_id(self) -> str | None:
        """The id, if the process got as far as printing it (a promise to the user)."""
        line, newline, _ = self.stdout.partition("\n")
        return line if newline and POST_ID.match(line) else None


def start_post(cli: Cli, circle: str, body: str, kill_at: float | None) -> Attempt:
    # Unbuffered stdout: the id reaches the pipe the moment it is printed, so
    # "printed" means "the command told the user it succeeded".
    proc = subprocess.Popen(
        [sys.executable, "-m", "circle", "post", circle, body],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=cli.env(PYTHONUNBUFFERED="1"),
    )
    return Attempt(body, proc, kill_at)


def run_batch(attempts: list[Attempt]) -> None:
    """SIGKILL each attempt at its moment unless it already finished, then collect output."""
    for attempt in sorted((a for a in attempts if a.kill_at is not None), key=lambda a: a.kill_at):
        delay = attempt.kill_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)  # the fault-injection moment itself, not a synchronisation
        if attempt.proc.poll() is None:
            attempt.proc.send_signal(signal.SIGKILL)
    for attempt in attempts:
        attempt.stdout, stderr = attempt.proc.communicate(timeout=60)
        attempt.killed = attempt.proc.returncode == -signal.SIGKILL
        if not attempt.killed:
            assert attempt.proc.returncode == 0, f"post failed without being killed: {stderr}"
            assert attempt.printed_id, f"post exited 0 without printing an id: {attempt.stdout!r}"


def normal_post_seconds(cli: Cli, circle: str) -> float:
    durations = []
    for index in range(3):
        started = time.monotonic()
        cli.ok("post", circle, f"calibration {index}")
        durations.append(time.monotonic() - started)
    return statistics.median(durations)


def feed_by_id(cli: Cli, circle: str) -> dict[str, str]:
    posts = cli.ok("feed", circle, "--json").json()
    ids = [p["id"] for p in posts]
    assert len(ids) == len(set(ids)), "a post appears twice in the feed"
    bodies = [p["body"] for p in posts]
    assert len(bodies) == len(set(bodies)), "one post's body was stored twice"
    return {p["id"]: p["body"] for p in posts}


def assert_database_intact(home: Path) -> None:
    with closing(sqlite3.connect(home / "circle.db")) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_sigkilled_posts_never_lose_an_acknowledged_one(circle_id: str, profile_cli: Cli):
    """kill -9 at any moment of a post: every id a post printed is in the feed afterwards."""
    cli = profile_cli
    seed = int(os.environ.get("CIRCLE_TEST_SEED", random.randrange(2**32)))
    print(f"CIRCLE_TEST_SEED={seed}")
    rng = random.Random(seed)
    lifetime = normal_post_seconds(cli, circle_id)
    attempts: list[Attempt] = []
    # One batch of three runs to completion unkilled, so racing posts get acknowledged too.
    spared_batch, batch_number = rng.randrange(10), 0
    while len(attempts) < 40:
        spared = batch_number == spared_batch
        batch_number += 1
        width = 3 if spared else rng.choice((1, 1, 2, 3))  # sequential, and 2-3 racing
        # Kill moments span the whole life of a post, stretched for the contention.
        span = lifetime * (1.2 + 0.4 * (width - 1))
        now = time.monotonic()
        batch = [
            start_post(cli, circle_id, f"durable {seed} #{len(attempts) + i}",
                       None if spared else now + rng.uniform(0.05, span))
            for i in range(width)
        ]
        run_batch(batch)
        attempts += batch
    acknowledged = {a.printed_id: a.body for a in attempts if a.printed_id}
    killed = sum(a.killed for a in attempts)
    context = f"seed {seed}: {len(acknowledged)} acknowledged, {killed} killed of {len(attempts)}"
    assert len(acknowledged) >= 3 and killed >= 3, f"kills did not span a post's life ({context})"

    feed = feed_by_id(cli, circle_id)
    lost = {pid: body for pid, body in acknowledged.items() if feed.get(pid) != body}
    assert not lost, f"acknowledged posts lost ({context}): {lost}"
    ours = {a.body for a in attempts}
    strays = [b for b in feed.values() if b not in ours and not b.startswith("calibration")]
    assert not strays, f"posts nobody wrote ({context}): {strays}"
    assert cli.ok("whoami", "--json").json()["name"] == "Ana"
    assert_database_intact(cli.home)


def test_post_killed_the_moment_it_prints_its_id_is_kept(circle_id: str, profile_cli: Cli):
    """DESIGN: a post the user has seen confirmed survives `kill -9` right after.

    Each post is SIGKILLed as soon as its id line arrives on stdout, before it can tidy up
    (close the database, flush, exit), so anything deferred past the print is lost."""
    cli = profile_cli
    confirmed = {}
    for index in range(5):
        attempt = start_post(cli, circle_id, f"confirmed then killed {index}", None)
        line = attempt.proc.stdout.readline()  # blocks until the confirmation is shown
        attempt.proc.send_signal(signal.SIGKILL)
        attempt.proc.communicate(timeout=60)
        assert POST_ID.match(line.strip()), f"no id printed: {line!r}"
        confirmed[line.strip()] = attempt.body
    feed = feed_by_id(cli, circle_id)
    lost = {pid: body for pid, body in confirmed.items() if feed.get(pid) != body}
    assert not lost, f"confirmed posts lost: {lost}"


def test_post_syncs_the_wal_to_disk_before_printing_its_id(circle_id: str, profile_cli: Cli, tmp_path):
    """SIGKILL spares the page cache; only an fsync before the id survives a power cut.

    strace shows the order of system calls: the last write to circle.db-wal before the id
    is printed must be followed by an fsync/fdatasync of circle.db-wal, also before the id.
    """
    strace = shutil.which("strace")
    assert strace, "this test needs strace (apt-get install strace)"
    trace = tmp_path / "post.trace"
    result = subprocess.run(
        [strace, "-f", "-y", "-qq", "-e", "trace=write,pwrite64,fsync,fdatasync", "-o", str(trace),
         sys.executable, "-m", "circle", "post", circle_id, "must reach the platter"],
        capture_output=True, text=True, env=profile_cli.env(PYTHONUNBUFFERED="1"), timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    post_id = result.stdout.strip()
    calls = []  # (syscall, path of its fd) in order, up to the one that printed the id
    for line in trace.read_text().splitlines():
        call = re.match(r"^\d+\s+(\w+)\((\d+)<([^>]*)>", line)
        if not call:
            continue
        name, fd, path = call.groups()
        calls.append((name, path))
        if name == "write" and fd == "1" and post_id in line:
            break
    else:
        raise AssertionError("the trace never shows the id being printed")
    wal_writes = [i for i, (name, path) in enumerate(calls)
                  if name in ("write", "pwrite64") and path.endswith("circle.db-wal")]
    assert wal_writes, "the post never wrote to the WAL before printing its id"
    synced = [i for i, (name, path) in enumerate(calls)
              if name in ("fsync", "fdatasync") and path.endswith("circle.db-wal") and i > wal_writes[-1]]
    assert synced, "the id was printed before the WAL holding the post was synced to disk"


# -- compaction beside another writer ---------------------------------------------


def snapshot_generation(home: Path, circle: str) -> int:
    with closing(sqlite3.connect(home / "circle.db")) as con:
        return con.execute(
            "SELECT snapshot_seq FROM documents WHERE circle_id = ?", (circle,)
        ).fetchone()[0]


def test_posts_interleaved_between_two_processes_are_all_kept(circle_id: str, profile_cli: Cli):
    """A long-running Service (the TUI) and a `circle post` write the same circle as the same
    device; neither may build on a stale copy and clash with the other's stored change."""
    cli = profile_cli
    service = Service.unlock(cli.home, PASSPHRASE)
    try:
        first = service.post(circle_id, "from the app, before").id
        other = cli.ok("post", circle_id, "from the command line").stdout.strip()
        second = service.post(circle_id, "from the app, after").id
    finally:
        service.close()
    feed = feed_by_id(cli, circle_id)
    assert feed.get(first) == "from the app, before"
    assert feed.get(other) == "from the command line"
    assert feed.get(second) == "from the app, after"


def test_compaction_keeps_a_post_another_process_wrote_meanwhile(circle_id: str, profile_cli: Cli):
    """Compaction deletes folded-in changes; one written by another process after this
    service last looked must be folded into the new snapshot, not deleted with the rest."""
    cli = profile_cli
    service = Service.unlock(cli.home, PASSPHRASE)
    try:
        mine = []
        for index in range(2 * COMPACT_AFTER_CHANGES):
            if index == COMPACT_AFTER_CHANGES - 10:
                assert snapshot_generation(cli.home, circle_id) == 0, "compacted too early to test"
                other = cli.ok("post", circle_id, "written by the other process").stdout.strip()
            mine.append(service.post(circle_id, f"in-process {index}").id)
            if snapshot_generation(cli.home, circle_id) > 0:
                break
        assert snapshot_generation(cli.home, circle_id) > 0, "the service never compacted"
    finally:
        service.close()
    feed = feed_by_id(cli, circle_id)
    assert feed.get(other) == "written by the other process", "compaction deleted another process's post"
    assert all(pid in feed for pid in mine)


def test_posts_from_another_process_survive_concurrent_compaction(circle_id: str, profile_cli: Cli):
    """A `circle post` loop runs while an in-process Service writes past the compaction
    threshold; both sides' posts are all there afterwards."""
    cli = profile_cli
    theirs: dict[str, str] = {}
    failures: list[str] = []

    def other_process() -> None:
        for index in range(4):
            body = f"subprocess {index}"
            result = cli.run("post", circle_id, body)
            if result.returncode != 0:
                failures.append(result.stderr)
            else:
                theirs[result.stdout.strip()] = body

    service = Service.unlock(cli.home, PASSPHRASE)
    poster = threading.Thread(target=other_process)
    try:
        mine = {}
        poster.start()
        while poster.is_alive() or len(mine) < COMPACT_AFTER_CHANGES + 44:
            body = f"in-process {len(mine)}"
            mine[service.post(circle_id, body).id] = body
    finally:
        poster.join()
        service.close()
    assert not failures, failures
    assert snapshot_generation(cli.home, circle_id) > 0, "the service never compacted"
    feed = feed_by_id(cli, circle_id)
    lost = {pid: body for pid, body in (theirs | mine).items() if feed.get(pid) != body}
    assert not lost, f"posts lost across compaction: {lost}"
