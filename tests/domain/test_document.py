"""The circle document's plumbing: applying, loading, forking, and what it promises.

Real Automerge documents and real device keys throughout. Covers incremental,
order-independent `apply_changes`, snapshot + changes loading, `changes_since`,
`fork_as`, recurrence of events, reference resolution, and the service's
compaction of its change log on a real SQLite file.
"""

from __future__ import annotations

import calendar
import random
import secrets
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import automerge.core as am
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circle import service as service_module
from circle.crypto.identity import DeviceIdentity
from circle.domain import views
from circle.domain.document import CircleDocument
from circle.domain.opids import op_actor
from circle.domain.recurrence import next_occurrence
from circle.domain.refs import resolve
from circle.errors import Ambiguous, NotFound
from circle.service import Service
from circle.store.database import DB_FILENAME

PASSPHRASE = "correct horse battery staple"
T0 = datetime(2024, 1, 1, 10, 0, tzinfo=timezone.utc)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def roster_of(circle_id: str, *keys: DeviceIdentity) -> views.Roster:
    """The roster governance yields once these devices are admitted (actor -> member)."""
    return views.Roster({key.actor_id(circle_id): key.device_id for key in keys}, {})


def everything(document: CircleDocument, roster: views.Roster) -> tuple:
    """All the views of a document, for comparing replicas."""
    organizers = frozenset(roster.member_by_actor.values())
    return (
        views.read_info(document, roster, organizers),
        views.read_names(document, roster),
        views.read_posts(document, roster),
        views.read_checkins(document, roster),
        views.read_events(document, roster),
    )


class TwoWriters:
    """Ana and Bo, each on their own replica, writing interleaved changes."""

    def __init__(self) -> None:
        self.circle_id = secrets.token_hex(16)
        self.ana_key, self.bo_key = DeviceIdentity.generate(), DeviceIdentity.generate()
        self.ana, _ = CircleDocument.create(
            self.circle_id, self.ana_key.actor_id(self.circle_id), name="Walkers", purpose="", created_at=T0
        )
        self.ana.introduce(self.ana_key.device_id, "Ana", T0)
        self.bo = self.ana.fork_as(self.bo_key.actor_id(self.circle_id))
        self.sync(self.bo.introduce(self.bo_key.device_id, "Bo", at(1)))
        self.roster = roster_of(self.circle_id, self.ana_key, self.bo_key)

    def seen(self, document: CircleDocument) -> tuple:
        return everything(document, self.roster)

    def sync(self, changes: list[bytes]) -> None:
        self.ana.apply_changes(changes)
        self.bo.apply_changes(changes)

    def write_some(self, rounds: int = 6) -> None:
        for i in range(rounds):
            self.sync(self.ana.add_post(f"a{i}", f"Ana says {i}", at(10 + i)))
            self.sync(self.bo.add_post(f"b{i}", f"Bo replies {i}", at(10 + i), reply_to=f"a{i}"))
            self.sync(self.bo.set_reaction(f"a{i}", "hug", self.bo_key.device_id, True))
        # Concurrent tails: neither has seen the other's last change.
        a_tail = self.ana.add_checkin("ca", 3, at(30), note="ok")
        b_tail = self.bo.add_event("eb", "Walk", at(60), at(31), repeat="weekly")
        self.sync(a_tail + b_tail)

    def fresh_replica(self) -> CircleDocument:
        """A device that has nothing yet (not even the genesis change)."""
        return CircleDocument(self.circle_id, am.Document(actor_id=secrets.token_bytes(16)))


@pytest.fixture
def pair() -> TwoWriters:
    writers = TwoWriters()
    writers.write_some()
    return writers


# -- apply_changes --------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_changes_applied_one_by_one_in_any_order_reach_the_merged_heads(pair: TwoWriters, seed):
    """Delivery order does not matter: shuffled, one change per call, the replica ends
    exactly where a full merge of both writers ends."""
    merged = pair.ana.doc.fork()
    merged.merge(pair.bo.doc)
    changes = pair.ana.changes_since([])
    random.Random(seed).shuffle(changes)
    replica = pair.fresh_replica()
    for change in changes:
        replica.apply_changes([change])
    assert sorted(replica.heads()) == sorted(merged.get_heads()) == sorted(pair.bo.heads())
    assert pair.seen(replica) == pair.seen(pair.ana)


