"""Fixtures for the terminal UI tests."""

from __future__ import annotations

import os
import time

import pytest

from circle.crypto.passphrase import KdfParams
from .world import Template, World, build_template, copy_world


def _floor_kdf(cls):
    # The lowest cost the profile format accepts: real Argon2id, just cheaper.
    return cls(salt=os.urandom(16), memory_kib=19456, iterations=2, lanes=1)


@pytest.fixture(autouse=True)
def tui_environment(monkeypatch):
    monkeypatch.setattr(KdfParams, "fresh", classmethod(_floor_kdf))
    for name in list(os.environ):
        if name.startswith("CIRCLE_") or name in ("NO_COLOR", "LC_ALL"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CIRCLE_REGION", "GB")
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(scope="session")
def template(tmp_path_factory) -> Template:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(KdfParams, "fresh", classmethod(_floor_kdf))
        return build_template(tmp_path_factory.mktemp("template") / "world")


@pytest.fixture
def world(template: Template, tmp_path) -> World:
    return copy_world(template, tmp_path / "world")
