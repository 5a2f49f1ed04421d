from __future__ import annotations

import pytest

from tests.helpers.relay import Relay


@pytest.fixture
def relays(tmp_path):
    """relays(*extra_args) -> a started Relay; every one is stopped at teardown."""
    started: list[Relay] = []

    def start(*extra: str) -> Relay:
        root = tmp_path / f"relay{len(started)}"
        root.mkdir()
        relay = Relay(root / "data", root, tuple(extra)).start()
        started.append(relay)
        return relay

    yield start
    for relay in started:
        if relay.alive():
            relay.stop()


@pytest.fixture
def relay(relays) -> Relay:
    return relays()
