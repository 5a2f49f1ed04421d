"""Epoch envelopes: what travels between members, sealed with a circle epoch key.

AES-256-GCM (see aead.py) with associated data binding the circle id, the
epoch id and the payload kind, so a sealed bundle cannot be replayed into
another circle, another epoch or as another kind of payload.
"""

from __future__ import annotations

from circle.crypto.aead import open_sealed, seal


def envelope_ad(circle_id: str, epoch_id: str, kind: str) -> bytes:
    return f"circle/envelope/v1/{circle_id}/{epoch_id}/{kind}".encode()


def seal_envelope(key: bytes, circle_id: str, epoch_id: str, kind: str, payload: bytes) -> bytes:
    return seal(key, payload, envelope_ad(circle_id, epoch_id, kind))


def open_envelope(key: bytes, circle_id: str, epoch_id: str, kind: str, sealed: bytes) -> bytes:
    """Raises aead.SealError if the envelope is not authentic for this context."""
    return open_sealed(key, sealed, envelope_ad(circle_id, epoch_id, kind))
