"""Bytes sealed to a few chosen devices, without naming them.

Used for what only some members may read: reports (to moderators), private
warnings and "reach out to me" requests. The content is sealed once with
AES-256-GCM under a fresh key; that key is sealed with HPKE (see lockbox) to
each recipient's X25519 key. The boxes carry no device ids and are shuffled and
padded with boxes to random keys, so the envelope shows roughly how many
recipients there are, never who: a recipient finds its box by trying each one.
`context` (circle and envelope) is bound into every box and the content.
"""

from __future__ import annotations

import secrets

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from circle.crypto.aead import KEY_BYTES, SealError, new_key, open_sealed, seal
from circle.crypto.lockbox import LockboxError, open_lockbox, seal_to

PAD_TO = 8
MAX_BOXES = 64


class NoteBoxError(Exception):
    """The envelope is malformed, or a box opened but the content is not intact."""


def _box_info(context: bytes) -> bytes:
    return b"circle/note-box/v1/" + context


def _content_ad(context: bytes) -> bytes:
    return b"circle/note-content/v1/" + context


def _decoy_recipient() -> bytes:
    return X25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def seal_for(recipients: list[bytes], plaintext: bytes, context: bytes) -> tuple[list[bytes], bytes]:
    """(boxes, content): `plaintext` readable by the holders of `recipients` (X25519 public keys)."""
    unique = list(dict.fromkeys(recipients))
    if not unique:
        raise ValueError("a sealed note needs at least one recipient")
    if len(unique) > MAX_BOXES:
        raise ValueError(f"a sealed note has at most {MAX_BOXES} recipients")
    key = new_key()
    padded = unique + [_decoy_recipient() for _ in range(-len(unique) % PAD_TO)]
    boxes = [seal_to(dh_pub, key, _box_info(context)) for dh_pub in padded]
    secrets.SystemRandom().shuffle(boxes)
    return boxes, seal(key, plaintext, _content_ad(context))


def open_for(dh_key: X25519PrivateKey, boxes: list[bytes], content: bytes, context: bytes) -> bytes | None:
    """The plaintext if one of the boxes is ours, else None.

    Raises NoteBoxError when our box opens but the content does not: someone
    who could seal to us altered the content.
    """
    for box in boxes:
        try:
            key = open_lockbox(dh_key, box, _box_info(context))
        except LockboxError:
            continue
        if len(key) != KEY_BYTES:
            raise NoteBoxError("a sealed note's box holds no proper key")
        try:
            return open_sealed(key, content, _content_ad(context))
        except SealError:
            raise NoteBoxError("a sealed note's content was altered") from None
    return None
