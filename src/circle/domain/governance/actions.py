"""Signed governance actions.

Wire form: 64-byte Ed25519 signature || payload. The payload is canonical JSON
(UTF-8, sorted keys, no spaces) of:
    {"v": 1, "circle": hex|null, "kind": str, "author": sign_pub hex,
     "parents": [action ids, sorted], "at": unix millis, "body": {...}}
The action id is SHA-256 of the payload (hex). Parents link each action to the
log heads its author had seen, so the log is a hash-linked DAG. The genesis
action ("create") has circle null and no parents; the circle id is the first
32 hex digits of its id, so a newcomer can check the circle is the one their
invite named.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from circle.crypto.identity import DeviceIdentity, DevicePublic, device_id_of
from circle.domain.document import MAX_MILLIS

VERSION = 1
SIG_BYTES = 64
MAX_ACTION_BYTES = 512 * 1024
MAX_SEALED_BYTES = 200 * 1024  # a sealed note: a report quotes a post of up to 20,000 characters
MAX_PARENTS = 64
ROLES = ("organizer", "moderator", "member")

_HEX = re.compile(r"[0-9a-f]+")


class ActionError(ValueError):
    """An action is malformed or its signature does not verify."""


def _hex(value: Any, length: int | None = None) -> str:
    if not isinstance(value, str) or not _HEX.fullmatch(value):
        raise ActionError("expected lowercase hex")
    if length is not None and len(value) != length:
        raise ActionError(f"expected {length} hex digits")
    if len(value) % 2:
        # Consumers call bytes.fromhex on every hex field; an odd length would crash them later.
        raise ActionError("expected whole bytes of hex")
    return value


def _text(value: Any, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise ActionError("expected a string within its size limit")
    return value


def _int(value: Any, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ActionError("integer out of range")
    return value


def _bytes_hex(value: Any, limit: int) -> str:
    if not isinstance(value, str) or len(value) > 2 * limit or len(value) % 2:
        raise ActionError("expected hex bytes within the size limit")
    return _hex(value)


def _boxes(value: Any) -> list[str]:
    if not isinstance(value, list) or not 1 <= len(value) <= 64:
        raise ActionError("a sealed note has 1 to 64 boxes")
    return [_bytes_hex(box, 256) for box in value]


def _report_ids(value: Any, at_least: int = 0) -> list[str]:
    if not isinstance(value, list) or not at_least <= len(value) <= 1000:
        raise ActionError("expected a list of report ids")
    return [_hex(v, 64) for v in value]


def _device(value: Any) -> dict:
    if not isinstance(value, dict) or set(value) != {"sign", "dh"}:
        raise ActionError("device must have sign and dh keys")
    return {"sign": _hex(value["sign"], 64), "dh": _hex(value["dh"], 64)}


def _sealed_map(value: Any, key_len: int) -> dict[str, str]:
    if not isinstance(value, dict) or len(value) > 1000:
        raise ActionError("expected a map of sealed keys")
    return {_hex(k, key_len): _hex(v) for k, v in value.items()}


def _cutoffs(value: Any) -> dict[str, int]:
    if not isinstance(value, dict) or len(value) > 64:
        raise ActionError("expected a map of cutoffs")
    return {_hex(k, 32): _int(v, 0, 2**53) for k, v in value.items()}


def _resources(value: Any) -> list[dict]:
    if not isinstance(value, list) or len(value) > 50:
        raise ActionError("expected a list of resources")
    out = []
    for entry in value:
        if not isinstance(entry, dict) or set(entry) != {"name", "contact", "region", "hours"}:
            raise ActionError("resource fields are name, contact, region, hours")
        out.append({k: _text(entry[k], 300) for k in ("name", "contact", "region", "hours")})
    return out


# Each kind's body: field -> validator. Unknown fields are rejected so that two
# clients never disagree about what an action says.
_BODIES = {
    "create": {"name": lambda v: _text(v, 200), "nonce": lambda v: _hex(v, 32),
               "device": _device},
    "invite": {"invite": lambda v: _hex(v, 16), "key": lambda v: _hex(v, 64),
               "uses": lambda v: _int(v, 1, 1000), "expires": lambda v: _int(v, 0, 2**53)},
    "link_invite": {"invite": lambda v: _hex(v, 16), "key": lambda v: _hex(v, 64),
                    "expires": lambda v: _int(v, 0, 2**53)},
    "readmit_invite": {"invite": lambda v: _hex(v, 16), "key": lambda v: _hex(v, 64),
                       "member": lambda v: _hex(v, 32), "expires": lambda v: _int(v, 0, 2**53)},
    "revoke_invite": {"invite": lambda v: _hex(v, 16)},
    "admit": {"invite": lambda v: _hex(v, 16), "member": lambda v: _hex(v, 32),
              "device": _device, "proof": lambda v: _hex(v, 128),
              "lockboxes": lambda v: _sealed_map(v, 32)},
    "set_role": {"member": lambda v: _hex(v, 32), "role": lambda v: _choice(v, ROLES)},
    "remove": {"member": lambda v: _hex(v, 32), "cutoffs": _cutoffs, "reason": lambda v: _text(v, 500)},
    "leave": {"cutoffs": _cutoffs},
    "rotate": {"epoch": lambda v: _hex(v, 32), "lockboxes": lambda v: _sealed_map(v, 32),
               "wraps": lambda v: _sealed_map(v, 32)},
    "set_guidelines": {"text": lambda v: _text(v, 20_000)},
    "set_resources": {"resources": _resources},
    "hide": {"post": lambda v: _text(v, 64), "reason": lambda v: _text(v, 500)},
    "unhide": {"post": lambda v: _text(v, 64)},
    "mute": {"member": lambda v: _hex(v, 32), "until": lambda v: _int(v, 0, MAX_MILLIS),
             "reason": lambda v: _text(v, 500)},
    # A private note (report, reach-out), signed by a one-time key: see notes.py.
    "sealed": {"boxes": _boxes, "content": lambda v: _bytes_hex(v, MAX_SEALED_BYTES)},
    # A private warning to a member, signed by the moderator who sends it.
    "warn": {"boxes": _boxes, "content": lambda v: _bytes_hex(v, MAX_SEALED_BYTES)},
    "collapse": {"post": lambda v: _text(v, 64), "reports": lambda v: _report_ids(v, at_least=1)},
    "dismiss": {"post": lambda v: _text(v, 64), "reports": _report_ids, "reason": lambda v: _text(v, 500)},
    "set_policy": {"collapse_after": lambda v: _int(v, 0, 100)},
    "accept_guidelines": {"version": lambda v: _hex(v, 64)},
}


# -- crisis resources by id (see resources.py) ------------------------------------
# A resource's id is RESOURCE_ID_LEN hex digits derived from the action that
# added it, so resources added by an old set_resources keep an id too.

RESOURCE_ID_LEN = 16
RESOURCE_FIELD_CHARS = 300


def _required(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ActionError("a resource's name and contact may not be empty")
    return _text(value, RESOURCE_FIELD_CHARS)


_RESOURCE_FIELDS = {
    "name": _required, "contact": _required,
    "region": lambda v: _text(v, RESOURCE_FIELD_CHARS), "hours": lambda v: _text(v, RESOURCE_FIELD_CHARS),
}
_BODIES.update({
    "add_resource": dict(_RESOURCE_FIELDS),
    "edit_resource": {"resource": lambda v: _hex(v, RESOURCE_ID_LEN), **_RESOURCE_FIELDS},
    "remove_resource": {"resource": lambda v: _hex(v, RESOURCE_ID_LEN)},
})
KINDS = tuple(_BODIES)


def _choice(value: Any, options: tuple[str, ...]) -> str:
    if value not in options:
        raise ActionError(f"expected one of {', '.join(options)}")
    return value


def canonical(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Action:
    id: str
    circle: str | None
    kind: str
    author_sign: str  # the signing device's Ed25519 public key, hex
    author_device: str  # its device id
    parents: tuple[str, ...]
    at: int
    body: dict
    wire: bytes


def sign_action(
    identity: DeviceIdentity,
    circle: str | None,
    kind: str,
    parents: list[str],
    at: int,
    body: dict,
) -> Action:
    payload = {
        "v": VERSION,
        "circle": circle,
        "kind": kind,
        "author": identity.public.sign_pub.hex(),
        "parents": sorted(set(parents)),
        "at": at,
        "body": body,
    }
    raw = canonical(payload)
    return decode_action(identity.sign(raw) + raw)


def decode_action(wire: bytes) -> Action:
    """Parse and verify one action. Raises ActionError on anything off."""
    if not isinstance(wire, (bytes, bytearray)) or not SIG_BYTES < len(wire) <= MAX_ACTION_BYTES:
        raise ActionError("action size out of bounds")
    signature, raw = bytes(wire[:SIG_BYTES]), bytes(wire[SIG_BYTES:])
    try:
        payload = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ActionError("action payload is not JSON") from None
    if not isinstance(payload, dict) or set(payload) != {"v", "circle", "kind", "author", "parents", "at", "body"}:
        raise ActionError("action payload has the wrong fields")
    if payload["v"] != VERSION:
        raise ActionError("unsupported action version")
    try:
        if canonical(payload) != raw:
            raise ActionError("action payload is not canonical")
    except UnicodeEncodeError:  # a lone surrogate: JSON allows it, UTF-8 does not
        raise ActionError("action payload is not canonical") from None
    kind = payload["kind"]
    if not isinstance(kind, str) or kind not in _BODIES:
        raise ActionError("unknown action kind")
    author = _hex(payload["author"], 64)
    circle = payload["circle"]
    if kind == "create":
        if circle is not None or payload["parents"]:
            raise ActionError("genesis must have no circle and no parents")
    else:
        _hex(circle, 32)
    parents = payload["parents"]
    if not isinstance(parents, list) or len(parents) > MAX_PARENTS:
        raise ActionError("bad parents")
    parents = tuple(_hex(p, 64) for p in parents)
    if kind != "create" and not parents:
        raise ActionError("only genesis may have no parents")
    at = _int(payload["at"], 0, MAX_MILLIS)  # beyond it no date can be shown
    body = payload["body"]
    spec = _BODIES[kind]
    if not isinstance(body, dict) or set(body) != set(spec):
        raise ActionError(f"{kind} body has the wrong fields")
    for field, check in spec.items():
        check(body[field])
    if not DevicePublic(bytes.fromhex(author), b"").verify(signature, raw):
        raise ActionError("action signature does not verify")
    action_id = hashlib.sha256(raw).hexdigest()
    return Action(
        action_id, circle, kind, author, device_id_of(bytes.fromhex(author)), parents, at, body, bytes(wire)
    )


def admit_proof_message(circle_id: str, invite_id: str, device: dict) -> bytes:
    """What a newcomer signs with the invite key to prove they hold the invite."""
    return f"circle/admit/v1/{circle_id}/{invite_id}/{device['sign']}/{device['dh']}".encode()