def test_changes_whose_dependencies_are_missing_wait_until_the_gap_is_filled(pair: TwoWriters):
    """A gap holds back everything after it; filling it later applies the rest."""
    changes = pair.ana.changes_since([])
    gap = len(changes) // 2
    replica = pair.fresh_replica()
    replica.apply_changes(changes[:gap] + changes[gap + 1 :])
    partial_posts = len(pair.seen(replica)[2])
    assert sorted(replica.heads()) != sorted(pair.ana.heads())
    assert partial_posts < len(pair.seen(pair.ana)[2])

    replica.apply_changes([changes[gap]])
    assert sorted(replica.heads()) == sorted(pair.ana.heads())
    assert pair.seen(replica) == pair.seen(pair.ana)


def test_apply_changes_updates_the_same_document_in_place_and_keeps_the_actor(pair: TwoWriters):
    """Incremental: no reload, no new document object, and local writes still come
    from this device's actor."""
    cy_key = DeviceIdentity.generate()
    cy_actor = cy_key.actor_id(pair.circle_id)
    cy = CircleDocument(pair.circle_id, am.Document(actor_id=cy_actor))
    inner = cy.doc
    for change in pair.ana.changes_since([]):
        cy.apply_changes([change])
        assert cy.doc is inner
    assert cy.doc.get_actor() == cy_actor
    cy.introduce(cy_key.device_id, "Cy", at(40))
    cy.add_post("c0", "hello", at(41))
    posts = cy.doc.get(am.ROOT, "posts")[1]
    assert op_actor(cy.doc.get(posts, "c0")[1]) == cy_actor


def test_applying_changes_twice_changes_nothing(pair: TwoWriters):
    """Re-delivered changes (a retry, two peers forwarding) are harmless."""
    before = sorted(pair.ana.heads()), pair.seen(pair.ana)
    pair.ana.apply_changes(pair.bo.changes_since([]))
    pair.ana.apply_changes(pair.ana.changes_since([]))
    assert (sorted(pair.ana.heads()), pair.seen(pair.ana)) == before


# -- load, changes_since, fork_as ----------------------------------------------------


def test_load_of_snapshot_plus_later_changes_equals_the_live_document(pair: TwoWriters):
    """What the service does on open: the last snapshot, then the stored changes after it."""
    middle = pair.ana.heads()
    snapshot = pair.ana.save()
    pair.sync(pair.ana.add_post("late", "after the snapshot", at(50)))
    pair.sync(pair.bo.set_reaction("late", "heart", pair.bo_key.device_id, True))
    later = pair.ana.changes_since(middle)
    assert len(later) == 2

    actor = pair.ana_key.actor_id(pair.circle_id)
    loaded = CircleDocument.load(pair.circle_id, actor, snapshot, later)
    assert sorted(loaded.heads()) == sorted(pair.ana.heads())
    assert pair.seen(loaded) == pair.seen(pair.ana)
    assert loaded.doc.get_actor() == actor


def test_load_tolerates_changes_the_snapshot_already_holds(pair: TwoWriters):
    """Compaction can race a writer: a change both in the snapshot and the log loads once."""
    everything_so_far = pair.ana.changes_since([])
    loaded = CircleDocument.load(pair.circle_id, b"\x01" * 16, pair.ana.save(), everything_so_far[-3:])
    assert sorted(loaded.heads()) == sorted(pair.ana.heads())
    assert pair.seen(loaded) == pair.seen(pair.ana)


def test_changes_since_returns_exactly_what_came_after(pair: TwoWriters):
    """Catch-up sends changes_since(their heads): nothing more, nothing less."""
    assert pair.ana.changes_since(pair.ana.heads()) == []
    all_changes = pair.ana.changes_since([])
    assert len(all_changes) == len(set(all_changes)) == len(pair.ana.doc.get_changes([]))

    before = pair.ana.heads()
    returned = pair.ana.add_post("x", "one more", at(70))
    returned += pair.ana.edit_post("x", "one more, edited", at(71))
    assert pair.ana.changes_since(before) == returned and len(returned) == 2

    behind = pair.fresh_replica()
    behind.apply_changes(all_changes)
    behind.apply_changes(pair.ana.changes_since(behind.heads()))
    assert sorted(behind.heads()) == sorted(pair.ana.heads())


def test_fork_as_writes_as_the_new_actor_and_leaves_the_original_alone(pair: TwoWriters):
    """A fork is another device's replica: its own actor, its own history from here."""
    original_actor = pair.ana.doc.get_actor()
    new_actor = secrets.token_bytes(16)
    fork = pair.ana.fork_as(new_actor)
    assert sorted(fork.heads()) == sorted(pair.ana.heads())
    fork.add_post("f", "from the fork", at(80))

    posts = fork.doc.get(am.ROOT, "posts")[1]
    assert op_actor(fork.doc.get(posts, "f")[1]) == new_actor
    assert pair.ana.doc.get_actor() == original_actor
    assert pair.ana.doc.get(pair.ana.doc.get(am.ROOT, "posts")[1], "f") is None


