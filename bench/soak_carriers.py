"""Folder carriers and interrupted joins for the soak (`--carriers`, on with `--windows`).

A newcomer profile joins during the chaos through a proxy that lets its join request
through and cuts the connection before the welcome (the member has admitted it, the
newcomer never heard); it then retries with a fresh code straight to the member and
must end a full member. From then on it talks to the circle only through a shared
folder: peer 0 and the newcomer each run `circle sync --folder` on their own directory
at random moments, and the soak copies new bundles between the two directories in
shuffled order, the way a carrier delivers them. Peer 0 bridges folder and TCP. The
newcomer posts like everyone else; its acknowledged posts must reach every peer, and
it must hold every acknowledged post. Everything here is a non-blocking step, so the
in-process servers of `--windows` keep answering while it runs.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.helpers.cutting_proxy import WelcomeDroppingProxy  # noqa: E402  (shared with the join-retry test)

LOOPBACK = "127.0.0.1"


class Carriers:
    """The newcomer's join, then folder traffic between it and peer 0, one `step()` at a time."""

    def __init__(self, soak, seed: int) -> None:
        from soak import Peer

        self.soak, self.rng = soak, random.Random(seed ^ 0x5EED)
        self.newcomer = Peer(len(soak.peers), soak.work / "newcomer", 0)
        self.dirs = {0: soak.work / "carrier-peer0", self.newcomer.index: soak.work / "carrier-newcomer"}
        for d in self.dirs.values():
            d.mkdir()
        self.state = "init"
        self.posting = True
        self.proc: subprocess.Popen | None = None
        self.syncs: list[tuple[int, subprocess.Popen]] = []
        self.proxy: WelcomeDroppingProxy | None = None
        self.counts = {"joins interrupted": 0, "joins completed": 0, "folder syncs": 0, "folder syncs failed": 0,
                       "bundles carried": 0, "newcomer posts acknowledged": 0}

    def _cli(self, home: Path, *args: str) -> subprocess.Popen:
        err = self.soak._err("carrier")
        proc = subprocess.Popen([sys.executable, "-m", "circle", "--home", str(home), *args], env=self.soak.env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, text=True)
        err.close()
        return proc

    def _done(self) -> tuple[int, str] | None:
        if self.proc is None or self.proc.poll() is None:
            return None
        out = self.proc.stdout.read().strip()
        self.proc.stdout.close()
        rc, self.proc = self.proc.returncode, None
        return rc, out

    def step(self) -> None:
        """Advance the join by one non-blocking step, or now and then start a folder sync."""
        soak, home0 = self.soak, str(self.soak.peers[0].home)
        self._reap_syncs()
        if self.state == "init":
            self.proc = self._cli(self.newcomer.home, "init", "--name", "Newcomer")
            self.state = "initing"
        elif self.state == "initing" and self._done():
            self.proxy = WelcomeDroppingProxy(soak.peers[0].port)
            self.proc = self._cli(Path(home0), "invite", soak.circle_id, "--uses", "1", "--peer", self.proxy.address)
            self.state = "inviting"
        elif self.state == "inviting" and (done := self._done()):
            self.proc = self._cli(self.newcomer.home, "join", done[1]) if done[0] == 0 else None
            self.state = "joining" if done[0] == 0 else "initing"
        elif self.state == "joining" and (done := self._done()):
            self.proxy.close()
            # not cut by the proxy (peer 0's server was down): try the interrupted join again
            cut = done[0] != 0 and self.proxy.dropped.is_set()
            self.counts["joins interrupted"] += cut
            self.state = "reinviting" if cut else ("member" if done[0] == 0 else "initing")
        elif self.state == "reinviting":
            peer0 = soak.peers[0]
            self.proc = self._cli(Path(home0), "invite", soak.circle_id, "--uses", "1", "--peer", peer0.address)
            self.state = "reinvited"
        elif self.state == "reinvited" and (done := self._done()):
            self.proc = self._cli(self.newcomer.home, "join", done[1]) if done[0] == 0 else None
            self.state = "rejoining" if done[0] == 0 else "reinviting"
        elif self.state == "rejoining" and (done := self._done()):
            # peer 0's server may be down (killed) at this moment: a fresh code next time
            self.state = "member" if done[0] == 0 and done[1] == soak.circle_id else "reinviting"
        if self.state == "member" and self.counts["joins completed"] == 0:
            self.counts["joins completed"] = 1
        if self.posting and self.state == "member" and self.rng.random() < 0.3:
            self.sync(self.rng.choice(list(self.dirs)))
        if self.posting and self.state == "member" and self.rng.random() < 0.25 and len(soak.pending) < 4:
            soak.start_post(self.newcomer)

    def sync(self, side: int) -> None:
        if any(s == side for s, _ in self.syncs):
            return
        home = self.newcomer.home if side == self.newcomer.index else self.soak.peers[0].home
        self.syncs.append((side, self._cli(home, "sync", "--folder", str(self.dirs[side]))))
        self.counts["folder syncs"] += 1

    def _reap_syncs(self) -> None:
        still = []
        for side, proc in self.syncs:
            if proc.poll() is None:
                still.append((side, proc))
                continue
            proc.stdout.read()
            proc.stdout.close()
            if proc.returncode != 0:
                self.counts["folder syncs failed"] += 1
            self._carry()
        self.syncs = still

    def _carry(self) -> None:
        """Copy bundles one directory lacks from the other, in shuffled order, never half a file."""
        a, b = self.dirs.values()
        for src, dst in ((a, b), (b, a)):
            names = [p.name for p in src.glob("*.cbundle") if not (dst / p.name).exists()]
            self.rng.shuffle(names)
            for name in names:
                tmp = dst / f".syncthing.circle-carrier-{name}.tmp"
                shutil.copyfile(src / name, tmp)
                os.replace(tmp, dst / name)
                self.counts["bundles carried"] += 1

    def complete(self) -> bool:
        """After the chaos: has the newcomer joined, with everything acknowledged, and peer 0 its posts?"""
        if self.state != "member":
            return False
        if self.syncs:
            return False
        ids = {post_id for _, post_id, _ in self.soak.acked}
        mine = {post_id for peer, post_id, _ in self.soak.acked if peer == self.newcomer.index}
        feeds = [self.soak.feed_ids(p) for p in (self.newcomer, self.soak.peers[0])]
        return all(f is not None for f in feeds) and ids <= set(feeds[0]) and mine <= set(feeds[1])

    def settle_step(self) -> bool:
        """One step after the chaos (no new posts): True once `complete()`."""
        self.posting = False
        self._reap_syncs()
        if self.state != "member":
            self.step()
            return False
        if self.syncs:
            return False
        self._carry()
        if self.complete():
            self.counts["newcomer posts acknowledged"] = sum(p == self.newcomer.index for p, _, _ in self.soak.acked)
            return True
        for side in self.dirs:
            self.sync(side)
        return False

    def finish(self, timeout: float) -> float | None:
        """Settle steps until complete (for the subprocess soak); seconds taken, or None."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.settle_step():
                return time.monotonic() - started
            time.sleep(0.3)
        return None
