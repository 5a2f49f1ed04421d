"""Sync log rate limiting: a flood of one template is cut to a trickle, with the count
of what was dropped; a steady stream of distinct events at a human pace is never cut."""

from __future__ import annotations

import logging

from circle.sync.logsafe import Collapse


def record(msg: str = "dropped %s: %s") -> logging.LogRecord:
    return logging.LogRecord("circle.sync", logging.INFO, __file__, 1, msg, ("peer", "why"), None)


def test_a_flood_passes_a_burst_then_one_per_refill_and_counts_the_rest():
    now = [0.0]
    limit = Collapse(burst=3, refill=1.0, now=lambda: now[0])
    assert [limit.filter(record()) for _ in range(10)] == [True] * 3 + [False] * 7
    now[0] += 1.0
    passed = record()
    assert limit.filter(passed) and passed.msg.endswith("(and 7 more like it)")
    assert not limit.filter(record())


def test_events_at_a_steady_pace_are_never_dropped():
    now = [0.0]
    limit = Collapse(burst=3, refill=1.0, now=lambda: now[0])
    for _ in range(200):
        assert limit.filter(record())
        now[0] += 1.0


def test_templates_are_limited_separately():
    limit = Collapse(burst=1, refill=60.0, now=lambda: 0.0)
    assert limit.filter(record("a %s %s")) and limit.filter(record("b %s %s"))
    assert not limit.filter(record("a %s %s"))
