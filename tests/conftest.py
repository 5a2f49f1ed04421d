"""Shared fixtures: real profiles in temp dirs, real `circle` subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

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


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """A CLI bound to a fresh, not yet initialised profile directory."""
    return Cli(tmp_path / "home")


@pytest.fixture
def profile_cli(cli: Cli) -> Cli:
    """A CLI whose profile exists (name 'Ana')."""
    cli.ok("init", "--name", "Ana")
    return cli


@pytest.fixture
def circle_id(profile_cli: Cli) -> str:
    """A circle named 'Walkers' in profile_cli's profile."""
    return profile_cli.ok("new", "Walkers", "--purpose", "weekly walks").stdout.strip()
