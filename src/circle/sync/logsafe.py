"""Keep sync logs readable under load: identical warnings collapse, background
tasks never die silently.

A flood of failing connections used to write a traceback per accept (14.7 MB in
34 s). `Collapse` rate-limits each message template and reports how many it dropped.
`Shown` keeps what peers wrote (their error texts, names) from driving the terminal
or forging log lines.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from circle.domain.untrusted import shown


class Collapse(logging.Filter):
    """A token bucket per (logger, level, template): `burst` records pass at once,
    then one more each `refill` seconds; the first record through after some were
    dropped says how many. A flood costs a few lines a second, while an ordinary
    sequence of distinct events (one peer dropped after another) is never cut."""

    def __init__(self, burst: int = 20, refill: float = 1.0, now: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.burst, self.refill, self.now = burst, refill, now
        self._buckets: dict[tuple, list] = {}  # key -> [tokens, last update, dropped]

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, str(record.msg))
        now = self.now()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) > 1000:  # templates are few; this only bounds a pathological case
                self._buckets.clear()
            bucket = self._buckets[key] = [float(self.burst), now, 0]
        bucket[0] = min(float(self.burst), bucket[0] + (now - bucket[1]) / self.refill)
        bucket[1] = now
        if bucket[0] < 1:
            bucket[2] += 1
            return False
        bucket[0] -= 1
        if bucket[2]:
            record.msg = f"{record.msg} (and {bucket[2]} more like it)"
            bucket[2] = 0
        return True


class Shown(logging.Formatter):
    """Formats a record as usual, then passes the whole line through `shown`: no escape
    sequence, control, bidi or zero-width character reaches the log, and one record is
    one line (a peer's newline cannot forge a second record; a traceback is flattened)."""

    def format(self, record: logging.LogRecord) -> str:
        return shown(super().format(record))


def console(stream, prefix: str) -> logging.Handler:
    """A handler writing sanitized one-line records, each starting with `prefix`, to `stream`."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(Shown(f"{prefix}%(message)s"))
    return handler


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
