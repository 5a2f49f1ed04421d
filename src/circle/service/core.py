"""What every part of the service shares: the injected clock and ids, the one
check of text a person typed, and the small records the front ends show.

The service composes the store (disk), crypto (sealing) and the domain
(documents, governance, views). Every action that returns has made its write
durable. Time and ids come in through the constructor so tests are
deterministic. service/__init__.py says which part holds what.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from circle.domain.roles import Role
from circle.errors import InvalidInput

Clock = Callable[[], datetime]
IdSource = Callable[[], str]

MAX_BODY_CHARS = 20_000
MAX_SHORT_CHARS = 200


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def random_id() -> str:
    return secrets.token_hex(8)


@dataclass(frozen=True)
class WhoAmI:
    member_id: str
    device_id: str
    name: str
    home: Path


@dataclass(frozen=True)
class CircleSummary:
    id: str
    name: str
    members: int
    posts: int
    role: Role | None


def clean_text(value: str, what: str, limit: int = MAX_SHORT_CHARS, *, allow_empty: bool = False) -> str:
    value = value.strip()
    if "\x00" in value:
        raise InvalidInput(f"{what} contains a NUL character")
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        raise InvalidInput(f"{what} is not valid UTF-8 text")
    if not value and not allow_empty:
        raise InvalidInput(f"{what} is empty")
    if len(value) > limit:
        raise InvalidInput(f"{what} is too long ({len(value)} characters, at most {limit})")
    return value