def test_concurrent_first_reactions_of_one_kind_both_count(pair: TwoWriters):
    """Ana and Bo both give the first 'hug' to a post while offline. Neither reaction may
    be lost when they sync (a per-kind map created twice would keep only one)."""
    heads_a, heads_b = pair.ana.heads(), pair.bo.heads()
    pair.ana.set_reaction("b0", "hug", pair.ana_key.device_id, True)
    pair.bo.set_reaction("b0", "hug", pair.bo_key.device_id, True)
    from_ana, from_bo = pair.ana.changes_since(heads_a), pair.bo.changes_since(heads_b)
    pair.ana.apply_changes(from_bo)
    pair.bo.apply_changes(from_ana)
    for replica in (pair.ana, pair.bo):
        post = next(p for p in pair.seen(replica)[2] if p.id == "b0")
        assert post.reactions == {"hug": {pair.ana_key.device_id, pair.bo_key.device_id}}


# -- recurrence ------------------------------------------------------------------------


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "first, repeat, now, expected",
    [
        # A one-off event is itself, past or future.
        (utc(2024, 1, 1, 10), "none", utc(2024, 3, 1), utc(2024, 1, 1, 10)),
        (utc(2024, 5, 1, 10), "none", utc(2024, 3, 1), utc(2024, 5, 1, 10)),
        # A repeating event not yet started is its first occurrence.
        (utc(2024, 5, 1, 10), "weekly", utc(2024, 3, 1), utc(2024, 5, 1, 10)),
        (utc(2024, 5, 1, 10), "monthly", utc(2024, 3, 1), utc(2024, 5, 1, 10)),
        # Weekly: the next same weekday and time; "now" exactly on it counts.
        (utc(2024, 1, 1, 10), "weekly", utc(2024, 1, 10, 12), utc(2024, 1, 15, 10)),
        (utc(2024, 1, 1, 10), "weekly", utc(2024, 1, 8, 10), utc(2024, 1, 8, 10)),
        (utc(2024, 1, 1, 10), "weekly", utc(2024, 1, 8, 10, 0, 1), utc(2024, 1, 15, 10)),
        (utc(2023, 12, 28, 18), "weekly", utc(2024, 1, 1), utc(2024, 1, 4, 18)),
        # Monthly: same day of month; a month without that day is skipped (RFC 5545's
        # FREQ=MONTHLY), leap and not.
        (utc(2024, 1, 31, 9), "monthly", utc(2024, 2, 10), utc(2024, 3, 31, 9)),
        (utc(2024, 1, 30, 9), "monthly", utc(2024, 2, 10), utc(2024, 3, 30, 9)),
        (utc(2024, 1, 29, 9), "monthly", utc(2024, 2, 10), utc(2024, 2, 29, 9)),
        (utc(2023, 1, 29, 9), "monthly", utc(2023, 2, 10), utc(2023, 3, 29, 9)),
        (utc(2024, 1, 31, 9), "monthly", utc(2024, 4, 1), utc(2024, 5, 31, 9)),
        (utc(2024, 1, 31, 9), "monthly", utc(2024, 3, 1), utc(2024, 3, 31, 9)),
        # This month's occurrence already passed, and across a year boundary.
        (utc(2024, 1, 15, 9), "monthly", utc(2024, 3, 20), utc(2024, 4, 15, 9)),
        (utc(2023, 11, 15, 9), "monthly", utc(2024, 1, 20), utc(2024, 2, 15, 9)),
        (utc(2024, 1, 15, 9), "monthly", utc(2024, 3, 15, 9), utc(2024, 3, 15, 9)),
    ],
)
def test_next_occurrence(first, repeat, now, expected):
    """The first occurrence at or after now, keeping time of day and day of month."""
    assert next_occurrence(first, repeat, now) == expected


def test_next_occurrence_rejects_an_unknown_repeat():
    """A repeat rule the app does not know is an error, not a silent one-off."""
    with pytest.raises(ValueError, match="fortnightly"):
        next_occurrence(utc(2024, 1, 1), "fortnightly", utc(2024, 2, 1))


def _occurrence(first: datetime, repeat: str, k: int) -> datetime | None:
    """The k-th period's occurrence (None: a month without the day), computed independently
    of the code under test."""
    if repeat == "weekly":
        return first + timedelta(weeks=k)
    year, month = divmod(first.month - 1 + k, 12)
    year += first.year
    if first.day > calendar.monthrange(year, month + 1)[1]:
        return None
    return first.replace(year=year, month=month + 1)


