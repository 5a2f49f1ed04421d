"""Next occurrence of a repeating event."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta


def _add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def next_occurrence(first: datetime, repeat: str, now: datetime) -> datetime:
    """The first occurrence at or after `now` (or `first` itself if still ahead).

    Monthly events keep their day of month, clamped to the month's last day.
    """
    if repeat == "none" or first >= now:
        return first
    if repeat == "weekly":
        weeks = (now - first) // timedelta(weeks=1)
        candidate = first + timedelta(weeks=weeks)
        return candidate if candidate >= now else candidate + timedelta(weeks=1)
    if repeat == "monthly":
        months = (now.year - first.year) * 12 + (now.month - first.month)
        candidate = _add_months(first, months)
        return candidate if candidate >= now else _add_months(first, months + 1)
    raise ValueError(f"unknown repeat {repeat!r}")
