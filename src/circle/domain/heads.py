"""Signed heads: a device's signature over its actor's latest change.

Change hashes form a Merkle DAG, so one signature over an actor's newest
change vouches for that actor's whole chain (DESIGN.md, "Authenticate heads").

Wire form (120 bytes): actor (16) | seq (8, big-endian) | change hash (32) |
Ed25519 signature (64) over "circle/head/v1/<circle>/<actor>/<seq>/<hash>".
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from circle.crypto.identity import ACTOR_BYTES, DeviceIdentity, DevicePublic

SIZE = ACTOR_BYTES + 8 + 32 + 64


class HeadError(ValueError):
    """A signed head is malformed."""


def _message(circle_id: str, actor: bytes, seq: int, change_hash: bytes) -> bytes:
    return f"circle/head/v1/{circle_id}/{actor.hex()}/{seq}/{change_hash.hex()}".encode()


@dataclass(frozen=True)
class SignedHead:
    actor: bytes
    seq: int
    hash: bytes
    signature: bytes

    @classmethod
    def sign(cls, identity: DeviceIdentity, circle_id: str, actor: bytes, seq: int, change_hash: bytes) -> SignedHead:
        return cls(actor, seq, change_hash, identity.sign(_message(circle_id, actor, seq, change_hash)))

    def verify(self, circle_id: str, device: DevicePublic) -> bool:
        return device.verify(self.signature, _message(circle_id, self.actor, self.seq, self.hash))

    def encode(self) -> bytes:
        return self.actor + struct.pack(">Q", self.seq) + self.hash + self.signature

    @classmethod
    def decode(cls, raw: bytes) -> SignedHead:
        if len(raw) != SIZE:
            raise HeadError("signed head has the wrong size")
        (seq,) = struct.unpack(">Q", raw[ACTOR_BYTES : ACTOR_BYTES + 8])
        return cls(raw[:ACTOR_BYTES], seq, raw[ACTOR_BYTES + 8 : ACTOR_BYTES + 40], raw[ACTOR_BYTES + 40 :])
