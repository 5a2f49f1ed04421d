"""The key a circle's members show a relay: derived from the circle's epoch key.

Everyone who holds an epoch key (every member's device of that epoch) derives
the same Ed25519 key from it; its public half is what the organizer registers
at the relay. A removed member never gets the next epoch key, so once the
organizer registers the next epoch's access key they can no longer store
anything there. HKDF-SHA256 to an Ed25519 seed, as invite_code.invite_key does.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def relay_access_key(epoch_key: bytes, circle_id: str, epoch_id: str) -> Ed25519PrivateKey:
    seed = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=f"circle/relay-access/v1/{circle_id}/{epoch_id}".encode(),
    ).derive(epoch_key)
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
