"""The fixed words of a circle: roles, member, invite and report statuses, report evidence.

Each is a `str` enum: a member equals its word, hashes like it, and prints,
formats and serialises (json) as exactly that word. So the signed governance
actions, the stored records and the CLI's output stay byte for byte what they
were when these were plain strings, and values decoded from JSON (plain str)
compare equal to them. (`enum.StrEnum` would do the same but needs Python 3.11.)
"""

from __future__ import annotations

from enum import Enum


class Word(str, Enum):
    """A str enum that shows as its value everywhere (str, format, f-strings)."""

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


class Role(Word):
    ORGANIZER = "organizer"
    MODERATOR = "moderator"
    MEMBER = "member"


class MemberStatus(Word):
    ACTIVE = "active"
    REMOVED = "removed"
    LEFT = "left"


class InviteStatus(Word):
    OPEN = "open"
    REVOKED = "revoked"
    CLOSED = "closed"
    USED_UP = "used up"
    EXPIRED = "expired"


class ReportStatus(Word):
    OPEN = "open"
    COLLAPSED = "collapsed"  # still open, and folded for members meanwhile
    HIDDEN = "hidden"
    DISMISSED = "dismissed"


class Evidence(Word):
    """How a reported text compares with this device's own signed copy."""

    VERIFIED = "verified"
    PENDING = "pending"  # the reported state has not reached this device yet
    MISMATCH = "mismatch"


ROLES = tuple(Role)
MODERATING = (Role.ORGANIZER, Role.MODERATOR)
