"""Editing a draft in $EDITOR without leaving plaintext on disk (opt-in).

The draft goes to a file created with mode 0600 (mkstemp) in a memory-backed
directory (/dev/shm, or $XDG_RUNTIME_DIR which is a tmpfs on systemd systems)
and is deleted as soon as the editor exits. If no such directory exists we
refuse rather than write the draft to a disk-backed /tmp. The editor itself may
still keep swap or backup files (vim's .swp, emacs's ~ files) where it likes:
that is outside our control, hence the feature is off unless the user turns it
on (settings.json "external_editor": true, or CIRCLE_EXTERNAL_EDITOR=1).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from circle.errors import InvalidInput


def memory_dirs(environ: Mapping[str, str] = os.environ) -> list[Path]:
    candidates = [Path("/dev/shm")]
    if environ.get("XDG_RUNTIME_DIR"):
        candidates.append(Path(environ["XDG_RUNTIME_DIR"]))
    return candidates


def _usable(directory: Path) -> bool:
    return directory.is_dir() and os.access(directory, os.W_OK | os.X_OK)


def edit_text(
    text: str,
    *,
    environ: Mapping[str, str] = os.environ,
    directories: Sequence[Path] | None = None,
    run: Callable[[list[str]], object] = lambda argv: subprocess.run(argv, check=False),
) -> str:
    """Open `text` in $VISUAL/$EDITOR and return what the user saved."""
    command = environ.get("VISUAL") or environ.get("EDITOR")
    if not command:
        raise InvalidInput("set $EDITOR (or $VISUAL) to edit in an external editor")
    directory = next((d for d in (directories or memory_dirs(environ)) if _usable(d)), None)
    if directory is None:
        raise InvalidInput("no memory-backed temporary directory (/dev/shm): not writing your draft to disk")
    fd, name = tempfile.mkstemp(prefix="circle-draft-", suffix=".md", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        run([*shlex.split(command), name])
        with open(name, encoding="utf-8") as handle:
            return handle.read()
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
