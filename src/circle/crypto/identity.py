"""A device's long-term keys and the ids derived from them.

Each device has an Ed25519 key (signs) and an X25519 key (receives lockboxes).
Ids are hashes of public keys, so anyone can check a claimed binding:
- device id: who a device is, everywhere;
- actor id: the Automerge actor a device uses in one circle, derived from the
  circle id and the device's signing key, so an op's actor names its device.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

ACTOR_BYTES = 16

_RAW = serialization.Encoding.Raw
_RAW_PUB = serialization.PublicFormat.Raw
_RAW_PRIV = serialization.PrivateFormat.Raw
_NO_ENC = serialization.NoEncryption()


def device_id_of(sign_pub: bytes) -> str:
    return hashlib.sha256(b"circle/device/v1" + sign_pub).hexdigest()[:32]


def actor_id_for(circle_id: str, sign_pub: bytes, incarnation: int = 0) -> bytes:
    """The actor a device writes as in a circle; a re-admitted device gets a new one."""
    digest = hashlib.sha256(
        b"circle/actor/v1" + bytes.fromhex(circle_id) + sign_pub + incarnation.to_bytes(4, "big")
    )
    return digest.digest()[:ACTOR_BYTES]


@dataclass(frozen=True)
class DevicePublic:
    sign_pub: bytes
    dh_pub: bytes

    @property
    def device_id(self) -> str:
        return device_id_of(self.sign_pub)

    def verify(self, signature: bytes, message: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.sign_pub).verify(signature, message)
        except Exception:
            return False
        return True


@dataclass(frozen=True)
class DeviceIdentity:
    sign_key: Ed25519PrivateKey
    dh_key: X25519PrivateKey

    @classmethod
    def generate(cls) -> DeviceIdentity:
        return cls(Ed25519PrivateKey.generate(), X25519PrivateKey.generate())

    @property
    def public(self) -> DevicePublic:
        return DevicePublic(
            sign_pub=self.sign_key.public_key().public_bytes(_RAW, _RAW_PUB),
            dh_pub=self.dh_key.public_key().public_bytes(_RAW, _RAW_PUB),
        )

    @property
    def device_id(self) -> str:
        return self.public.device_id

    def actor_id(self, circle_id: str, incarnation: int = 0) -> bytes:
        return actor_id_for(circle_id, self.public.sign_pub, incarnation)

    def sign(self, message: bytes) -> bytes:
        return self.sign_key.sign(message)

    def to_secret_bytes(self) -> bytes:
        return self.sign_key.private_bytes(_RAW, _RAW_PRIV, _NO_ENC) + self.dh_key.private_bytes(
            _RAW, _RAW_PRIV, _NO_ENC
        )

    @classmethod
    def from_secret_bytes(cls, raw: bytes) -> DeviceIdentity:
        if len(raw) != 64:
            raise ValueError("device secret must be 64 bytes")
        return cls(
            Ed25519PrivateKey.from_private_bytes(raw[:32]),
            X25519PrivateKey.from_private_bytes(raw[32:]),
        )
