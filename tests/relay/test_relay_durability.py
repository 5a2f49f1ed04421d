"""An acknowledged put survives `kill -9` of the relay; SIGTERM shuts it down cleanly."""

from __future__ import annotations

import signal

from tests.helpers.relay import CircleKeys, Relay


def test_kill_9_after_acknowledged_puts_loses_nothing(relay: Relay):
    keys = CircleKeys()
    keys.register(relay)
    bundles = {}
    with keys.mailbox(relay) as box:
        before = box.mailbox_id()
        for n in range(20):
            data = b"sealed bundle %d " % n * 50
            bundles[box.put(data)] = data
        relay.stop(signal.SIGKILL)  # right after the last acknowledgement, connection still open
    assert relay.proc is not None and relay.proc.returncode == -signal.SIGKILL
    relay.start()  # the same data directory: the same key, token and bundles
    with keys.mailbox(relay) as box:
        assert box.names() == list(bundles)
        assert {name: box.read(name) for name in box.names()} == bundles
        assert box.mailbox_id() == before
        box.put(b"after the restart")
    assert relay.status()["bundles"] == 21


def test_sigterm_stops_the_relay_cleanly_with_a_connection_open(relay: Relay):
    keys = CircleKeys()
    keys.register(relay)
    with keys.mailbox(relay) as box:
        box.put(b"kept")
        assert relay.stop(signal.SIGTERM) == 0
    assert "Traceback" not in relay.stderr()
    assert not (relay.data / "relay.db-wal").exists()  # the database was closed, not abandoned
    relay.start()
    assert relay.status()["connections"] == 0
    with keys.mailbox(relay) as box:
        assert len(box.names()) == 1
