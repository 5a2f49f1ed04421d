"""How long ago something was, in words ("3 h ago"). Absolute times: circle.domain.times."""

from __future__ import annotations

from datetime import datetime


def ago(moment: datetime, now: datetime) -> str:
    seconds = int((now - moment).total_seconds())
    if seconds < 0:
        return "in the future"
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} d ago"


def seconds_ago(then: float, now: float) -> str:
    """Last-contact style: "12 s ago", "4 min ago"; "never" for 0."""
    if not then:
        return "never"
    seconds = max(0, int(now - then))
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"

