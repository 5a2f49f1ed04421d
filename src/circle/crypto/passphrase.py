"""Passphrase -> key-encryption key, with Argon2id.

Parameters follow RFC 9106's second recommended option (64 MiB, 3 passes,
4 lanes), which is above OWASP's current minimum (19 MiB, 2 passes, 1 lane).
They are stored beside the salt, so a profile created today still opens after
the defaults are raised.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass

from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from circle.errors import InvalidInput

MIN_PASSPHRASE_CHARS = 8


@dataclass(frozen=True)
class KdfParams:
    salt: bytes
    memory_kib: int = 65536
    iterations: int = 3
    lanes: int = 4

    @classmethod
    def fresh(cls) -> KdfParams:
        return cls(salt=os.urandom(16))

    def to_bytes(self) -> bytes:
        fields = asdict(self) | {"salt": self.salt.hex(), "alg": "argon2id"}
        return json.dumps(fields, sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> KdfParams:
        fields = json.loads(raw)
        if fields.pop("alg") != "argon2id":
            raise ValueError("unknown key derivation")
        params = cls(salt=bytes.fromhex(fields.pop("salt")), **fields)
        if params.memory_kib < 19456 or params.iterations < 2:
            raise ValueError("key derivation parameters below the floor")
        return params


def check_passphrase(passphrase: str) -> None:
    """Raises InvalidInput if `passphrase` cannot be encoded: a lone surrogate, which
    Python makes from bytes that are not UTF-8 (an environment variable, argv)."""
    if any("\ud800" <= ch <= "\udfff" for ch in passphrase):
        raise InvalidInput("the passphrase is not valid UTF-8 text")


def check_new_passphrase(passphrase: str) -> None:
    check_passphrase(passphrase)
    if len(passphrase) < MIN_PASSPHRASE_CHARS:
        raise InvalidInput(
            f"passphrase too short: use at least {MIN_PASSPHRASE_CHARS} characters"
        )


def derive_kek(passphrase: str, params: KdfParams) -> bytes:
    kdf = Argon2id(
        salt=params.salt,
        length=32,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_kib,
    )
    return kdf.derive(passphrase.encode("utf-8"))
