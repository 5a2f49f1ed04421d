"""Soak across discovery windows (`python bench/soak.py --windows`).

The peers' nodes run in this process, each a real `Node` on its own
127.0.0.1 port over its own profile, with LAN discovery on (zeroconf bound to
127.0.0.1) and no --connect: peers find each other only by their tags. They all
read one clock that runs WINDOW_SECONDS faster-than-real so a 15-minute window
passes every `window_every` real seconds (sleeps stay real). Meanwhile posts come
from separate `circle post` processes on random peers' profiles, some killed before
they answer, and servers are restarted now and then. The check is the usual one:
every acknowledged post reaches every peer, exactly once.
"""

from __future__ import annotations

import asyncio
import time

from circle.sync.discovery import WINDOW_SECONDS, current_window

LOOPBACK = "127.0.0.1"


class FastClock:
    """Wall time that runs `speed` times faster from its creation; sleeps are real."""

    def __init__(self, speed: float) -> None:
        self.speed, self.start = speed, time.time()

    def now(self) -> float:
        return self.start + (time.time() - self.start) * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def _serve(service, port: int, clock: FastClock):
    from circle.sync.node import Node

    node = Node(service, clock=clock)
    await node.listen(LOOPBACK, port)
    problem = await node.announce(LOOPBACK, port)
    if problem is not None:  # the soak is about peers finding each other: no discovery, no soak
        await node.close()
        raise RuntimeError(f"LAN discovery unavailable: {problem}")
    runner = asyncio.create_task(node.run_forever())
    return node, runner


async def _stop(node, runner) -> None:
    runner.cancel()
    await asyncio.gather(runner, return_exceptions=True)
    await node.close()


async def run(soak, seconds: float, settle: float, window_every: float, log) -> dict:
    """Chaos for `seconds`, then converge; returns what was measured."""
    from circle.service import Service

    clock = FastClock(WINDOW_SECONDS / window_every)
    services = [Service.unlock(peer.home, soak.env["CIRCLE_PASSPHRASE"]) for peer in soak.peers]
    servers = [await _serve(s, p.port, clock) for s, p in zip(services, soak.peers)]
    first_window = current_window(clock.now())
    restarts = 0
    try:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            soak.reap_posts()
            roll = soak.rng.random()
            index = soak.rng.randrange(len(soak.peers))
            if roll < 0.6 and len(soak.pending) < 4:
                soak.start_post(soak.peers[index])
            elif roll < 0.66:
                young = [p for p in soak.pending if not p.doomed and p.proc.poll() is None]
                if young:
                    victim = soak.rng.choice(young)
                    victim.doomed = True
                    victim.proc.kill()
            if soak.carriers is not None:
                soak.carriers.step()
            if roll >= 0.66 and roll < 0.72:
                await _stop(*servers[index])
                servers[index] = await _serve(services[index], soak.peers[index].port, clock)
                restarts += 1
            for _, runner in servers:
                if runner.done():
                    raise RuntimeError(f"a serving loop ended: {runner.exception()!r}")
            await asyncio.sleep(soak.rng.uniform(0.1, 0.6))
        while soak.pending:
            soak.reap_posts()
            await asyncio.sleep(0.2)
        if soak.carriers is not None:  # the folder-only newcomer, bridged by peer 0
            started = time.monotonic()
            while not soak.carriers.settle_step() and time.monotonic() - started < settle:
                await asyncio.sleep(0.3)
            soak.peers.append(soak.carriers.newcomer)
        windows = current_window(clock.now()) - first_window
        log(f"chaos over after {windows} window changes; {restarts} server restarts; "
            + "; ".join(f"{k} {v}" for k, v in soak.counts.items() if k.startswith("posts")))
        started = time.monotonic()
        took = None
        while time.monotonic() - started < settle:
            feeds = [{p.id: [p.body] for p in s.feed(soak.circle_id)} for s in services]
            if not soak.missing(feeds):
                took = time.monotonic() - started
                break
            await asyncio.sleep(1)
        readvertised = sum(node.server.discovery.updates for node, _ in servers)
        return {"windows": windows, "restarts": restarts, "converged": took, "readvertised": readvertised}
    finally:
        for node, runner in servers:
            await _stop(node, runner)
        for service in services:
            service.close()
