"""Typed, read-only values the UI and CLI render. Frozen: views hand out copies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

MOODS = range(1, 6)
REPEATS = ("none", "weekly", "monthly")
RSVP_ANSWERS = ("yes", "no", "maybe")


@dataclass(frozen=True)
class CrisisResource:
    name: str
    contact: str
    region: str = ""
    hours: str = ""


@dataclass(frozen=True)
class CircleInfo:
    id: str
    name: str
    purpose: str
    guidelines: str
    created_at: datetime
    organizer_ids: frozenset[str]
    resources: tuple[CrisisResource, ...] = ()


@dataclass(frozen=True)
class Member:
    id: str
    name: str
    joined_at: datetime | None
    role: str = "member"
    status: str = "active"


@dataclass(frozen=True)
class Post:
    id: str
    author_id: str
    body: str
    created_at: datetime
    reply_to: str | None = None
    content_warning: str | None = None
    edited_at: datetime | None = None
    deleted: bool = False
    reactions: dict[str, frozenset[str]] = field(default_factory=dict)
    hidden: bool = False
    hidden_reason: str | None = None


@dataclass(frozen=True)
class CheckIn:
    id: str
    author_id: str
    mood: int
    created_at: datetime
    energy: int | None = None
    note: str = ""
    tags: tuple[str, ...] = ()
    visibility: str = "circle"


@dataclass(frozen=True)
class Event:
    id: str
    author_id: str
    title: str
    when: datetime
    repeat: str = "none"
    where: str = ""
    notes: str = ""
    rsvps: dict[str, str] = field(default_factory=dict)
