"""Folder transport: a shared directory that carries sealed bundles.

Syncthing, a network share or a USB stick can move a circle this way. Each
device only ever adds files; it never rewrites or deletes one. A file's name
is the SHA-256 of its content (`<hex>.cbundle`), written under a temporary
name and renamed into place, so a reader never sees half a bundle and two
devices never collide. What is inside is exactly what TCP sessions carry, so
the same checks apply on the way in.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

SUFFIX = ".cbundle"
MAX_FILE_BYTES = 256 * 1024 * 1024


class FolderError(OSError):
    """The folder cannot be used (missing, unreadable, not writable)."""


class BundleFolder:
    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise FolderError(f"not a folder: {root}")
        self.root = root

    def names(self) -> list[str]:
        """Bundle files present, oldest first (ties by name), ignoring anything else."""
        entries = []
        with os.scandir(self.root) as listing:
            for entry in listing:
                if entry.name.endswith(SUFFIX) and len(entry.name) == 64 + len(SUFFIX) and entry.is_file():
                    entries.append((entry.stat().st_mtime_ns, entry.name))
        return [name for _, name in sorted(entries)]

    def read(self, name: str) -> bytes | None:
        """The bundle's bytes, or None if the file is oversized or does not match
        its name (a copy in progress, or tampering)."""
        path = self.root / name
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                return None
            data = path.read_bytes()
        except OSError:
            return None
        return data if hashlib.sha256(data).hexdigest() + SUFFIX == name else None

    def write(self, data: bytes) -> str:
        name = hashlib.sha256(data).hexdigest() + SUFFIX
        final = self.root / name
        if final.exists():
            return name
        temp = self.root / f".tmp-{secrets.token_hex(8)}"
        try:
            with open(temp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, final)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise FolderError(f"cannot write to {self.root}: {exc.strerror}") from None
        return name
