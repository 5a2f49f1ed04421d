"""The seam for store-and-forward carriers: a place bundles are left in and picked up from.

A shared folder (Syncthing, a USB stick; sync/folder.py) is one; a blind relay
(sync/relay_client.py) is another. The reconciliation over any of them lives in
service/mailbox_sync.py and sees only this interface.

What a carrier promises:
- a bundle's name is fixed by its content (the folder uses its SHA-256), so a
  name read once never needs reading again, from any mailbox;
- `put` is atomic: a reader sees the whole bundle under its name or nothing;
- nothing is rewritten: a name, once listed, keeps its bytes.
What it carries are sealed bundles exactly as TCP sessions carry them, so the
same checks apply on the way in and the carrier learns nothing from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class MailboxError(OSError):
    """The mailbox cannot be used at all (missing, unreachable, not writable)."""


class UnreadableBundle(Exception):
    """A listed name whose bytes cannot be had or do not match it; `str()` says why."""


@dataclass(frozen=True)
class MailboxId:
    """How a mailbox names itself, so a device can remember per mailbox what it
    wrote there. `problem` is one line for the report when `value` is a fallback."""

    value: str
    problem: str | None = None


class Mailbox(Protocol):
    def clean_up(self, now: float) -> None:
        """Drop leftovers of this carrier's own interrupted writes older than it
        allows, given `now` in Unix seconds. Called before anything is read."""
        ...

    def names(self) -> list[str]:
        """The names of the bundles present, in the order to read them. A name may
        still turn out unreadable. Raises MailboxError."""
        ...

    def read(self, name: str) -> bytes:
        """The bundle's bytes. Raises UnreadableBundle (perhaps whole next time)."""
        ...

    def put(self, data: bytes) -> str:
        """Leave a bundle, atomically; its name. Already there: nothing is written.
        Raises MailboxError."""
        ...

    def mailbox_id(self) -> MailboxId:
        """This mailbox's stable id, unique across carriers. Called after reading,
        so a mailbox this device may not write to is still read. Raises MailboxError."""
        ...
