"""A relay's limits per circle (bytes, bundles, connections) hold, and nothing partial is stored."""

from __future__ import annotations

import sqlite3

import pytest

from circle.sync.mailbox import MailboxError
from tests.helpers.live import wait_until
from tests.helpers.relay import CircleKeys


def stored_rows(relay) -> list[tuple[str, int]]:
    db = sqlite3.connect(relay.data / "relay.db")
    try:
        return [(c.hex(), n) for c, n in db.execute("SELECT circle_id, length(data) FROM bundles ORDER BY seq")]
    finally:
        db.close()


def test_the_byte_quota_refuses_the_bundle_that_would_pass_it_and_stores_none_of_it(relays):
    relay = relays("--max-bytes", "1000")
    keys = CircleKeys()
    keys.register(relay)
    with keys.mailbox(relay) as box:
        kept = box.put(b"a" * 600)
        with pytest.raises(MailboxError, match=r"^relay refused: over quota \(bytes\)$"):
            box.put(b"b" * 600)
        box.put(b"c" * 400)  # exactly up to the limit still fits
        with pytest.raises(MailboxError, match=r"^relay refused: over quota \(bytes\)$"):
            box.put(b"d")
        assert box.put(b"a" * 600) == kept  # already there: costs nothing, refused nothing
        assert len(box.names()) == 2
    assert stored_rows(relay) == [(keys.circle_id, 600), (keys.circle_id, 400)]
    assert relay.status()["bytes"] == 1000


def test_the_bundle_quota_holds_per_circle(relays):
    relay = relays("--max-bundles", "3")
    keys, other = CircleKeys(), CircleKeys()
    keys.register(relay)
    other.register(relay)
    with keys.mailbox(relay) as box:
        for n in range(3):
            box.put(b"bundle %d" % n)
        with pytest.raises(MailboxError, match=r"^relay refused: over quota \(bundles\)$"):
            box.put(b"one too many")
        assert len(box.names()) == 3
    with other.mailbox(relay) as box:  # another circle has its own quota
        box.put(b"other circle")
    assert relay.status()["bundles"] == 4


def test_the_connection_quota_holds_per_circle(relays):
    relay = relays("--max-circle-connections", "2")
    keys, other = CircleKeys(), CircleKeys()
    keys.register(relay)
    other.register(relay)
    with keys.mailbox(relay) as first, keys.mailbox(relay):
        with pytest.raises(MailboxError, match=r"^relay refused: over quota \(connections\)$"):
            keys.mailbox(relay).__enter__()
        with other.mailbox(relay) as box:  # other circles are not held back
            box.put(b"other circle")
        # The relay sees the others close a moment after they do.
        wait_until(lambda: relay.connections() == 2, 15, "the relay to count two connections")
        first.put(b"still served")
    wait_until(lambda: relay.connections() == 0, 15, "the relay to see both close")
    with keys.mailbox(relay) as again:  # the slots come back when connections close
        assert len(again.names()) == 1
