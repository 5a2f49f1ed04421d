"""Keep sync logs readable under load: identical warnings collapse, background
tasks never die silently.

A flood of failing connections used to write a traceback per accept (14.7 MB in
34 s). `Collapse` lets each message template through a few times per period and
then counts, reporting the count once the period ends.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable


class Collapse(logging.Filter):
    """Pass at most `burst` records per (logger, level, template) each `period`
    seconds; the first one after a quiet spell says how many were dropped."""

    def __init__(self, burst: int = 5, period: float = 60.0, now: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.burst, self.period, self.now = burst, period, now
        self._seen: dict[tuple, list] = {}  # key -> [period start, passed, dropped]

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, str(record.msg))
        now = self.now()
        entry = self._seen.get(key)
        if entry is None or now - entry[0] >= self.period:
            dropped = entry[2] if entry else 0
            self._seen[key] = [now, 1, 0]
            if len(self._seen) > 1000:  # templates are few; this only bounds a pathological case
                self._seen = {key: self._seen[key]}
            if dropped:
                record.msg = f"{record.msg} (and {dropped} more like it)"
            return True
        if entry[1] < self.burst:
            entry[1] += 1
            return True
        entry[2] += 1
        return False


def install(logger: logging.Logger) -> None:
    """Add one Collapse filter to `logger` (idempotent)."""
    if not any(isinstance(f, Collapse) for f in logger.filters):
        logger.addFilter(Collapse())


def watch(task: asyncio.Task, log: logging.Logger, what: str) -> asyncio.Task:
    """Log (never swallow silently) an exception that ends `task`."""

    def done(t: asyncio.Task) -> None:
        if not t.cancelled() and t.exception() is not None:
            exc = t.exception()
            log.error("%s stopped: %s", what, f"{type(exc).__name__}: {exc}", exc_info=exc)

    task.add_done_callback(done)
    return task
