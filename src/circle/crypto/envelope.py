"""Epoch envelopes: what travels between members, sealed with a circle epoch key.

AES-256-GCM (see aead.py) with associated data binding the circle id, the
epoch id and the payload kind, so a sealed bundle cannot be replayed into
another circle, another epoch or as another kind of payload.
"""

from __future__ import annotations

from circle.crypto.aead import open_sealed, seal


def envelope_ad(circle_id: str, epoch_id: str, kind: str, header: bytes) -> bytes:
    """Binds the context and every byte of the clear header before the ciphertext."""
    return f"circle/envelope/v1/{circle_id}/{epoch_id}/{kind}/".encode() + header


def seal_envelope(key: bytes, circle_id: str, epoch_id: str, kind: str, payload: bytes,
                  header: bytes = b"") -> bytes:
    return seal(key, payload, envelope_ad(circle_id, epoch_id, kind, header))


def open_envelope(key: bytes, circle_id: str, epoch_id: str, kind: str, sealed: bytes,
                  header: bytes = b"") -> bytes:
    """Raises aead.SealError if the envelope (or its header) is not authentic here."""
    return open_sealed(key, sealed, envelope_ad(circle_id, epoch_id, kind, header))
