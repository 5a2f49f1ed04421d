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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from circle.crypto.identity import DeviceIdentity, DevicePublic, device_id_of
from circle.domain.document import MAX_MILLIS
from circle.domain.governance import fields as f
from circle.domain.governance.fields import ActionError
from circle.domain.quiet import MAX_QUIET_AFTER_HOURS
from circle.domain.roles import ROLES

VERSION = 1
SIG_BYTES = 64
MAX_ACTION_BYTES = 512 * 1024
MAX_SEALED_BYTES = 200 * 1024  # a sealed note: a report quotes a post of up to 20,000 characters
MAX_PARENTS = 64
MAX_REPORTS = 1000

# Each kind's body: field -> check (fields.py). Unknown fields are rejected so
# that two clients never disagree about what an action says.
_BODIES: dict[str, dict[str, Callable[[Any], object]]] = {
    "create": {"name": lambda v: f.text(v, 200), "nonce": lambda v: f.hex_str(v, 32), "device": f.device},
    "invite": {"invite": lambda v: f.hex_str(v, 16), "key": lambda v: f.hex_str(v, 64),
               "uses": lambda v: f.integer(v, 1, 1000), "expires": lambda v: f.integer(v, 0, f.MAX_SECONDS)},
    "link_invite": {"invite": lambda v: f.hex_str(v, 16), "key": lambda v: f.hex_str(v, 64),
                    "expires": lambda v: f.integer(v, 0, f.MAX_SECONDS)},
    "readmit_invite": {"invite": lambda v: f.hex_str(v, 16), "key": lambda v: f.hex_str(v, 64),
                       "member": lambda v: f.hex_str(v, 32), "expires": lambda v: f.integer(v, 0, f.MAX_SECONDS)},
    "revoke_invite": {"invite": lambda v: f.hex_str(v, 16)},
    "admit": {"invite": lambda v: f.hex_str(v, 16), "member": lambda v: f.hex_str(v, 32),
              "device": f.device, "proof": lambda v: f.hex_str(v, 128),
              "lockboxes": lambda v: f.key_boxes(v, 32)},
    "set_role": {"member": lambda v: f.hex_str(v, 32), "role": lambda v: f.choice(v, ROLES)},
    "remove": {"member": lambda v: f.hex_str(v, 32), "cutoffs": f.cutoffs, "reason": lambda v: f.text(v, 500)},
    "leave": {"cutoffs": f.cutoffs},
    "rotate": {"epoch": lambda v: f.hex_str(v, 32), "lockboxes": lambda v: f.key_boxes(v, 32),
               "wraps": lambda v: f.key_boxes(v, 32)},
    "set_guidelines": {"text": lambda v: f.text(v, 20_000)},
    "set_resources": {"resources": lambda v: f.resource_list(v, 300)},
    "hide": {"post": lambda v: f.text(v, 64), "reason": lambda v: f.text(v, 500)},
    "unhide": {"post": lambda v: f.text(v, 64)},
    "mute": {"member": lambda v: f.hex_str(v, 32), "until": lambda v: f.integer(v, 0, MAX_MILLIS),
             "reason": lambda v: f.text(v, 500)},
    # A private note (report, reach-out), signed by a one-time key: see notes.py.
    "sealed": {"boxes": f.note_boxes, "content": lambda v: f.hex_bytes(v, MAX_SEALED_BYTES)},
    # A private warning to a member, signed by the moderator who sends it.
    "warn": {"boxes": f.note_boxes, "content": lambda v: f.hex_bytes(v, MAX_SEALED_BYTES)},
    "collapse": {"post": lambda v: f.text(v, 64), "reports": lambda v: f.id_list(v, 64, 1, MAX_REPORTS)},
    "dismiss": {"post": lambda v: f.text(v, 64), "reports": lambda v: f.id_list(v, 64, 0, MAX_REPORTS),
                "reason": lambda v: f.text(v, 500)},
    "set_policy": {"collapse_after": lambda v: f.integer(v, 0, 100)},
    # The relays members sync through (the whole list each time): see docs/protocol.md, "Relay".
    "set_relays": {"relays": f.relay_list},
    # Hours without a reply before a post is shown as waiting for one (domain/quiet.py).
    "set_quiet_after": {"hours": lambda v: f.integer(v, 1, MAX_QUIET_AFTER_HOURS)},
    "accept_guidelines": {"version": lambda v: f.hex_str(v, 64)},
}


