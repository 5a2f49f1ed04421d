"""Lockboxes: a secret sealed to one device's X25519 key, with HPKE (RFC 9180).

Base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM, single-shot.
The `info` string binds the lockbox to its purpose (circle, epoch, device), so a
lockbox cannot be replayed into another circle, epoch or recipient.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
# Any fixed scalar will do: clamping makes it a multiple of the cofactor, so the
# exchange fails exactly for the small-order points every seal would fail on.
_PROBE = X25519PrivateKey.from_private_bytes(bytes(range(32)))


class LockboxError(Exception):
    """A lockbox did not open: not ours, tampered, or bound to another context."""


def lockbox_info(circle_id: str, epoch_id: str, device_id: str) -> bytes:
    return f"circle/lockbox/v1/{circle_id}/{epoch_id}/{device_id}".encode()


def can_seal_to(dh_pub: bytes) -> bool:
    """True if `dh_pub` is an X25519 key a lockbox can be sealed to: 32 bytes, not a
    small-order point (sealing to one fails, since the shared secret would be zero)."""
    try:
        _PROBE.exchange(X25519PublicKey.from_public_bytes(dh_pub))
    except ValueError:
        return False
    return True


def seal_to(dh_pub: bytes, secret: bytes, info: bytes) -> bytes:
    return _SUITE.encrypt(secret, X25519PublicKey.from_public_bytes(dh_pub), info=info)


def open_lockbox(dh_key: X25519PrivateKey, sealed: bytes, info: bytes) -> bytes:
    try:
        return _SUITE.decrypt(sealed, dh_key, info=info)
    except (InvalidTag, ValueError) as exc:
        raise LockboxError("lockbox did not open") from exc
