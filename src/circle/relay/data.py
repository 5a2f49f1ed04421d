"""The relay's data directory: its X25519 static key, its registration token, its database.

The key and the token are made on first start, each in a file only its owner
may read (0600) and created exclusively, so two relays started at once on one
directory cannot end up with different keys.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from circle.errors import CircleError

KEY_FILE = "relay.key"
TOKEN_FILE = "token"
DB_FILE = "relay.db"


class RelayDataError(CircleError):
    """The data directory cannot be used; the message says why."""


@dataclass(frozen=True)
class RelayData:
    root: Path
    static: X25519PrivateKey
    token: str

    @property
    def db_path(self) -> Path:
        return self.root / DB_FILE

    @property
    def public_hex(self) -> str:
        return self.static.public_key().public_bytes(serialization.Encoding.Raw,
                                                     serialization.PublicFormat.Raw).hex()


def _read_or_create(path: Path, make: bytes) -> bytes:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    try:
        os.write(fd, make)
        os.fsync(fd)
    finally:
        os.close(fd)
    return make


def open_data(root: Path) -> RelayData:
    """The data directory at `root`, created (with a new key and token) if need be."""
    try:
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        raw = _read_or_create(root / KEY_FILE, X25519PrivateKey.generate().private_bytes_raw())
        token = _read_or_create(root / TOKEN_FILE, secrets.token_urlsafe(24).encode()).decode("ascii").strip()
    except (OSError, UnicodeError) as exc:
        why = getattr(exc, "strerror", None) or exc
        raise RelayDataError(f"cannot use the relay data directory {root}: {why}") from None
    if len(raw) != 32 or not token:
        raise RelayDataError(f"the relay data directory {root} is damaged ({KEY_FILE} or {TOKEN_FILE})")
    return RelayData(root, X25519PrivateKey.from_private_bytes(raw), token)


def existing_data(root: Path) -> RelayData:
    """The data directory at `root`; RelayDataError if no relay has run there."""
    if not (root / KEY_FILE).exists() or not (root / DB_FILE).exists():
        raise RelayDataError(f"no relay has run with the data directory {root} (start one with `circle relay`)")
    return open_data(root)