@settings(max_examples=100, deadline=None)
@given(
    first=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(timezone.utc)
    ),
    ahead=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3000)),
    repeat=st.sampled_from(["weekly", "monthly"]),
)
def test_next_occurrence_is_the_earliest_occurrence_not_before_now(first, ahead, repeat):
    """Property: the result equals the first of first, first+1 period, ... that is >= now."""
    now = first + ahead
    k = max(0, ahead // timedelta(weeks=1) - 1 if repeat == "weekly" else
            (now.year - first.year) * 12 + now.month - first.month - 1)
    while (found := _occurrence(first, repeat, k)) is None or found < now:
        k += 1
    assert next_occurrence(first, repeat, now) == found


# -- refs ------------------------------------------------------------------------------

EVENTS = [
    ("3f2a9c01aa", "Tuesday walk"),
    ("3f2a77b0cc", "Book club"),
    ("91bb0000dd", "Book club"),
    ("abcd", "Short id"),
    ("abcdef0123", "Coffee"),
]


@pytest.mark.parametrize(
    "ref, expected",
    [
        ("3f2a9c01aa", "3f2a9c01aa"),  # exact id
        ("abcd", "abcd"),  # exact id wins over being a prefix of another id
        ("3f2a9", "3f2a9c01aa"),  # unique prefix
        ("3F2A9C", "3f2a9c01aa"),  # prefixes are case-insensitive
        ("91bb", "91bb0000dd"),  # four characters are enough
        ("Tuesday walk", "3f2a9c01aa"),  # exact name
        ("  Coffee ", "abcdef0123"),  # surrounding space ignored
    ],
)
def test_resolve_picks_the_one_thing_named(ref, expected):
    """Exact id, then exact name, then a unique id prefix of at least four characters."""
    assert resolve(ref, EVENTS, "event") == expected


def test_resolve_ambiguous_prefix_names_the_candidates_and_asks_for_more():
    """An ambiguous prefix says how many matched, shows them, and says what to do."""
    with pytest.raises(Ambiguous) as err:
        resolve("3f2a", EVENTS, "event")
    message = str(err.value)
    assert "matches 2" in message and "3f2a9c01aa" in message and "3f2a77b0cc" in message
    assert "longer id" in message


def test_resolve_ambiguous_name_is_refused():
    """Two events with one name: neither is guessed."""
    with pytest.raises(Ambiguous, match="'Book club' matches 2"):
        resolve("Book club", EVENTS, "event")


@pytest.mark.parametrize("ref", ["nothing", "3f2", "zzzz", "Tuesday"])
def test_resolve_unknown_or_too_short_is_not_found(ref):
    """Unknown names, partial names and prefixes under four characters match nothing."""
    with pytest.raises(NotFound, match=f"unknown event: '{ref}'"):
        resolve(ref, EVENTS, "event")


def test_resolve_empty_reference_is_not_found():
    with pytest.raises(NotFound, match="no event given"):
        resolve("   ", EVENTS, "event")


# -- service compaction on a real SQLite file ------------------------------------------


def _log_state(home: Path, circle_id: str) -> tuple[int, int]:
    """(stored changes, snapshot generation), read straight from the database file."""
    conn = sqlite3.connect(f"file:{home / DB_FILENAME}?mode=ro", uri=True)
    try:
        where = (circle_id,)
        changes = conn.execute("SELECT count(*) FROM changes WHERE circle_id = ?", where).fetchone()[0]
        seq = conn.execute("SELECT snapshot_seq FROM documents WHERE circle_id = ?", where).fetchone()[0]
    finally:
        conn.close()
    return changes, seq


def test_compaction_folds_the_change_log_into_the_snapshot_and_loses_nothing(tmp_path: Path):
    """After COMPACT_AFTER_CHANGES posts the log is folded into a new snapshot; the
    log keeps growing from zero, and a reopened profile sees every post."""
    home = tmp_path / "home"
    threshold = service_module.COMPACT_AFTER_CHANGES
    total = threshold + 44
    svc = Service.create_profile(home, "Ana", PASSPHRASE)
    circle_id = svc.create_circle("Walkers")
    for i in range(threshold - 1):
        svc.post(circle_id, f"post {i}")
    assert _log_state(home, circle_id) == (threshold - 1, 0)
    for i in range(threshold - 1, total):
        svc.post(circle_id, f"post {i}")
    assert _log_state(home, circle_id) == (total - threshold, 1)
    assert len(svc.feed(circle_id)) == total
    svc.close()

    reopened = Service.unlock(home, PASSPHRASE)
    try:
        assert [p.body for p in reopened.feed(circle_id)] == [f"post {i}" for i in range(total)]
        assert {p.author_id for p in reopened.feed(circle_id)} == {reopened.whoami().member_id}
    finally:
        reopened.close()
