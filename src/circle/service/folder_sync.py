"""Syncing through a shared folder (`circle sync --folder DIR`).

A run reads every bundle file not yet seen, then writes one bundle per circle
with what the folder lacks. Two things are remembered in the profile, both as
sealed private items:
- "folder-seen": bundle names fully dealt with, whichever folder held them (a
  name is its content's hash, so the same name is the same bundle anywhere);
- "folder-state", one per circle and folder: what this device already wrote to
  that folder. It is keyed by the id in the folder's marker file rather than by
  the folder's path, because a USB stick mounts under different paths and two
  sticks can mount under the same one. It also lists the files of the last
  write: if one of them is gone (a wiped or different folder carrying a copied
  marker), the record is not trusted and everything is written again.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass

from circle.errors import NotFound
from circle.service.departure import leave_to_deliver, mark_delivered, may_send
from circle.service.exchange import BundleRejected, MissingKey, Received
from circle.sync.bundle import DELTA, BundleContent
from circle.sync.folder import MARKER, BundleFolder, UnreadableBundle
from circle.sync.messages import State

FOLDER_STATE = "folder-state"
FOLDER_SEEN = "folder-seen"


@dataclass(frozen=True)
class FolderReport:
    applied: int
    refused: int  # files named like bundles that are not usable: one line each in `problems`
    written: int
    waiting: int = 0  # bundles kept for a later run: a key or earlier changes not here yet
    other_circles: int = 0  # bundles of circles this device is not in
    problems: tuple[str, ...] = ()  # "<file name>: <why>", one per refused file
    notes: tuple[str, ...] = ()  # one line each: changes refused or set aside (restore.py)


@dataclass(frozen=True)
class _Written:
    """What this device wrote to one folder for one circle."""

    state: State
    epoch: str | None
    files: tuple[str, ...]


def _merge_sent(circle_id: str, state: State | None, received) -> State | None:
    """`state` plus what the senders of `received` bundles already carried."""
    if not received:
        return state
    vector = dict(state.vector) if state else {}
    actions = set(state.action_ids) if state else set()
    for result in received:
        for actor, seq in result.sender_vector.items():
            vector[actor] = max(vector.get(actor, 0), seq)
        actions |= result.sender_actions
    return State(circle_id, b"", vector, frozenset(actions))


class FolderMixin:
    def sync_folder(self, folder: BundleFolder) -> FolderReport:
        """Read every bundle we have not yet seen, then add one bundle per circle
        holding what we have that we never wrote to this folder. A bad file never
        stops the run: it is named in the report and the rest is still applied."""
        folder.remove_stale_temps(self.clock().timestamp())
        present = folder.names()
        reading = _Reading(self, folder)
        seen = set(self._private_names(FOLDER_SEEN))
        reading.run([name for name in present if name not in seen])
        # After reading: a folder we may not write to still gets read.
        folder_id = folder.folder_id()
        problems = list(reading.problems)
        if folder_id is None:
            # Still remembered, by path: the check of the last write's files
            # catches another folder mounted there.
            path = os.fsencode(folder.root.resolve())
            folder_id = hashlib.sha256(b"circle/folder-path/v1\0" + path).hexdigest()[:32]
            problems.append(f"{MARKER}: damaged; what was written is remembered by this folder's path instead")
        written, names = 0, set(present)
        for circle_id in self.profile.store.circle_ids():
            written += self._write_circle(folder, folder_id, names, circle_id, reading.received.get(circle_id, ()))
        return FolderReport(reading.applied, len(reading.problems), written,
                            len(reading.waiting), reading.other_circles, tuple(problems), tuple(reading.notes))

    def _write_circle(self, folder: BundleFolder, folder_id: str, present: set[str],
                      circle_id: str, received: list[Received]) -> int:
        circle = self.open_circle(circle_id)
        if not may_send(self, circle):
            return 0
        leaving = leave_to_deliver(self, circle)
        before = self._folder_written(circle_id, folder_id, present)
        last, announced = (before.state, before.epoch) if before else (None, None)
        last = _merge_sent(circle_id, last, received)
        files = []
        delta = self.delta_for(circle_id, None, last)
        if delta is not None:
            files.append(folder.write(delta[0]))
        epoch = circle.state.write_epoch
        if epoch != announced:
            # A new key: devices that missed its rotation could not open the
            # bundle above, so each also gets the log sealed to it alone.
            log_only = BundleContent(actions=tuple(a.wire for a in circle.actions.values()))
            for device in circle.state.active_devices():
                if device.id != self.profile.identity.device_id:
                    files.append(folder.write(self._seal_for(circle, device.id, DELTA, log_only)))
        for name in files:
            self._remember(FOLDER_SEEN, name)
        kept = tuple(files) if files else (before.files if before else ())
        self._save_folder_written(circle_id, folder_id, _Written(self.sync_state(circle_id), epoch, kept))
        if leaving is not None:
            mark_delivered(self, circle_id)  # the folder carries it to the others
        return len(files)

    def _private_names(self, kind: str) -> list[str]:
        return [name for name, _ in self.profile.store.private_items("", kind)]

    def _remember(self, kind: str, name: str) -> None:
        self.profile.store.put_private("", kind, name, b"")

    def _folder_written(self, circle_id: str, folder_id: str, present: set[str]) -> _Written | None:
        """What we last wrote to this folder for this circle; None if nothing, or if
        the files of that write are no longer all there."""
        for item_id, blob in self.profile.store.private_items(circle_id, FOLDER_STATE):
            if item_id != folder_id:
                continue
            record = json.loads(self.profile.open(blob, "private", circle_id, FOLDER_STATE, item_id))
            files = tuple(record.get("files", ()))
            if not set(files) <= present:
                return None
            vector = {bytes.fromhex(a): s for a, s in record["vector"].items()}
            return _Written(State(circle_id, b"", vector, frozenset(record["actions"])), record["epoch"], files)
        return None

    def _save_folder_written(self, circle_id: str, folder_id: str, written: _Written) -> None:
        record = {"vector": {a.hex(): s for a, s in written.state.vector.items()},
                  "actions": sorted(written.state.action_ids), "epoch": written.epoch,
                  "files": list(written.files)}
        sealed = self.profile.seal(json.dumps(record).encode(), "private", circle_id, FOLDER_STATE, folder_id)
        self.profile.store.put_private(circle_id, FOLDER_STATE, folder_id, sealed)


class _Reading:
    """One pass over a folder's unseen bundle files, retried while any applies:
    a bundle may hold the key, or the earlier changes, another one needs."""

    def __init__(self, service: FolderMixin, folder: BundleFolder) -> None:
        self.service, self.folder = service, folder
        self.applied = self.other_circles = 0
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.received: dict[str, list[Received]] = {}
        self.waiting: list[str] = []

    def run(self, pending: list[str]) -> None:
        progress = True
        while pending and progress:
            progress, self.waiting = False, []
            for name in pending:
                progress |= self._one(name)
            pending = self.waiting

    def _one(self, name: str) -> bool:
        """Read one file; True if it added anything to the circle."""
        service = self.service
        try:
            result = service.receive_bundle(self.folder.read(name))
        except UnreadableBundle as exc:
            # Not remembered: a copy still under way may be whole next time.
            self.problems.append(f"{name}: {exc}")
            return False
        except NotFound:
            self.other_circles += 1
            service._remember(FOLDER_SEEN, name)
            return False
        except MissingKey:
            self.waiting.append(name)
            return False
        except BundleRejected as exc:
            # Its content is its name: it can never become acceptable.
            self.problems.append(f"{name}: {exc}")
            service._remember(FOLDER_SEEN, name)
            return False
        self.applied += result.changes_applied + result.actions_added
        self.notes += result.notes
        self.received.setdefault(result.circle_id, []).append(result)
        if result.held_back:
            self.waiting.append(name)  # read again after the others, and on later runs
        else:
            service._remember(FOLDER_SEEN, name)
        return bool(result.changes_applied or result.actions_added)
