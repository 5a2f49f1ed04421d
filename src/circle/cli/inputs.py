"""What the user typed made into values: the passphrase, text from stdin, dates, durations."""

from __future__ import annotations

import getpass
import os
import re
import sys
from datetime import datetime, timedelta, timezone, tzinfo

from circle.errors import InvalidInput, PassphraseUnavailable


def read_passphrase(*, confirm: bool = False) -> str:
    """CIRCLE_PASSPHRASE if set, else a prompt on a terminal, else an error.

    The variable wins over the prompt so scripts behave the same with or
    without a terminal attached.
    """
    env = os.environ.get("CIRCLE_PASSPHRASE")
    if env:
        if _not_utf8(env):
            raise InvalidInput("CIRCLE_PASSPHRASE is not valid UTF-8")
        return env
    if not sys.stdin.isatty():
        raise PassphraseUnavailable("no passphrase: run in a terminal or set CIRCLE_PASSPHRASE (it is empty or unset)")
    try:
        first = getpass.getpass("Passphrase: ")
        again = getpass.getpass("Repeat passphrase: ") if confirm else first
    except UnicodeDecodeError:
        raise InvalidInput("the passphrase typed is not valid UTF-8") from None
    if _not_utf8(first):
        raise InvalidInput("the passphrase typed is not valid UTF-8")
    if again != first:
        raise InvalidInput("the two passphrases differ")
    return first


def _not_utf8(text: str) -> bool:
    """True for text decoded with surrogateescape from bytes that were not UTF-8."""
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def _decode(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{what} is not UTF-8 text") from None


def _body(text: str) -> str:
    return _decode(sys.stdin.buffer.read(), "standard input") if text == "-" else text


def parse_when(text: str, tz: tzinfo | None = None) -> datetime:
    """An ISO date and time; without an offset it is a wall time in `tz` (this device's zone if None)."""
    try:
        moment = datetime.fromisoformat(text.strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=tz) if tz is not None else moment.astimezone()
        if not 1970 <= moment.astimezone(timezone.utc).year <= 9998:
            raise ValueError
    except (ValueError, OverflowError, OSError):
        raise InvalidInput(f"not a date and time: {text!r} (use e.g. 2026-12-01T18:30, years 1970-9998)") from None
    return moment


_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    match = re.fullmatch(r"\s*(\d{1,6})\s*([mhdw])\s*", text)
    if not match:
        raise InvalidInput(f"not a duration: {text!r} (use e.g. 30m, 12h, 7d, 2w)")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
