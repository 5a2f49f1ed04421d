"""Running the real `circle` command against one profile directory, as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PASSPHRASE = "correct horse battery staple"


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


@dataclass
class Cli:
    """Runs `python -m circle` as a real subprocess against one profile directory."""

    home: Path
    passphrase: str | None = PASSPHRASE

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CIRCLE_")}
        env["CIRCLE_HOME"] = str(self.home)
        env["TZ"] = "UTC"  # times print in the local zone: the same one on every machine (extra may change it)
        if self.passphrase is not None:
            env["CIRCLE_PASSPHRASE"] = self.passphrase
        env.update(extra)
        return env

    def run(self, *args: str, input: str | None = None, env: dict[str, str] | None = None,
            timeout: float = 60) -> CliResult:
        proc = subprocess.run(
            [sys.executable, "-m", "circle", *args],
            input=input,
            capture_output=True,
            text=True,
            env=env or self.env(),
            timeout=timeout,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    def ok(self, *args: str, **kw) -> CliResult:
        result = self.run(*args, **kw)
        assert result.returncode == 0, f"circle {' '.join(args)} failed: {result.stderr}"
        return result


def raw(cli: Cli, *args: bytes | str, stdin: bytes = b"", env: dict | None = None) -> subprocess.CompletedProcess:
    argv = [a if isinstance(a, bytes) else a.encode() for a in args]
    return subprocess.run([sys.executable.encode(), b"-m", b"circle", *argv], input=stdin,
                          capture_output=True, env=env or cli.env(), timeout=60)


def one_line(proc: subprocess.CompletedProcess) -> str:
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode != 0
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("circle: "), err
    return err
