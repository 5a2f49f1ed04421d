"""Reconciling the profile with a store-and-forward mailbox (sync/mailbox.py).

`circle sync --folder DIR` is one; any carrier implementing Mailbox gets the
same run: read every bundle not yet seen, then write one bundle per circle
with what the mailbox lacks. Nothing here knows of files or sockets.

Two things are remembered in the profile, both as sealed private items (the
kinds keep their folder names: profiles already hold them):
- "folder-seen": bundle names fully dealt with, whichever mailbox held them (a
  name is fixed by its content, so the same name is the same bundle anywhere);
- "folder-state", one per circle and mailbox: what this device already wrote to
  that mailbox. It is keyed by the mailbox's own id rather than by where it is
  reached, because a USB stick mounts under different paths and two sticks can
  mount under the same one. It also lists the bundles of the last write: if one
  of them is gone (a wiped or different folder carrying a copied marker), the
  record is not trusted and everything is written again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from circle.errors import NotFound
from circle.service.departure import leave_to_deliver, mark_delivered, may_send
from circle.service.exchange import Received
from circle.service.verify import BundleRejected, MissingKey
from circle.sync.bundle import DELTA, BundleContent
from circle.sync.mailbox import Mailbox, UnreadableBundle
from circle.sync.messages import State

FOLDER_STATE = "folder-state"
FOLDER_SEEN = "folder-seen"


@dataclass(frozen=True)
class MailboxReport:
    applied: int
    refused: int  # bundles listed that are not usable: one line each in `problems`
    written: int
    waiting: int = 0  # bundles kept for a later run: a key or earlier changes not here yet
    other_circles: int = 0  # bundles of circles this device is not in
    problems: tuple[str, ...] = ()  # "<name>: <why>", one per refused bundle, then the mailbox's own
    notes: tuple[str, ...] = ()  # one line each: changes refused or set aside (restore.py)


@dataclass(frozen=True)
class _Written:
    """What this device wrote to one mailbox for one circle."""

    state: State
    epoch: str | None
    names: tuple[str, ...]


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


class MailboxSync:
    """One profile's reconciliation with mailboxes. Uses of `service`: clock,
    profile (store, seal, open, identity), open_circle, delta_for, _seal_for,
    sync_state, receive_bundle."""

    def __init__(self, service) -> None:
        self.service = service

    def run(self, mailbox: Mailbox, circles: Iterable[str] | None = None) -> MailboxReport:
        """Read every bundle we have not yet seen, then add one bundle per circle
        (each of `circles`, or every circle held) holding what we have that we never
        wrote to this mailbox. A bad bundle never stops the run: it is named in the
        report and the rest is still applied. (A relay keeps one mailbox per circle.)"""
        mailbox.clean_up(self.service.clock().timestamp())
        present = mailbox.names()
        reading = _Reading(self, mailbox)
        seen = set(self._seen())
        reading.run([name for name in present if name not in seen])
        mailbox_id = mailbox.mailbox_id()
        problems = list(reading.problems)
        if mailbox_id.problem:
            problems.append(mailbox_id.problem)
        written, names = 0, set(present)
        held = self.service.profile.store.circle_ids()
        for circle_id in held if circles is None else [c for c in circles if c in held]:
            written += self._write_circle(mailbox, mailbox_id.value, names, circle_id,
                                          reading.received.get(circle_id, []))
        return MailboxReport(reading.applied, len(reading.problems), written,
                             len(reading.waiting), reading.other_circles, tuple(problems), tuple(reading.notes))

    def _write_circle(self, mailbox: Mailbox, mailbox_id: str, present: set[str],
                      circle_id: str, received: list[Received]) -> int:
        service = self.service
        circle = service.open_circle(circle_id)
        if not may_send(service.repo, circle):
            return 0
        leaving = leave_to_deliver(service.repo, circle)
        before = self._written(circle_id, mailbox_id, present)
        last, announced = (before.state, before.epoch) if before else (None, None)
        last = _merge_sent(circle_id, last, received)
        names = []
        delta = service.delta_for(circle_id, None, last)
        if delta is not None:
            names.append(mailbox.put(delta[0]))
        epoch = circle.state.write_epoch
        if epoch != announced:
            # A new key: devices that missed its rotation could not open the
            # bundle above, so each also gets the log sealed to it alone.
            log_only = BundleContent(actions=tuple(a.wire for a in circle.actions.values()))
            for device in circle.state.active_devices():
                if device.id != service.profile.identity.device_id:
                    names.append(mailbox.put(service.exchange.seal_for(circle, device.id, DELTA, log_only)))
        for name in names:
            self.remember_seen(name)
        kept = tuple(names) if names else (before.names if before else ())
        self._save_written(circle_id, mailbox_id, _Written(service.sync_state(circle_id), epoch, kept))
        if leaving is not None:
            mark_delivered(service.repo, circle_id)  # the mailbox carries it to the others
        return len(names)

    def _seen(self) -> list[str]:
        return [name for name, _ in self.service.profile.store.private_items("", FOLDER_SEEN)]

    def remember_seen(self, name: str) -> None:
        self.service.profile.store.put_private("", FOLDER_SEEN, name, b"")

    def _written(self, circle_id: str, mailbox_id: str, present: set[str]) -> _Written | None:
        """What we last wrote to this mailbox for this circle; None if nothing, or if
        the bundles of that write are no longer all there."""
        profile = self.service.profile
        for item_id, blob in profile.store.private_items(circle_id, FOLDER_STATE):
            if item_id != mailbox_id:
                continue
            record = json.loads(profile.open(blob, "private", circle_id, FOLDER_STATE, item_id))
            names = tuple(record.get("files", ()))
            if not set(names) <= present:
                return None
            vector = {bytes.fromhex(a): s for a, s in record["vector"].items()}
            return _Written(State(circle_id, b"", vector, frozenset(record["actions"])), record["epoch"], names)
        return None

    def _save_written(self, circle_id: str, mailbox_id: str, written: _Written) -> None:
        # "files": the key profiles written by the folder-only version already hold.
        record = {"vector": {a.hex(): s for a, s in written.state.vector.items()},
                  "actions": sorted(written.state.action_ids), "epoch": written.epoch,
                  "files": list(written.names)}
        profile = self.service.profile
        sealed = profile.seal(json.dumps(record).encode(), "private", circle_id, FOLDER_STATE, mailbox_id)
        profile.store.put_private(circle_id, FOLDER_STATE, mailbox_id, sealed)


class _Reading:
    """One pass over a mailbox's unseen bundles, retried while any applies: a
    bundle may hold the key, or the earlier changes, another one needs."""

    def __init__(self, sync: MailboxSync, mailbox: Mailbox) -> None:
        self.sync, self.mailbox = sync, mailbox
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
        """Read one bundle; True if it added anything to the circle."""
        try:
            result = self.sync.service.receive_bundle(self.mailbox.read(name))
        except UnreadableBundle as exc:
            # Not remembered: a copy still under way may be whole next time.
            self.problems.append(f"{name}: {exc}")
            return False
        except NotFound:
            self.other_circles += 1
            self.sync.remember_seen(name)
            return False
        except MissingKey:
            self.waiting.append(name)
            return False
        except BundleRejected as exc:
            # Its content is its name: it can never become acceptable.
            self.problems.append(f"{name}: {exc}")
            self.sync.remember_seen(name)
            return False
        self.applied += result.changes_applied + result.actions_added
        self.notes += result.notes
        self.received.setdefault(result.circle_id, []).append(result)
        if result.held_back:
            self.waiting.append(name)  # read again after the others, and on later runs
        else:
            self.sync.remember_seen(name)
        return bool(result.changes_applied or result.actions_added)
