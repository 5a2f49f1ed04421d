"""Checks for the fields of a governance action's body (the `_BODIES` table in actions.py).

Every field an action carries is checked here to be exactly what the rest of
the app assumes it is (type, length, charset, range, shape), so that an action
that decodes cannot crash the resolver or anything that later reads the state
it produces: key recovery, joins, syncs, the moderation log, exports, views.
Each check returns the value unchanged or raises ActionError.
"""

from __future__ import annotations

import re
from typing import Any

from circle.crypto.lockbox import can_seal_to
from circle.domain.document import MAX_MILLIS

# An epoch key (32 bytes) sealed to a device with HPKE is 80 bytes, sealed under
# another epoch key 60 bytes; a box of a private note is the same 80 bytes.
MAX_KEY_BOX_BYTES = 256
MAX_MAP_ENTRIES = 1000
MAX_SECONDS = MAX_MILLIS // 1000  # an invite's expiry (Unix seconds) must still be a date

_HEX = re.compile(r"[0-9a-f]+")


class ActionError(ValueError):
    """An action is malformed or its signature does not verify."""


def hex_str(value: Any, length: int | None = None) -> str:
    """Lowercase hex of whole bytes (of exactly `length` digits, if given)."""
    if not isinstance(value, str) or not _HEX.fullmatch(value):
        raise ActionError("expected lowercase hex")
    if length is not None and len(value) != length:
        raise ActionError(f"expected {length} hex digits")
    if len(value) % 2:
        # Consumers call bytes.fromhex on every hex field; an odd length would crash them later.
        raise ActionError("expected whole bytes of hex")
    return value


def hex_bytes(value: Any, limit: int) -> str:
    """Non-empty hex of at most `limit` bytes."""
    if not isinstance(value, str) or len(value) > 2 * limit:
        raise ActionError("expected hex bytes within the size limit")
    return hex_str(value)


def text(value: Any, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise ActionError("expected a string within its size limit")
    return value


def required_text(value: Any, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ActionError("a resource's name and contact may not be empty")
    return text(value, limit)


def integer(value: Any, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ActionError("integer out of range")
    return value


def choice(value: Any, options: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in options:
        raise ActionError(f"expected one of {', '.join(options)}")
    return value


def dh_key(value: Any) -> str:
    """An X25519 public key others can seal to (not a small-order point)."""
    if not can_seal_to(bytes.fromhex(hex_str(value, 64))):
        # Every rotation, report and addressed bundle seals to it: it would crash them all.
        raise ActionError("a device's key for sealing cannot be sealed to")
    return value


def device(value: Any) -> dict:
    if not isinstance(value, dict) or set(value) != {"sign", "dh"}:
        raise ActionError("device must have sign and dh keys")
    hex_str(value["sign"], 64)
    dh_key(value["dh"])
    return value


def id_list(value: Any, length: int, at_least: int = 0, at_most: int = MAX_MAP_ENTRIES) -> list[str]:
    """Distinct ids of `length` hex digits, `at_least` to `at_most` of them."""
    if not isinstance(value, list) or not at_least <= len(value) <= at_most:
        raise ActionError("expected a list of ids")
    for item in value:
        hex_str(item, length)
    if len(set(value)) != len(value):
        raise ActionError("a list of ids names one twice")
    return value


def key_boxes(value: Any, key_len: int) -> dict[str, str]:
    """A map of ids (`key_len` hex digits) to sealed epoch keys."""
    if not isinstance(value, dict) or len(value) > MAX_MAP_ENTRIES:
        raise ActionError("expected a map of sealed keys")
    for k, v in value.items():
        hex_str(k, key_len)
        hex_bytes(v, MAX_KEY_BOX_BYTES)
    return value


def note_boxes(value: Any) -> list[str]:
    if not isinstance(value, list) or not 1 <= len(value) <= 64:
        raise ActionError("a sealed note has 1 to 64 boxes")
    for box in value:
        hex_bytes(box, MAX_KEY_BOX_BYTES)
    return value


def cutoffs(value: Any) -> dict[str, int]:
    """Actor id (16 bytes, hex) -> the last op counter of theirs that counts."""
    if not isinstance(value, dict) or len(value) > 64:
        raise ActionError("expected a map of cutoffs")
    for k, v in value.items():
        hex_str(k, 32)
        integer(v, 0, 2**53)
    return value


RESOURCE_KEYS = ("name", "contact", "region", "hours")


MAX_RELAYS = 8
RELAY_ADDRESS_CHARS = 300


def relay_list(value: Any) -> list[dict]:
    """A circle's relays: distinct `HOST:PORT` addresses (no spaces or control
    characters), each with the relay's Noise static key (64 hex digits)."""
    if not isinstance(value, list) or len(value) > MAX_RELAYS:
        raise ActionError(f"expected a list of at most {MAX_RELAYS} relays")
    for entry in value:
        if not isinstance(entry, dict) or set(entry) != {"address", "key"}:
            raise ActionError("relay fields are address, key")
        address = text(entry["address"], RELAY_ADDRESS_CHARS)
        if not address or any(ch.isspace() or not ch.isprintable() for ch in address):
            raise ActionError("a relay address is HOST:PORT without spaces or control characters")
        hex_str(entry["key"], 64)
    if len({entry["address"] for entry in value}) != len(value):
        raise ActionError("a relay is listed twice")
    return value


def resource_list(value: Any, limit: int) -> list[dict]:
    """The old whole-list form of crisis resources (set_resources)."""
    if not isinstance(value, list) or len(value) > 50:
        raise ActionError("expected a list of resources")
    for entry in value:
        if not isinstance(entry, dict) or set(entry) != set(RESOURCE_KEYS):
            raise ActionError("resource fields are name, contact, region, hours")
        for key in RESOURCE_KEYS:
            text(entry[key], limit)
    return value
