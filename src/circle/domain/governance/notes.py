"""Private notes carried in the governance log: reports, warnings, reach-outs.

A note is signed by its sender's device (so a recipient knows who wrote it)
and then sealed to its recipients (crypto/note_box), inside an action of kind
`sealed` or `warn`. `sealed` actions are signed by a one-time key, so members
who cannot open the note do not learn who sent it; `warn` actions are signed
by the moderator, because a warning is a moderation act the log must show.

Inner wire form: 64-byte Ed25519 signature || canonical JSON of
    {"v": 1, "circle": id, "envelope": outer action's signing key (hex),
     "kind": "report" | "reach_out" | "warn", "from": sender's signing key (hex),
     "at": unix millis, "body": {...}}
Naming the envelope's key stops a recipient from re-sealing someone's signed
note into a new envelope for other people.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from circle.crypto.identity import DeviceIdentity, DevicePublic, device_id_of
from circle.crypto.note_box import MAX_BOXES, NoteBoxError, open_for, seal_for
from circle.domain.document import MAX_MILLIS
from circle.domain.governance.actions import SIG_BYTES, Action, canonical

NOTE_KINDS = ("report", "reach_out", "warn")
MAX_NOTE_BYTES = 190 * 1024  # fits MAX_SEALED_BYTES with the signature and AEAD overhead


class NoteError(ValueError):
    """A note opened for us but is malformed, mis-signed or bound elsewhere."""


def _text(value: Any, limit: int, *, empty: bool = True) -> str:
    if not isinstance(value, str) or len(value) > limit or (not empty and not value.strip()):
        raise NoteError("a note field is not a string within its limit")
    return value


def _hex_list(value: Any, length: int, limit: int) -> list[str]:
    if not isinstance(value, list) or len(value) > limit:
        raise NoteError("a note list is too long")
    for item in value:
        if not isinstance(item, str) or len(item) != length or item.strip("0123456789abcdef"):
            raise NoteError("a note list holds something other than ids")
    return value


_BODIES: dict[str, dict[str, Callable[[Any], object]]] = {
    "report": {"post": lambda v: _text(v, 64, empty=False), "reason": lambda v: _text(v, 500, empty=False),
               "body": lambda v: _text(v, 20_000), "heads": lambda v: _hex_list(v, 64, 64)},
    "reach_out": {"note": lambda v: _text(v, 500), "to": lambda v: _hex_list(v, 32, 64)},
    "warn": {"member": lambda v: _hex_list([v], 32, 1)[0], "reason": lambda v: _text(v, 2000, empty=False)},
}


@dataclass(frozen=True)
class Note:
    envelope: str  # the id of the action carrying it
    kind: str
    sender_device: str
    at: int
    body: dict


def _context(circle_id: str, envelope_key: str) -> bytes:
    return f"{circle_id}/{envelope_key}".encode()


def seal_note(
    sender: DeviceIdentity,
    circle_id: str,
    envelope_key: str,
    kind: str,
    at: int,
    body: dict,
    recipients: list[bytes],
) -> dict:
    """The body of a `sealed` or `warn` action carrying this note to `recipients`."""
    spec = _BODIES[kind]
    if set(body) != set(spec):
        raise NoteError(f"{kind} note has the wrong fields")
    for field, check in spec.items():
        check(body[field])
    payload = canonical({
        "v": 1, "circle": circle_id, "envelope": envelope_key, "kind": kind,
        "from": sender.public.sign_pub.hex(), "at": at, "body": body,
    })
    if len(payload) > MAX_NOTE_BYTES:
        raise NoteError("note too large")
    if not 1 <= len(set(recipients)) <= MAX_BOXES:
        raise NoteError(f"a private note goes to 1 to {MAX_BOXES} devices")
    boxes, content = seal_for(recipients, sender.sign(payload) + payload, _context(circle_id, envelope_key))
    return {"boxes": [b.hex() for b in boxes], "content": content.hex()}


def open_note(dh_key: X25519PrivateKey, action: Action) -> Note | None:
    """The note in a `sealed` or `warn` action, if it was sealed to this key.

    Raises NoteError if it was sealed to us but is not a well-formed note bound
    to this circle and envelope, signed by the key it names.
    """
    context = _context(action.circle or "", action.author_sign)
    boxes = [bytes.fromhex(b) for b in action.body["boxes"]]  # even-length hex: checked on decode
    try:
        wire = open_for(dh_key, boxes, bytes.fromhex(action.body["content"]), context)
    except NoteBoxError as exc:
        raise NoteError(str(exc)) from None
    if wire is None:
        return None
    return _read(wire, action)


def _read(wire: bytes, action: Action) -> Note:
    signature, raw = wire[:SIG_BYTES], wire[SIG_BYTES:]
    try:
        payload = json.loads(raw.decode("utf-8"))
        if not isinstance(payload, dict) or canonical(payload) != raw:
            raise NoteError("note is not canonical JSON")
    except (UnicodeError, ValueError, RecursionError) as exc:
        raise NoteError(f"note is not JSON: {exc}") from None
    if set(payload) != {"v", "circle", "envelope", "kind", "from", "at", "body"} or payload["v"] != 1:
        raise NoteError("note has the wrong fields")
    if payload["circle"] != action.circle or payload["envelope"] != action.author_sign:
        raise NoteError("note was sealed for another circle or envelope")
    kind, body, sender = payload["kind"], payload["body"], payload["from"]
    if not isinstance(kind, str) or kind not in _BODIES or not isinstance(body, dict) \
            or set(body) != set(_BODIES[kind]):
        raise NoteError("note has an unknown kind or the wrong body")
    for field, check in _BODIES[kind].items():
        check(body[field])
    at = payload["at"]
    if not isinstance(at, int) or isinstance(at, bool) or not 0 <= at <= MAX_MILLIS:
        raise NoteError("note time out of range")
    try:
        sender_pub = bytes.fromhex(sender)
    except (TypeError, ValueError):
        raise NoteError("note sender is not a key") from None
    if len(sender_pub) != 32 or not DevicePublic(sender_pub, b"").verify(signature, raw):
        raise NoteError("note signature does not verify")
    if action.kind == "warn" and (kind != "warn" or sender != action.author_sign):
        raise NoteError("a warning must be signed by the moderator who sent it")
    if action.kind == "sealed" and kind == "warn":
        raise NoteError("a warning must travel in a signed warn action")
    return Note(action.id, kind, device_id_of(sender_pub), at, body)

