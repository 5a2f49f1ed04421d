"""A profile on disk: the device identity, unlocked by passphrase, and sealing.

The vault (device secret keys, the storage key and the display name) is sealed
with a key derived from the passphrase. Every other record is sealed with the
storage key, its associated data naming where it lives, so nothing a member
wrote or named reaches the disk in plaintext.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import platformdirs

from circle.crypto.aead import SealError, new_key, open_sealed, seal
from circle.crypto.identity import DeviceIdentity
from circle.crypto.passphrase import KdfParams, check_new_passphrase, check_passphrase, derive_kek
from circle.errors import ProfileExists, StoreDamaged, WrongPassphrase
from circle.store import Store

VAULT_AD = b"circle/vault/v1"


def default_home() -> Path:
    """`CIRCLE_HOME`, else the platform's user data directory."""
    env = os.environ.get("CIRCLE_HOME")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("circle", appauthor=False))


@dataclass(frozen=True)
class Profile:
    home: Path
    store: Store
    identity: DeviceIdentity
    name: str
    created_at: datetime
    _storage_key: bytes = field(repr=False)

    @property
    def member_id(self) -> str:
        # One device per member until devices can be linked (membership issue).
        return self.identity.device_id

    @staticmethod
    def exists(home: Path) -> bool:
        return Store.exists(home)

    @classmethod
    def create(
        cls, home: Path, name: str, passphrase: str, created_at: datetime
    ) -> Profile:
        check_new_passphrase(passphrase)
        if Store.exists(home):
            raise ProfileExists(f"a profile already exists at {home}")
        identity = DeviceIdentity.generate()
        storage_key = new_key()
        params = KdfParams.fresh()
        vault = {
            "device_secret": identity.to_secret_bytes().hex(),
            "storage_key": storage_key.hex(),
            "name": name,
            "created_at": created_at.isoformat(),
        }
        sealed = seal(derive_kek(passphrase, params), json.dumps(vault).encode(), VAULT_AD)
        store = Store.create(home)
        store.put_meta({"kdf": params.to_bytes(), "vault": sealed})
        return cls(home, store, identity, name, created_at, storage_key)

    @classmethod
    def unlock(cls, home: Path, passphrase: str) -> Profile:
        check_passphrase(passphrase)
        store = Store.open(home)
        kdf_raw, sealed = store.get_meta("kdf"), store.get_meta("vault")
        if kdf_raw is None or sealed is None:
            store.close()
            raise StoreDamaged(f"profile database {store.path} is damaged: its key vault is missing")
        try:
            params = KdfParams.from_bytes(kdf_raw)
            if not _kdf_cost_bounded(params):
                raise ValueError("key derivation cost out of range")
        except (ValueError, KeyError, TypeError) as exc:
            store.close()
            raise StoreDamaged(
                f"profile database {store.path} is damaged: key derivation settings unreadable"
            ) from exc
        try:
            vault = json.loads(open_sealed(derive_kek(passphrase, params), sealed, VAULT_AD))
        except SealError as exc:
            store.close()
            raise WrongPassphrase(f"wrong passphrase for the profile at {home}") from exc
        return cls(
            home,
            store,
            DeviceIdentity.from_secret_bytes(bytes.fromhex(vault["device_secret"])),
            vault["name"],
            datetime.fromisoformat(vault["created_at"]),
            bytes.fromhex(vault["storage_key"]),
        )

    def seal(self, plaintext: bytes, *where: str) -> bytes:
        return seal(self._storage_key, plaintext, _associated(where))

    def open(self, sealed: bytes, *where: str) -> bytes:
        try:
            return open_sealed(self._storage_key, sealed, _associated(where))
        except SealError as exc:
            raise StoreDamaged(
                f"profile database {self.store.path} is damaged: "
                f"a {where[0]} record failed its integrity check"
            ) from exc

    def close(self) -> None:
        self.store.close()


def _kdf_cost_bounded(params: KdfParams) -> bool:
    """Settings read from disk must not crash or stall the unlock if tampered.

    The caps sit far above today's defaults (64 MiB, 3 passes, 4 lanes).
    """
    return (
        all(type(v) is int for v in (params.memory_kib, params.iterations, params.lanes))
        and 1 <= params.lanes <= 64
        and 8 * params.lanes <= params.memory_kib <= 1024 * 1024
        and params.iterations <= 16
    )


def _associated(where: tuple[str, ...]) -> bytes:
    return ("circle/record/v1/" + "/".join(where)).encode()
