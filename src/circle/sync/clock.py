"""Time as a parameter: everything periodic in sync reads the clock it is given.

`RealClock` is wall time and asyncio's sleep. Tests pass a clock whose `now()`
they move forward, so a run can cross many 15-minute discovery windows in seconds.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch (wall time: discovery windows are shared between devices)."""

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""


class RealClock:
    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


REAL = RealClock()
