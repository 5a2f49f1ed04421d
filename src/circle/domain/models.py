"""Typed, read-only values the UI and CLI render. Frozen: views hand out copies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from circle.domain.roles import Evidence, MemberStatus, ReportStatus, Role

MOODS = range(1, 6)
REPEATS = ("none", "weekly", "monthly")
RSVP_ANSWERS = ("yes", "no", "maybe")
DEFAULT_EVENT_MINUTES = 60  # how long an event lasts when its organizer did not say
MAX_EVENT_MINUTES = 7 * 24 * 60
SHARES = ("circle", "band", "me")  # how a check-in is shared: in full, as a band only, not at all
BANDS = {"okay": "doing okay", "support": "could use support"}


def band_of(mood: int) -> str:
    return "okay" if mood >= 3 else "support"


@dataclass(frozen=True)
class CrisisResource:
    name: str
    contact: str
    region: str = ""
    hours: str = ""
    id: str = ""  # a circle's own resources: stable across edits; built-in ones have none


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
    role: Role = Role.MEMBER
    status: MemberStatus = MemberStatus.ACTIVE


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
    # Shown folded until opened on purpose: "pending review (3 reports)" or a
    # topic the reader filters. Unlike `hidden`, the reader may still open it.
    collapsed_reason: str | None = None


@dataclass(frozen=True)
class CheckIn:
    id: str
    author_id: str
    mood: int | None  # None: the author shared only a band
    created_at: datetime
    energy: int | None = None
    note: str = ""
    tags: tuple[str, ...] = ()
    visibility: str = "circle"  # one of SHARES
    band: str | None = None  # a key of BANDS

    @property
    def band_text(self) -> str:
        return BANDS[self.band or band_of(self.mood or 3)]


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
    tz: str = ""  # IANA zone it repeats in (recurrence.py); "" for events written before zones: UTC
    minutes: int = DEFAULT_EVENT_MINUTES
    cancelled: bool = False
    edited_at: datetime | None = None


@dataclass(frozen=True)
class Vote:
    choice: int  # index into the poll's options
    at: datetime  # as the voter's device stamped it


@dataclass(frozen=True)
class Poll:
    """A poll as the document holds it; domain/polls.py turns it into results."""

    id: str
    author_id: str
    question: str
    options: tuple[str, ...]
    created_at: datetime
    closes_at: datetime | None = None  # closes by itself then (read against the clock)
    post_id: str | None = None  # the post it hangs under
    guidelines_version: int | None = None  # the guidelines change it is about
    # member -> their vote; for a poll closed by hand, as the closer's device held them
    votes: dict[str, Vote] = field(default_factory=dict)
    closed_by: str | None = None
    closed_at: datetime | None = None


@dataclass(frozen=True)
class PollResult:
    """A poll as one reader sees it at one moment: counts only, never who chose what."""

    poll: Poll
    open: bool
    counts: tuple[int, ...]  # one per option
    my_choice: int | None  # this reader's counted vote
    ended_at: datetime | None  # when it closed (by hand or at its deadline); None while open

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class GuidelinesStatus:
    """The guidelines in force and where this member stands with them."""

    version: int  # 0: the circle has none
    pending: bool  # this member must accept them before posting
    accepted_before: bool  # they accepted an earlier version (so these are a change, not new)


@dataclass(frozen=True)
class Report:
    """A report as this device can read it (moderators: all; members: their own)."""

    id: str
    post_id: str
    reason: str
    status: ReportStatus
    created_at: datetime
    reporter_id: str
    # The reported text and its author, read from this device's own verified
    # copy of the circle as it stood when the report was made.
    reported_body: str | None
    author_id: str | None
    evidence: Evidence


@dataclass(frozen=True)
class InboxItem:
    """Something sent to this member alone: a moderator's warning or a request to reach out."""

    id: str
    kind: str  # "warning" or "reach_out"
    sender_id: str
    created_at: datetime
    text: str
    also_asked: tuple[str, ...] = ()  # reach-outs: the other members asked


@dataclass(frozen=True)
class ModlogEntry:
    id: str
    kind: str
    actor_id: str | None  # the member who acted; None when the entry cannot be trusted
    at: datetime | None
    summary: str  # what was done, in words
    reason: str
    target: str | None  # a member or post id, when public
    status: str  # "valid", "refused", "waiting" (an earlier entry is missing) or "tampered"
    why: str = ""  # for any status but valid
    signature: str = ""
    parents: tuple[str, ...] = ()
