"""The mailbox seam: the reconciliation in service/mailbox_sync.py works over any
carrier implementing sync/mailbox.Mailbox, here one held in memory (no files),
the way a relay will plug in next to the folder."""

from __future__ import annotations

import ast
import hashlib
import secrets
from datetime import datetime, timedelta, timezone

import pytest

import circle.service.mailbox_sync as mailbox_sync
import circle.sync.mailbox as mailbox_module
from circle.service import Service
from circle.service.mailbox_sync import FOLDER_STATE, MailboxSync
from circle.sync.mailbox import MailboxId, UnreadableBundle

PASS = "passphrase-mailbox"
START = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


class MemoryMailbox:
    """A second Mailbox: a dict of name -> bytes. `hidden` names are not delivered
    yet; `newest_first` lists them the other way round, as a carrier may."""

    def __init__(self, ident: str | None = None) -> None:
        self.ident = ident or secrets.token_hex(16)
        self.bundles: dict[str, bytes] = {}
        self.arrived: list[str] = []
        self.hidden: set[str] = set()
        self.newest_first = False
        self.cleaned_up_at: list[float] = []

    def clean_up(self, now: float) -> None:
        self.cleaned_up_at.append(now)

    def names(self) -> list[str]:
        listed = [name for name in self.arrived if name not in self.hidden]
        return listed[::-1] if self.newest_first else listed

    def read(self, name: str) -> bytes:
        data = self.bundles.get(name)
        if data is None or name in self.hidden:
            raise UnreadableBundle("is not here")
        if hashlib.sha256(data).hexdigest() != name:
            raise UnreadableBundle("does not match its name")
        return data

    def put(self, data: bytes) -> str:
        name = hashlib.sha256(data).hexdigest()
        if name not in self.bundles:
            self.bundles[name] = data
            self.arrived.append(name)
        return name

    def mailbox_id(self) -> MailboxId:
        return MailboxId(self.ident)

    def copy(self, ident: str | None = None) -> MemoryMailbox:
        twin = MemoryMailbox(ident or self.ident)
        twin.bundles, twin.arrived = dict(self.bundles), list(self.arrived)
        return twin


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def circle_of_three(tmp_path):
    clock = Clock()
    ana, ben, cat = (Service.create_profile(tmp_path / n.lower(), n, PASS, clock=clock) for n in ("Ana", "Ben", "Cat"))
    circle = ana.create_circle("Walkers")
    code = ana.invite(circle, uses=2)
    for newcomer in (ben, cat):
        newcomer.accept_welcome(code, ana.admit_request(newcomer.join_request(code)))
    yield ana, ben, cat, circle, clock
    for service in (ana, ben, cat):
        service.close()


def _bodies(service: Service, circle: str) -> set[str]:
    return {p.body for p in service.feed(circle)}


def test_two_devices_converge_through_a_mailbox_with_no_files(circle_of_three):
    ana, ben, _, circle, clock = circle_of_three
    box = MemoryMailbox()
    ana.post(circle, "from Ana")
    ben.post(circle, "from Ben")
    for service in (ana, ben, ana):
        clock.now += timedelta(minutes=5)
        MailboxSync(service).run(box)
    assert _bodies(ana, circle) == _bodies(ben, circle) == {"from Ana", "from Ben"}
    # The clean-up hook runs first, on the service's clock, once per run.
    assert box.cleaned_up_at == [(START + timedelta(minutes=m)).timestamp() for m in (5, 10, 15)]
    assert [MailboxSync(s).run(box).written for s in (ana, ben)] == [0, 0]
    # Service.sync_folder is the same run: any mailbox goes through it.
    ana.post(circle, "through sync_folder")
    assert ana.sync_folder(box).written == 1
    assert ben.sync_folder(box).applied >= 1 and "through sync_folder" in _bodies(ben, circle)


def _runs_after_posts(service: Service, circle: str, box: MemoryMailbox, bodies) -> list[set[str]]:
    """Post each body and run after each: the bundles each run left, in order."""
    runs = []
    for body in bodies:
        before = set(box.arrived)
        service.post(circle, body)
        MailboxSync(service).run(box)
        runs.append(set(box.arrived) - before)
    assert all(runs)
    return runs


BODIES = ["first walk", "second walk", "third walk"]


