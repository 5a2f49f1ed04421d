"""Real `circle serve` processes on 127.0.0.1 and the CLI moves around them: profiles made
in parallel, a group joined on one code, one-line error checks, reads of a store."""

from __future__ import annotations

import itertools
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from circle.service import Service
from tests.helpers.cli import PASSPHRASE, Cli, CliResult
from tests.helpers.live import wait_until

LOOPBACK = "127.0.0.1"


def stop_process(proc: subprocess.Popen, grace: float = 5.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(grace)


@dataclass
class Served:
    """A running `circle serve` for one profile."""

    cli: Cli
    proc: subprocess.Popen
    address: str
    err_path: Path

    @property
    def port(self) -> int:
        return int(self.address.rpartition(":")[2])

    def stderr(self) -> str:
        return self.err_path.read_text()

    def alive(self) -> bool:
        return self.proc.poll() is None


class Servers:
    """Starts `circle serve` processes on 127.0.0.1 (port 0, no discovery) for one test
    and stops them all at its end (the `serve` fixture)."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.started: list[subprocess.Popen] = []
        self.numbers = itertools.count()  # atomic: servers may be started from several threads

    def start(self, cli: Cli, *extra: str) -> Served:
        n = next(self.numbers)
        out, err = self.tmp_path / f"serve{n}.out", self.tmp_path / f"serve{n}.err"
        with open(out, "w") as out_file, open(err, "w") as err_file:
            proc = subprocess.Popen(
                [sys.executable, "-m", "circle", "serve", "--host", LOOPBACK, "--port", "0",
                 "--no-discovery", *extra],
                env=cli.env(), stdin=subprocess.DEVNULL, stdout=out_file, stderr=err_file,
            )
        self.started.append(proc)

        def ready():
            if proc.poll() is not None:
                raise AssertionError(f"serve exited early ({proc.returncode}): {err.read_text()}")
            match = re.search(r"listening on 127\.0\.0\.1:(\d+)", out.read_text())
            return match and f"{LOOPBACK}:{match.group(1)}"

        return Served(cli, proc, wait_until(ready, 30, "serve to listen"), err)

    def stop_all(self) -> None:
        for proc in self.started:
            stop_process(proc)


def run_parallel(jobs: list[Callable[[], object]]) -> list:
    """Run callables in threads at once; re-raise the first failure."""
    results: list = [None] * len(jobs)
    errors: list[BaseException] = []

    def worker(i: int, job) -> None:
        try:
            results[i] = job()
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    if errors:
        raise errors[0]
    return results


def feed(cli: Cli, circle: str) -> list[dict]:
    return cli.ok("feed", circle, "--json").json()


def posts_of(cli: Cli, circle: str) -> dict[str, str]:
    return {p["id"]: p["body"] for p in feed(cli, circle)}


class StoreView:
    """Reads a profile's store from the test process: one unlock, then cheap polls that
    fold in whatever other processes (its serve process) have written meanwhile."""

    def __init__(self, cli: Cli) -> None:
        self.service = Service.unlock(cli.home, PASSPHRASE)

    def posts(self, circle: str) -> dict[str, str]:
        self.service.refresh_all()
        return {p.id: p.body for p in self.service.feed(circle)}

    def __enter__(self) -> "StoreView":
        return self

    def __exit__(self, *exc) -> None:
        self.service.close()


def assert_one_line_error(result: CliResult) -> str:
    assert result.returncode != 0, f"expected failure, got: {result.stdout}"
    err = result.stderr.strip()
    assert err.startswith("circle: "), result.stderr
    assert "\n" not in err, f"not one line: {result.stderr!r}"
    assert "Traceback" not in result.stderr
    return err


def new_profile(tmp_path: Path, name: str) -> Cli:
    cli = Cli(tmp_path / name)
    cli.ok("init", "--name", name)
    return cli


def new_profiles(tmp_path: Path, *names: str) -> list[Cli]:
    return run_parallel([lambda n=n: new_profile(tmp_path, n) for n in names])


def invite(a: Cli, circle: str, served: Served, uses: int) -> str:
    return a.ok("invite", circle, "--uses", str(uses), "--peer", served.address).stdout.strip()


@dataclass
class Group:
    a: Cli
    circle: str
    served_a: Served
    members: dict[str, Cli]
    code: str


def group(tmp_path: Path, serve, names: tuple[str, ...], *, uses: int | None = None,
          before_invite: tuple[str, ...] = ()) -> Group:
    """Organizer Ana serving a circle that `names` joined with one invite code (in parallel).

    `before_invite` are posts Ana makes first, so newcomers get them in their welcome."""
    a, *members = new_profiles(tmp_path, "Ana", *names)
    circle = a.ok("new", "Walkers").stdout.strip()
    for body in before_invite:
        a.ok("post", circle, body)
    served_a = serve(a)
    code = invite(a, circle, served_a, uses=uses or max(1, len(names)))
    joined = run_parallel([lambda x=x: x.run("join", code) for x in members])
    for result in joined:
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == circle
    return Group(a, circle, served_a, dict(zip(names, members)), code)


def established_to(port: int) -> bool:
    """An ESTABLISHED TCP connection to or from `port` on loopback exists."""
    hex_port = f"{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, state = fields[1], fields[2], fields[3]
            if state == "01" and (local.endswith(":" + hex_port) or remote.endswith(":" + hex_port)):
                return True
    return False


def closed_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]