# -- crisis resources by id (see resources.py) ------------------------------------
# A resource's id is RESOURCE_ID_LEN hex digits derived from the action that
# added it, so resources added by an old set_resources keep an id too.

RESOURCE_ID_LEN = 16
RESOURCE_FIELD_CHARS = 300

_RESOURCE_FIELDS = {
    "name": lambda v: f.required_text(v, RESOURCE_FIELD_CHARS),
    "contact": lambda v: f.required_text(v, RESOURCE_FIELD_CHARS),
    "region": lambda v: f.text(v, RESOURCE_FIELD_CHARS), "hours": lambda v: f.text(v, RESOURCE_FIELD_CHARS),
}
_BODIES.update({
    "add_resource": dict(_RESOURCE_FIELDS),
    "edit_resource": {"resource": lambda v: f.hex_str(v, RESOURCE_ID_LEN), **_RESOURCE_FIELDS},
    "remove_resource": {"resource": lambda v: f.hex_str(v, RESOURCE_ID_LEN)},
})
KINDS = tuple(_BODIES)


_FUTURE_KIND = re.compile(r"[a-z][a-z_]{0,39}")  # how every kind is spelled, so it can be named safely


class UnknownKind(ActionError):
    """A signed action of a kind a newer version of circle writes. The log is one
    signed chain and the resolver cannot judge what it does not know, so the bundle
    is refused as a whole; the message says what to do about it."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"the circle holds a kind of decision ('{kind}') that this version of circle "
                         "does not know: update circle to keep syncing it")
        self.kind = kind


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
    """Parse and verify one action. Raises ActionError on anything off.

    Every field is checked to be what the resolver and every later reader
    assume (fields.py), so an action that decodes cannot crash them."""
    if not isinstance(wire, (bytes, bytearray)) or not SIG_BYTES < len(wire) <= MAX_ACTION_BYTES:
        raise ActionError("action size out of bounds")
    signature, raw = bytes(wire[:SIG_BYTES]), bytes(wire[SIG_BYTES:])
    try:
        payload = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        # ValueError covers integers past Python's digit limit, which JSON allows.
        raise ActionError("action payload is not JSON") from None
    if not isinstance(payload, dict) or set(payload) != {"v", "circle", "kind", "author", "parents", "at", "body"}:
        raise ActionError("action payload has the wrong fields")
    if type(payload["v"]) is not int or payload["v"] != VERSION:
        raise ActionError("unsupported action version")
    try:
        if canonical(payload) != raw:
            raise ActionError("action payload is not canonical")
    except (UnicodeEncodeError, RecursionError):  # a lone surrogate: JSON allows it, UTF-8 does not
        raise ActionError("action payload is not canonical") from None
    kind = payload["kind"]
    author = f.hex_str(payload["author"], 64)
    if not isinstance(kind, str) or kind not in _BODIES:
        signed = DevicePublic(bytes.fromhex(author), b"").verify(signature, raw)
        if isinstance(kind, str) and _FUTURE_KIND.fullmatch(kind) and signed:
            raise UnknownKind(kind)
        raise ActionError("unknown action kind")
    circle = payload["circle"]
    parents = payload["parents"]
    if kind == "create":
        if circle is not None or parents != []:
            raise ActionError("genesis must have no circle and no parents")
    else:
        f.hex_str(circle, 32)
    if not isinstance(parents, list) or len(parents) > MAX_PARENTS:
        raise ActionError("bad parents")
    for parent in parents:
        f.hex_str(parent, 64)
    if parents != sorted(set(parents)):
        raise ActionError("parents must be distinct and sorted")  # one action, one wire form
    if kind != "create" and not parents:
        raise ActionError("only genesis may have no parents")
    at = f.integer(payload["at"], 0, MAX_MILLIS)  # beyond it no date can be shown
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
        action_id, circle, kind, author, device_id_of(bytes.fromhex(author)), tuple(parents), at, body,
        bytes(wire),
    )


def admit_proof_message(circle_id: str, invite_id: str, device: dict) -> bytes:
    """What a newcomer signs with the invite key to prove they hold the invite."""
    return f"circle/admit/v1/{circle_id}/{invite_id}/{device['sign']}/{device['dh']}".encode()
