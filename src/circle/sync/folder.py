"""Folder transport: a shared directory as a mailbox (sync/mailbox.py) for sealed bundles.

Syncthing, a network share or a USB stick can move a circle this way. Each
device only ever adds files; it never rewrites or deletes one. A file's name
is the SHA-256 of its content (`<hex>.cbundle`), written under a temporary
name and renamed into place, so a reader never sees half a bundle and two
devices never collide. What is inside is exactly what TCP sessions carry, so
the same checks apply on the way in.

The temporary name starts with `.syncthing.`: Syncthing never indexes such a
name (it takes it for one of its own partial downloads), so a carrier never
copies half a bundle either. A write cut short leaves one behind; the next
run removes those older than STALE_TEMP_SECONDS.

The folder names itself in a small marker file (MARKER) holding a random id,
so a device can remember per folder what it already wrote there.

Everything about files lives here; service/mailbox_sync.py decides what to read
and write and sees only the Mailbox interface.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import stat
from pathlib import Path

from circle.sync.mailbox import MailboxError, MailboxId, UnreadableBundle

SUFFIX = ".cbundle"
MAX_FILE_BYTES = 256 * 1024 * 1024
MARKER = ".circle-folder"
# Syncthing skips every name starting with ".syncthing." or "~syncthing~"
# (lib/fs/tempname.go, IsTemporary). "circle-" keeps ours apart from the names
# Syncthing itself uses, which are ".syncthing.<file name>.tmp".
TEMP_PREFIX = ".syncthing.circle-"
TEMP_SUFFIX = ".tmp"
# A write takes milliseconds: a temporary file this old was left by a crash.
STALE_TEMP_SECONDS = 3600
_BUNDLE_NAME = re.compile(r"[0-9a-f]{64}" + re.escape(SUFFIX))
_MARKER_TEXT = re.compile(r"circle-folder 1 ([0-9a-f]{32})\n")


class FolderError(MailboxError):
    """The folder cannot be used (missing, unreadable, not writable)."""


class FolderMailbox:
    """A directory of `<sha256>.cbundle` files: the Mailbox the folder transport uses."""

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise FolderError(f"not a folder: {root}")
        self.root = root

    def names(self) -> list[str]:
        """Entries named like a bundle, oldest first (ties by name), ignoring anything
        else. An entry may still turn out not to be a readable bundle file."""
        entries = []
        try:
            with os.scandir(self.root) as listing:
                for entry in listing:
                    if _BUNDLE_NAME.fullmatch(entry.name):
                        try:
                            mtime = entry.stat().st_mtime_ns
                        except OSError:
                            mtime = 0  # reported when read
                        entries.append((mtime, entry.name))
        except OSError as exc:
            raise FolderError(f"cannot list {self.root}: {exc.strerror}") from None
        return [name for _, name in sorted(entries)]

    def read(self, name: str) -> bytes:
        """The bundle's bytes. Raises UnreadableBundle if the entry is not a regular
        file, cannot be read, is oversized or does not match its name (a copy
        still in progress, or tampering)."""
        path = self.root / name
        try:
            info = path.stat()
            if not stat.S_ISREG(info.st_mode):
                raise UnreadableBundle("is not a regular file")
            if info.st_size > MAX_FILE_BYTES:
                raise UnreadableBundle(f"is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
            data = path.read_bytes()
        except OSError as exc:
            raise UnreadableBundle(f"cannot be read ({exc.strerror})") from None
        if hashlib.sha256(data).hexdigest() + SUFFIX != name:
            raise UnreadableBundle("does not match its name (damaged, or still being copied)")
        return data

    def put(self, data: bytes) -> str:
        name = hashlib.sha256(data).hexdigest() + SUFFIX
        final = self.root / name
        if final.exists():
            return name
        temp = self._write_temp(data)
        try:
            os.replace(temp, final)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise FolderError(f"cannot write to {self.root}: {exc.strerror}") from None
        return name

    def _write_temp(self, data: bytes) -> Path:
        temp = self.root / f"{TEMP_PREFIX}{secrets.token_hex(8)}{TEMP_SUFFIX}"
        try:
            with open(temp, "xb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise FolderError(f"cannot write to {self.root}: {exc.strerror}") from None
        return temp

    def clean_up(self, now: float) -> None:
        """Remove our temporary files last modified more than STALE_TEMP_SECONDS
        before `now` (Unix seconds); fresher ones may be another writer's."""
        try:
            listing = list(os.scandir(self.root))
        except OSError as exc:
            raise FolderError(f"cannot list {self.root}: {exc.strerror}") from None
        for entry in listing:
            if not (entry.name.startswith(TEMP_PREFIX) and entry.name.endswith(TEMP_SUFFIX)):
                continue
            try:
                if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < now - STALE_TEMP_SECONDS:
                    os.unlink(entry.path)
            except OSError:
                continue  # not worth failing a sync over: Syncthing ages these out as well

    def mailbox_id(self) -> MailboxId:
        """The id in the folder's marker, creating the marker if there is none. A
        damaged marker is left as it is and the folder is named by its path instead:
        what was last written is only trusted while its files are all there, which
        catches another folder mounted at that path."""
        marker_id = self._marker_id()
        if marker_id is not None:
            return MailboxId(marker_id)
        path = os.fsencode(self.root.resolve())
        return MailboxId(hashlib.sha256(b"circle/folder-path/v1\0" + path).hexdigest()[:32],
                         f"{MARKER}: damaged; what was written is remembered by this folder's path instead")

    def _marker_id(self) -> str | None:
        """The id this folder's marker holds, creating the marker if there is none;
        None if the marker is damaged."""
        path = self.root / MARKER
        try:
            text = path.read_text("ascii")
        except FileNotFoundError:
            text = self._create_marker(path)
        except (OSError, UnicodeError):
            return None
        match = _MARKER_TEXT.fullmatch(text)
        return match.group(1) if match else None

    def _create_marker(self, path: Path) -> str:
        text = f"circle-folder 1 {secrets.token_hex(16)}\n"
        temp = self._write_temp(text.encode("ascii"))
        try:
            # A hard link never replaces a marker another device or process made
            # meanwhile; filesystems without links (FAT) get a plain rename.
            try:
                os.link(temp, path)
            except FileExistsError:
                pass
            except OSError:
                if not path.exists():
                    os.replace(temp, path)
        except OSError as exc:
            raise FolderError(f"cannot write to {self.root}: {exc.strerror}") from None
        finally:
            temp.unlink(missing_ok=True)
        try:
            return path.read_text("ascii")
        except (OSError, UnicodeError):
            return ""


# The name cli.py and the folder tests know this class by.
BundleFolder = FolderMailbox
