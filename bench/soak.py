"""Soak: 5 peers, random posts, restarts and kill -9s; then no acknowledged post is missing.

    python bench/soak.py                 # 3 minutes of chaos, then the check
    python bench/soak.py --quick         # about 60 seconds
    python bench/soak.py --minutes 10 --seed 7
    python bench/soak.py --windows 5     # across discovery windows: one passes every 5 s
    python bench/soak.py --carriers      # plus a folder-only newcomer whose first join is cut

With --carriers (always on with --windows), a newcomer's first join is cut after
its request and retried, and it then syncs only through a shared folder bridged
by peer 0 (see bench/soak_carriers.py); it is checked like every other peer.

With --windows, the servers run in this process over an injected clock that
passes a 15-minute discovery window every N real seconds, with LAN discovery on
127.0.0.1 and no --connect (see bench/soak_windows.py); posts still come from
`circle post` processes, and the same check follows. Without it:

Each peer is a real profile running `circle serve` on a fixed 127.0.0.1 port with
`--connect` to every other peer (no LAN discovery). Meanwhile the soak, at random:
  - posts with `circle post` on a random peer (a separate process, writing to the
    profile while its `circle serve` runs); a post is *acknowledged* when that
    command exits 0 having printed the post id;
  - kills a posting command with SIGKILL before it can answer (never acknowledged,
    so it may or may not land);
  - restarts a peer's `circle serve` with SIGTERM, or kills it with SIGKILL and
    starts it again a little later.
Then every peer is served again and the soak waits for the live sessions to
converge. The check, after every server has stopped: each peer's own store, read by
a fresh `circle feed --json`, holds every acknowledged post with the body it was
acknowledged with, exactly once. Exit status 1 on any loss, 2 if the run itself broke.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT / "src"))

LOOPBACK = "127.0.0.1"
PASSPHRASE = "soak passphrase, not a secret"
PEERS = 5


def log(text: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {text}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


@dataclass
class Peer:
    index: int
    home: Path
    port: int
    serve: subprocess.Popen | None = None
    starts: int = 0
    down_until: float = 0.0
    err_files: list = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"


@dataclass
class PendingPost:
    peer: int
    body: str
    proc: subprocess.Popen
    started: float
    doomed: bool = False  # we will SIGKILL it


class Soak:
    def __init__(self, work: Path, seed: int) -> None:
        self.work = work
        self.rng = random.Random(seed)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CIRCLE_")}
        self.env["CIRCLE_PASSPHRASE"] = PASSPHRASE
        self.env["PYTHONPATH"] = str(ROOT / "src")
        self.peers: list[Peer] = []
        self.circle_id = ""
        self.acked: list[tuple[int, str, str]] = []  # (peer, post id, body)
        self.pending: list[PendingPost] = []
        self.counts = {"posts started": 0, "posts acknowledged": 0, "posts failed": 0, "posts killed": 0,
                       "serve restarts (SIGTERM)": 0, "serve kill -9": 0, "serve crashes seen": 0}
        self.serial = 0
        self.carriers = None  # soak_carriers.Carriers with --carriers or --windows

    # -- setup ---------------------------------------------------------------------

    def setup(self) -> None:
        """Five profiles in one circle: one creates it, four join with an invite code."""
        from circle.service import Service

        homes = [self.work / f"peer{i}" for i in range(PEERS)]
        first = Service.create_profile(homes[0], "Peer 0", PASSPHRASE)
        services = [first]
        try:
            self.circle_id = first.create_circle("Soak circle")
            code = first.invite(self.circle_id, uses=PEERS - 1)
            me = first.whoami().device_id
            for i in range(1, PEERS):
                peer = Service.create_profile(homes[i], f"Peer {i}", PASSPHRASE)
                peer.accept_welcome(code, first.admit_request(peer.join_request(code)))
                first.receive_bundle(peer.bundle_for(self.circle_id, me))
                services.append(peer)
            for peer in services[1:]:
                peer.receive_bundle(first.bundle_for(self.circle_id, peer.whoami().device_id))
        finally:
            for service in services:
                service.close()
        self.peers = [Peer(i, homes[i], free_port()) for i in range(PEERS)]

    # -- processes -------------------------------------------------------------------

    def _err(self, name: str):
        self.serial += 1
        path = self.work / "logs" / f"{self.serial:04d}-{name}.err"
        path.parent.mkdir(exist_ok=True)
        return open(path, "w")

    def start_serve(self, peer: Peer) -> None:
        others = [arg for p in self.peers if p is not peer for arg in ("--connect", p.address)]
        err = self._err(f"serve{peer.index}")
        peer.err_files.append(err.name)
        peer.serve = subprocess.Popen(
            [sys.executable, "-m", "circle", "--home", str(peer.home), "serve", "--host", LOOPBACK,
             "--port", str(peer.port), "--no-discovery", *others],
            env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
        )
        err.close()
        peer.starts += 1

    def stop_serve(self, peer: Peer, *, kill: bool) -> None:
        proc, peer.serve = peer.serve, None
        if proc is None or proc.poll() is not None:
            return
        if kill:
            proc.kill()
        else:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def start_post(self, peer: Peer) -> None:
        body = f"soak post {self.counts['posts started'] + 1} from peer {peer.index}: {self.rng.getrandbits(48):012x}"
        err = self._err(f"post{peer.index}")
        proc = subprocess.Popen(
            [sys.executable, "-m", "circle", "--home", str(peer.home), "post", self.circle_id, body],
            env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, text=True,
        )
        err.close()
        self.counts["posts started"] += 1
        self.pending.append(PendingPost(peer.index, body, proc, time.monotonic()))

    def reap_posts(self, wait: bool = False) -> None:
        still = []
        for post in self.pending:
            if wait:
                try:
                    post.proc.wait(120)
                except subprocess.TimeoutExpired:
                    post.proc.kill()
                    post.proc.wait()
            if post.proc.poll() is None:
                still.append(post)
                continue
            out = post.proc.stdout.read().strip()
            post.proc.stdout.close()
            if post.doomed and post.proc.returncode == -signal.SIGKILL:
                self.counts["posts killed"] += 1
            elif post.proc.returncode == 0 and re.fullmatch(r"[0-9a-f]{16}", out):
                self.acked.append((post.peer, out, post.body))
                self.counts["posts acknowledged"] += 1
            else:
                self.counts["posts failed"] += 1
        self.pending = still

    def stop_everything(self) -> None:
        for post in self.pending:
            if post.proc.poll() is None:
                post.proc.kill()
            post.proc.wait()
        for peer in self.peers:
            self.stop_serve(peer, kill=False)

    # -- the run -------------------------------------------------------------------------

    def chaos(self, seconds: float) -> None:
        for peer in self.peers:
            self.start_serve(peer)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            now = time.monotonic()
            self.reap_posts()
            for peer in self.peers:  # bring killed peers back; note any that died by themselves
                if peer.serve is not None and peer.serve.poll() is not None:
                    self.counts["serve crashes seen"] += 1
                    log(f"peer {peer.index}'s serve exited by itself ({peer.serve.returncode}); restarting")
                    peer.serve = None
                if peer.serve is None and now >= peer.down_until:
                    self.start_serve(peer)
            roll = self.rng.random()
            peer = self.rng.choice(self.peers)
            if roll < 0.55:
                if len(self.pending) < 4:
                    self.start_post(peer)
            elif roll < 0.62:
                young = [p for p in self.pending if not p.doomed and p.proc.poll() is None]
                if young:
                    victim = self.rng.choice(young)
                    victim.doomed = True
                    victim.proc.kill()
            elif roll < 0.72:
                if peer.serve is not None:
                    self.stop_serve(peer, kill=False)
                    self.counts["serve restarts (SIGTERM)"] += 1
                    self.start_serve(peer)
            elif roll < 0.85:
                if peer.serve is not None:
                    self.stop_serve(peer, kill=True)
                    self.counts["serve kill -9"] += 1
                    peer.down_until = now + self.rng.uniform(0.5, 5.0)
            if self.carriers is not None:
                self.carriers.step()
            time.sleep(self.rng.uniform(0.1, 0.8))
        self.reap_posts(wait=True)
        for peer in self.peers:
            if peer.serve is None or peer.serve.poll() is not None:
                peer.serve = None
                self.start_serve(peer)

    def feed_ids(self, peer: Peer) -> dict[str, list[str]] | None:
        """post id -> bodies, read by a fresh `circle feed --json` (None if it failed)."""
        proc = subprocess.run(
            [sys.executable, "-m", "circle", "--home", str(peer.home), "feed", self.circle_id, "--json"],
            env=self.env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300,
        )
        if proc.returncode != 0:
            log(f"peer {peer.index}: feed failed: {proc.stderr.strip()}")
            return None
        out: dict[str, list[str]] = {}
        for record in json.loads(proc.stdout):
            out.setdefault(record["id"], []).append(record["body"])
        return out

    def missing(self, feeds: list[dict | None]) -> list[str]:
        problems = []
        for peer, feed in zip(self.peers, feeds):
            if feed is None:
                problems.append(f"peer {peer.index}: its store could not be read")
                continue
            for author, post_id, body in self.acked:
                bodies = feed.get(post_id)
                if bodies is None:
                    problems.append(f"peer {peer.index}: missing post {post_id} (acknowledged by peer {author})")
                elif bodies != [body]:
                    problems.append(f"peer {peer.index}: post {post_id} reads {bodies!r}, acknowledged {body!r}")
        return problems

    def converge(self, timeout: float) -> float | None:
        """Wait (serves running) until every peer holds every acknowledged post."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if not self.missing([self.feed_ids(p) for p in self.peers]):
                return time.monotonic() - started
            time.sleep(2)
        return None


