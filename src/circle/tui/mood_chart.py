"""Mood trend and circle pulse as plain text: numbers on every line, so the
meaning never rests on colour (or on colour at all). A check-in shared as a
band only has no number: it counts in words, never in an average."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from circle.domain.models import BANDS, CheckIn

MOOD_WORDS = {1: "very low", 2: "low", 3: "okay", 4: "good", 5: "very good"}
COLUMNS = 30


@dataclass(frozen=True)
class MoodTrend:
    days: int
    buckets: tuple[float | None, ...]  # average mood per bucket, oldest first
    days_per_bucket: int
    count: int
    average: float | None
    lowest: int | None
    highest: int | None
    latest: int | None


def mood_trend(checkins: Sequence[CheckIn], me: str, now: datetime, days: int) -> MoodTrend:
    """My own check-ins (shared, band-only and private: all keep their number here)
    over the last `days` days."""
    per = max(1, days // COLUMNS)
    columns = days // per
    start = now - timedelta(days=columns * per)
    sums: list[list[int]] = [[] for _ in range(columns)]
    mine = sorted((c for c in checkins
                   if c.author_id == me and c.mood is not None and start <= c.created_at <= now),
                  key=lambda c: c.created_at)
    moods = [c.mood for c in mine if c.mood is not None]  # all of them: `mine` has only check-ins with one
    for c, mood in zip(mine, moods, strict=True):
        index = min(int((c.created_at - start) / timedelta(days=per)), columns - 1)
        sums[index].append(mood)
    return MoodTrend(
        days=days,
        buckets=tuple(sum(b) / len(b) if b else None for b in sums),
        days_per_bucket=per,
        count=len(moods),
        average=sum(moods) / len(moods) if moods else None,
        lowest=min(moods) if moods else None,
        highest=max(moods) if moods else None,
        latest=moods[-1] if moods else None,
    )


def render_trend(trend: MoodTrend) -> str:
    """A five-row bar chart (rows are moods 5..1, one column per bucket) and a summary."""
    if trend.count == 0 or trend.latest is None:  # the latest is None exactly when there are none
        return f"Last {trend.days} days: no check-ins yet. Press c, then 1-5."
    rows = []
    for level in range(5, 0, -1):
        cells = "".join(
            " " if value is None else ("█" if round(value) >= level else " ")
            for value in trend.buckets
        )
        rows.append(f"{level} {MOOD_WORDS[level]:>9} │{cells}")
    axis = "".join("·" if value is None else "─" for value in trend.buckets)
    rows.append(f"{'':>11} └{axis}")
    unit = "day" if trend.days_per_bucket == 1 else f"{trend.days_per_bucket} days"
    rows.append(f"{'':>12}{trend.days} days ago → today  (one column per {unit}, · = no check-in)")
    rows.append(
        f"Last {trend.days} days: {trend.count} check-ins · average {trend.average:.1f} · "
        f"lowest {trend.lowest} · highest {trend.highest} · latest {trend.latest} ({MOOD_WORDS[trend.latest]})"
    )
    return "\n".join(rows)


@dataclass(frozen=True)
class Pulse:
    days: int
    people: int
    count: int
    average: float | None
    spread: tuple[int, ...]  # how many check-ins at mood 1..5
    bands: tuple[tuple[str, int], ...]  # band-only check-ins: (band key, how many)


def circle_pulse(checkins: Sequence[CheckIn], now: datetime, days: int = 7) -> Pulse:
    """What everyone shared over the last `days` days: moods in full, and bands."""
    recent = [c for c in checkins if c.visibility != "me" and now - timedelta(days=days) <= c.created_at <= now]
    full = [c for c in recent if c.visibility == "circle" and c.mood is not None]
    moods = [c.mood for c in full if c.mood is not None]  # all of them: `full` has only check-ins with one
    banded = [c.band for c in recent if c.visibility == "band" and c.band]
    return Pulse(
        days=days,
        people=len({c.author_id for c in full}),
        count=len(moods),
        average=sum(moods) / len(moods) if moods else None,
        spread=tuple(moods.count(level) for level in range(1, 6)),
        bands=tuple((band, banded.count(band)) for band in BANDS if band in banded),
    )


def render_pulse(pulse: Pulse) -> str:
    bands = ", ".join(f"{n} {BANDS[band]}" for band, n in pulse.bands)
    band_line = f"Shared as a band only: {bands}" if bands else ""
    if pulse.count == 0:
        what = "moods shared in full" if bands else "shared check-ins"
        empty = f"Circle pulse (last {pulse.days} days): no {what} yet."
        return "\n".join(x for x in (empty, band_line) if x)
    spread = "  ".join(f"{level}: {'▮' * n}{n}" for level, n in zip(range(1, 6), pulse.spread, strict=True))
    head = (f"Circle pulse (last {pulse.days} days): {pulse.people} people, {pulse.count} shared check-ins, "
            f"average {pulse.average:.1f}")
    return "\n".join(x for x in (head, spread, band_line) if x)