def test_bundles_listed_newest_first_all_apply_in_one_run(circle_of_three):
    ana, ben, _, circle, _ = circle_of_three
    box = MemoryMailbox()
    _runs_after_posts(ana, circle, box, BODIES)
    box.newest_first = True
    report = MailboxSync(ben).run(box)
    assert set(BODIES) <= _bodies(ben, circle)
    assert report.waiting == 0 and report.problems == ()


def test_a_bundle_delivered_before_what_it_needs_waits_across_restarts_until_applied(circle_of_three, tmp_path):
    ana, ben, _, circle, clock = circle_of_three
    box = MemoryMailbox()
    first, second, _ = _runs_after_posts(ana, circle, box, BODIES)
    ben.close()
    # The newest bundle arrives first, then the second, then the first.
    for still_hidden in (first | second, first, set()):
        box.hidden = still_hidden
        ben = Service.unlock(tmp_path / "ben", PASS, clock=clock)  # nothing kept in memory between runs
        try:
            report = MailboxSync(ben).run(box)
            if still_hidden:
                assert report.waiting >= 1 and "third walk" not in _bodies(ben, circle)
        finally:
            ben.close()
    ben = Service.unlock(tmp_path / "ben", PASS, clock=clock)
    try:
        assert set(BODIES) <= _bodies(ben, circle)
        assert MailboxSync(ben).run(box).waiting == 0
    finally:
        ben.close()


def test_what_was_written_is_remembered_per_mailbox(circle_of_three):
    ana, ben, cat, circle, _ = circle_of_three
    home, trip = MemoryMailbox(), MemoryMailbox()
    ana.post(circle, "before the trip")
    MailboxSync(ana).run(home)
    ana.post(circle, "on the trip")
    MailboxSync(ana).run(trip)
    ana.post(circle, "back home")
    MailboxSync(ana).run(home)
    # Keyed by the mailbox's id, not by the object: the same mailbox reached
    # again gets nothing twice, one that lost the last write gets it all again.
    assert MailboxSync(ana).run(home.copy()).written == 0
    assert MailboxSync(ana).run(MemoryMailbox(home.ident)).written >= 1
    # Ben only ever reads the home mailbox, Cat only the trip one.
    MailboxSync(ben).run(home)
    assert {"before the trip", "on the trip", "back home"} <= _bodies(ben, circle)
    ana.post(circle, "second trip")
    MailboxSync(ana).run(trip)
    MailboxSync(cat).run(trip)
    assert {"before the trip", "on the trip", "back home", "second trip"} <= _bodies(cat, circle)
    stored = dict(ana.profile.store.private_items(circle, FOLDER_STATE))
    assert set(stored) == {home.ident, trip.ident}
    assert all(b"vector" not in blob and b"files" not in blob for blob in stored.values())  # sealed


def test_a_damaged_bundle_is_reported_and_the_rest_still_applies(circle_of_three):
    ana, ben, _, circle, _ = circle_of_three
    box = MemoryMailbox()
    ana.post(circle, "genuine")
    MailboxSync(ana).run(box)
    damaged = "0" * 64
    box.bundles[damaged] = b"bytes that do not match the name"
    box.arrived.insert(0, damaged)
    garbage = box.put(b"named after itself, but no bundle")
    report = MailboxSync(ben).run(box)
    assert report.refused == 2
    assert {line.split(":")[0] for line in report.problems} == {damaged, garbage}
    assert "genuine" in _bodies(ben, circle)
    # The garbage can never become a bundle under its name: not reported again.
    # The damaged one may yet arrive whole: it is.
    again = MailboxSync(ben).run(box)
    assert [line.split(":")[0] for line in again.problems] == [damaged]


FILES_AND_SOCKETS = {"os", "pathlib", "io", "shutil", "tempfile", "socket", "asyncio", "stat",
                     "circle.sync.folder", "circle.sync.tcp", "circle.sync.framing"}


@pytest.mark.parametrize("module", [mailbox_sync, mailbox_module], ids=lambda m: m.__name__)
def test_the_seam_and_the_reconciliation_know_nothing_of_files_or_sockets(module):
    tree = ast.parse(open(module.__file__, encoding="utf-8").read())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id != "open", f"{module.__name__} opens a file"
    assert not imported & FILES_AND_SOCKETS, imported & FILES_AND_SOCKETS