def traceback_counts(paths: list[str]) -> tuple[int, int]:
    """Tracebacks in the server logs: (CancelledError ones, any other)."""
    cancelled = other = 0
    for path in paths:
        blocks = Path(path).read_text(errors="replace").split("Traceback (most recent call last):")[1:]
        for block in blocks:
            lines = [line for line in block.splitlines() if line and not line.startswith(" ")]
            if lines and lines[0].startswith("asyncio.exceptions.CancelledError"):
                cancelled += 1
            else:
                other += 1
    return cancelled, other


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=3.0, help="how long the chaos lasts (default 3)")
    parser.add_argument("--quick", action="store_true", help="about 60 seconds in all")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--settle", type=float, default=None, help="seconds to wait for convergence")
    parser.add_argument("--keep", action="store_true", help="keep the profiles and logs")
    parser.add_argument("--windows", type=float, default=None, metavar="SECONDS",
                        help="run across discovery windows, one every SECONDS (in-process servers, discovery on)")
    parser.add_argument("--carriers", action="store_true",
                        help="add a folder-only newcomer whose first join is interrupted (on with --windows)")
    args = parser.parse_args(argv)
    seconds = 35.0 if args.quick else args.minutes * 60
    settle = args.settle if args.settle is not None else (60.0 if args.quick else 120.0)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    work = Path(tempfile.mkdtemp(prefix="circle-soak-"))
    os.chmod(work, 0o700)
    soak = Soak(work, seed)
    log(f"seed {seed}; {PEERS} peers; {seconds:.0f}s of chaos, then up to {settle:.0f}s to converge; work dir {work}")
    status = 2
    try:
        soak.setup()
        log(f"circle {soak.circle_id[:8]} with {PEERS} members; ports "
            + ", ".join(str(p.port) for p in soak.peers))
        if args.carriers or args.windows:
            import soak_carriers

            soak.carriers = soak_carriers.Carriers(soak, seed)
        if args.windows:
            import asyncio

            import soak_windows

            measured = asyncio.run(soak_windows.run(soak, seconds, settle, args.windows, log))
            took = measured["converged"]
            if soak.carriers is not None:
                log(f"newcomer through the folder: {soak.carriers.counts}")
            log(f"{measured['windows']} discovery windows crossed, {measured['readvertised']} re-advertisements "
                f"(servers alive at the end); {len(soak.acked)} acknowledged posts")
        else:
            soak.chaos(seconds)
            if soak.carriers is not None:
                took = soak.carriers.finish(settle)
                log(f"newcomer settled through the folder: {'in %.1fs' % took if took is not None else 'NOT settled'}; "
                    f"{soak.carriers.counts}")
                soak.peers.append(soak.carriers.newcomer)
            log("chaos over: " + "; ".join(f"{k} {v}" for k, v in soak.counts.items()))
            log(f"waiting for the {PEERS} live peers to converge on {len(soak.acked)} acknowledged posts")
            took = soak.converge(settle)
        log(f"converged after {took:.1f}s" if took is not None else f"not converged after {settle:.0f}s")
        soak.stop_everything()
        feeds = [soak.feed_ids(p) for p in soak.peers]  # from disk, nothing running
        problems = soak.missing(feeds)
        extra = [f"peer {p.index}: {len(f)} posts" for p, f in zip(soak.peers, feeds) if f is not None]
        cancelled, other = traceback_counts([name for p in soak.peers for name in p.err_files])
        log(f"serve logs: {sum(p.starts for p in soak.peers)} serve starts; tracebacks: {cancelled} "
            f"CancelledError while a server shut down with sessions open, {other} other")
        log("checked, with every serve stopped, each peer's store through `circle feed --json`: "
            + ", ".join(extra))
        log(f"checked: {len(soak.acked)} acknowledged posts x {len(soak.peers)} peers, each present exactly once "
            "with its acknowledged body")
        if problems:
            for line in problems[:50]:
                log(f"LOSS: {line}")
            log(f"FAILED: {len(problems)} problems")
            status = 1
        else:
            log("OK: no acknowledged post lost")
            status = 0
    except Exception as exc:  # noqa: BLE001 - report and clean up
        log(f"soak broke: {exc!r}")
        status = 2
    finally:
        soak.stop_everything()
        if args.keep or status != 0:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
