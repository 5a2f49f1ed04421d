"""Shared pieces for the live-server tests: a clock the test moves, two member
profiles, a zeroconf reader bound to 127.0.0.1 that sees what a server advertises,
and the one pair of polling helpers (`wait_until`, `eventually`) every test uses."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable

from zeroconf import IPVersion
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from circle.service import Service
from circle.sync.discovery import SERVICE_TYPE, decode_tags
from tests.helpers.cli import Cli
from tests.helpers.in_process import join

PASS = "passphrase-live-windows"


class ShiftedClock:
    """Wall time plus an offset the test moves forward (a window in a step);
    sleeps are real, so sockets and subprocesses keep working."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class ManualClock:
    """Time moves only when the test says: every sleep waits for `advance`."""

    def __init__(self) -> None:
        self.time = 1_800_000_000.0
        self.requested: list[float] = []
        self._waiting: list[tuple[float, asyncio.Future]] = []

    def now(self) -> float:
        return self.time

    async def sleep(self, seconds: float) -> None:
        self.requested.append(seconds)
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((self.time + seconds, future))
        await future

    def pending(self) -> list[float]:
        return [due - self.time for due, future in self._waiting if not future.done()]

    def advance(self, seconds: float) -> None:
        self.time += seconds
        due = [(at, f) for at, f in self._waiting if at <= self.time]
        self._waiting = [(at, f) for at, f in self._waiting if at > self.time]
        for _, future in due:
            if not future.done():
                future.set_result(None)


def two_members(tmp_path, circles: int = 1) -> tuple[Service, Service, list[str]]:
    """Ana and Ben, members together of `circles` circles (Ana organizes them)."""
    ana = Service.create_profile(tmp_path / "ana", "Ana", PASS)
    ben = Service.create_profile(tmp_path / "ben", "Ben", PASS)
    ids = []
    for index in range(circles):
        circle = ana.create_circle(f"Circle {index}")
        code = ana.invite(circle)
        join(sponsor=ana, newcomer=ben, code=code)
        ids.append(circle)
    return ana, ben, ids


def run_then_close(scenario: Callable[[], object], *services: Service) -> None:
    """Run an async scenario to its end, then close the profiles whatever happened."""
    try:
        asyncio.run(scenario())
    finally:
        for service in services:
            service.close()


async def stop(task: asyncio.Task) -> None:
    """Cancel a background task and wait until it has really ended."""
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def member_id(cli: Cli) -> str:
    """The member id `circle whoami` reports for the profile `cli` runs against."""
    return cli.ok("whoami", "--json").json()["member_id"]


def cli_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CIRCLE_")} | {"CIRCLE_PASSPHRASE": PASS}


async def cli(home, *args: str) -> str:
    """Run `circle --home HOME ARGS` as a separate process; returns its stdout, fails on error."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "circle", "--home", str(home), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=cli_env())
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    return out.decode()


def _poll_once(predicate: Callable[[], object], deadline: float, timeout: float, what: str,
               detail: Callable[[], object] | None = None):
    """`predicate`'s value if truthy, else None; fails naming `what` (and `detail()`, if
    given) once `deadline` has passed."""
    value = predicate()
    if not value and time.monotonic() > deadline:
        raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}"
                             + (f": {detail()}" if detail else ""))
    return value or None


def wait_until(predicate: Callable[[], object], timeout: float, what: str, every: float = 0.05, *,
               detail: Callable[[], object] | None = None):
    """Poll `predicate` until it returns something truthy and return that; fail after
    `timeout` seconds with a message naming `what` was awaited (and `detail()`, if given)."""
    deadline = time.monotonic() + timeout
    while not (value := _poll_once(predicate, deadline, timeout, what, detail)):
        time.sleep(every)
    return value


async def eventually(predicate: Callable[[], object], what: str, timeout: float = 20.0, every: float = 0.05, *,
                     pause: Callable[[float], Awaitable[object]] = asyncio.sleep,
                     detail: Callable[[], object] | None = None):
    """`wait_until` for a test running in an event loop: it sleeps with asyncio, so
    servers in the same loop keep running while it polls. A TUI test passes its Pilot's
    `pause`, which also lets the app handle its messages and repaint between polls."""
    deadline = time.monotonic() + timeout
    while not (value := _poll_once(predicate, deadline, timeout, what, detail)):
        await pause(every)
    return value


class AdvertReader:
    """A separate zeroconf instance on 127.0.0.1 that reads another's TXT record."""

    def __init__(self) -> None:
        self.zc = AsyncZeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)

    async def tags(self, name: str) -> set[str]:
        info = AsyncServiceInfo(SERVICE_TYPE, name)
        if not await info.async_request(self.zc.zeroconf, 1000):
            return set()
        return decode_tags(info.properties or {})

    async def until(self, name: str, check: Callable[[set[str]], bool], what: str, timeout: float = 20.0) -> set[str]:
        deadline = time.monotonic() + timeout
        seen: set[str] = set()
        while time.monotonic() < deadline:
            seen = await self.tags(name)
            if check(seen):
                return seen
            await asyncio.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; the advert had {sorted(seen)}")

    async def close(self) -> None:
        await self.zc.async_close()
