"""Shared fixtures: real profiles in temp dirs, real `circle` subprocesses."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.cli import Cli
from tests.helpers.served import Servers


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


@pytest.fixture
def serve(tmp_path: Path):
    """serve(cli, *extra_args) -> Served; every server is stopped at teardown."""
    servers = Servers(tmp_path)
    yield servers.start
    servers.stop_all()
