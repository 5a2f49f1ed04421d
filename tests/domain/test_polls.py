"""Votes count by one rule on every peer, whatever a hostile device writes.

Each replica is a real Automerge document writing as its own actor; the Roster
binds actors to members as the governance log would (Bo has two devices, Eve's
device was never admitted). Attacks are raw automerge writes under the
attacker's own actor, as a modified client would make them; each forgery test
checks the forged value is in the raw document, so a pass means the reading
refused it. The door (ownership.py) refuses the same writes before they are
stored: tests/service/test_poll_forgery.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import automerge.core as am
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from circle.domain import polls
from circle.domain.document import CircleDocument, to_millis
from circle.domain.schema import item_key
from circle.domain.views import Roster

T0 = datetime(2026, 5, 4, 18, 0, tzinfo=timezone.utc)
ANA, BO, CY, EVE = "m-ana", "m-bo", "m-cy", "m-eve"
ACTORS = {"ana": bytes([1]) * 16, "bo": bytes([2]) * 16, "bo2": bytes([3]) * 16, "cy": bytes([4]) * 16,
          "eve": bytes([5]) * 16}
MEMBER_OF = {"ana": ANA, "bo": BO, "bo2": BO, "cy": CY, "eve": EVE}
ROSTER = Roster({ACTORS[d]: m for d, m in MEMBER_OF.items() if d != "eve"}, {})
MODERATORS = frozenset({ANA})
INT, STR = am.ScalarType.Int, am.ScalarType.Str


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


class Replicas:
    """One document per device, every change shared with every replica at once."""

    def __init__(self) -> None:
        first, _ = CircleDocument.create("c" * 32, ACTORS["ana"], name="Walkers", purpose="", created_at=T0)
        self.docs = {"ana": first, **{d: first.fork_as(ACTORS[d]) for d in ACTORS if d != "ana"}}

    def share(self, changes: list[bytes]) -> None:
        for doc in self.docs.values():
            doc.apply_changes(changes)

    def forge(self, device: str, write) -> None:
        """`device` writes with automerge directly (its own actor), bypassing CircleDocument."""
        doc = self.docs[device]
        before = doc.heads()
        with doc.doc.transaction() as tx:
            write(tx, doc.doc)
        self.share(doc.changes_since(before))

    def polls(self, device: str = "ana", roster: Roster = ROSTER) -> dict:
        return {p.id: p for p in polls.read_polls(self.docs[device], roster, MODERATORS)}

    def counts(self, poll_id: str = "q", now: datetime | None = None, roster: Roster = ROSTER) -> set:
        """The counts every replica shows at `now` (an hour in by default): one element when they agree."""
        moment = now or at(60)
        return {polls.result(self.polls(d, roster)[poll_id], moment, None).counts for d in self.docs}


def votes_map(doc: am.Document, poll_id: str = "q") -> bytes:
    return doc.get(doc.get(am.ROOT, item_key("polls", poll_id))[1], "votes")[1]


def closes_map(doc: am.Document, poll_id: str = "q") -> bytes:
    return doc.get(doc.get(am.ROOT, item_key("polls", poll_id))[1], "closes")[1]


@pytest.fixture
def circle() -> Replicas:
    """Bo asks the circle a question with two options."""
    r = Replicas()
    r.share(r.docs["bo"].add_poll("q", "Sunday or Saturday?", ["Sunday", "Saturday"], at(1)))
    return r


def test_control_each_members_vote_counts_once(circle: Replicas):
    circle.share(circle.docs["ana"].set_vote("q", ANA, 0, at(2)))
    circle.share(circle.docs["cy"].set_vote("q", CY, 1, at(3)))
    circle.share(circle.docs["cy"].set_vote("q", CY, 0, at(4)))  # changed her mind
    assert circle.counts() == {(2, 0)}
    poll = circle.polls("cy")["q"]
    assert poll.author_id == BO and poll.options == ("Sunday", "Saturday") and set(poll.votes) == {ANA, CY}


def test_a_vote_written_into_another_members_slot_never_counts(circle: Replicas):
    def forged(tx, doc):
        tx.put(votes_map(doc), f"{CY}:choice", INT, 1)
        tx.put(votes_map(doc), f"{CY}:at", INT, to_millis(at(2)))

    circle.forge("bo", forged)
    assert circle.docs["ana"].doc.get(votes_map(circle.docs["ana"].doc), f"{CY}:choice")[0] == (INT, 1)
    assert circle.counts() == {(0, 0)}


def test_overwriting_another_members_vote_never_turns_it_into_the_forgers_choice(circle: Replicas):
    circle.share(circle.docs["cy"].set_vote("q", CY, 0, at(2)))
    circle.forge("bo", lambda tx, doc: tx.put(votes_map(doc), f"{CY}:choice", INT, 1))
    assert circle.counts() in ({(0, 0)}, {(1, 0)}) and (0, 1) not in circle.counts()


def test_a_device_never_admitted_cannot_vote_in_anyones_name(circle: Replicas):
    def forged(tx, doc):
        for member in (EVE, BO):
            tx.put(votes_map(doc), f"{member}:choice", INT, 1)
            tx.put(votes_map(doc), f"{member}:at", INT, to_millis(at(2)))

    circle.forge("eve", forged)
    assert circle.counts() == {(0, 0)}


@pytest.mark.parametrize("value", [(INT, 2), (INT, -1), (STR, "1"), (am.ScalarType.Boolean, True)])
def test_a_vote_for_an_option_that_does_not_exist_is_ignored(circle: Replicas, value):
    def forged(tx, doc):
        tx.put(votes_map(doc), f"{CY}:choice", value[0], value[1])
        tx.put(votes_map(doc), f"{CY}:at", INT, to_millis(at(2)))

    circle.forge("cy", forged)
    assert circle.counts() == {(0, 0)}
    assert CY not in circle.polls()["q"].votes


def test_a_vote_after_a_close_never_counts_whatever_time_it_claims(circle: Replicas):
    circle.share(circle.docs["cy"].set_vote("q", CY, 1, at(2)))
    circle.share(circle.docs["ana"].close_poll("q", ANA, at(10)))  # a moderator closes it
    # Bo saw the close; his client stamps a time before it.
    circle.share(circle.docs["bo"].set_vote("q", BO, 0, at(5)))
    circle.share(circle.docs["cy"].set_vote("q", CY, 0, at(5)))  # and Cy tries to change hers
    assert circle.counts(now=at(11)) == {(0, 1)}
    result = polls.result(circle.polls("cy")["q"], at(11), CY)
    assert not result.open and result.ended_at == at(10) and result.my_choice == 1


def test_a_vote_the_closer_had_not_seen_does_not_count_either(circle: Replicas):
    cy_vote = circle.docs["cy"].set_vote("q", CY, 1, at(2))  # made offline, before the close
    close = circle.docs["ana"].close_poll("q", ANA, at(10))
    circle.share(close)
    circle.share(cy_vote)
    assert circle.counts(now=at(11)) == {(0, 0)}


def test_a_close_by_someone_who_may_not_close_is_ignored_and_the_askers_counts(circle: Replicas):
    circle.share(circle.docs["cy"].close_poll("q", CY, at(3)))  # Cy neither asked nor moderates
    assert polls.result(circle.polls()["q"], at(4), None).open
    circle.share(circle.docs["bo"].close_poll("q", BO, at(5)))
    poll = circle.polls()["q"]
    assert poll.closed_by == BO and not polls.result(poll, at(6), None).open


@pytest.mark.parametrize("heads", ["", "zz" * 32, "ab" * 32, "ab" * 31, ",".join(["ab" * 32] * 65)])
def test_a_close_naming_heads_nobody_holds_or_malformed_ones_is_ignored(circle: Replicas, heads):
    def forged(tx, doc):
        tx.put(closes_map(doc), f"{ANA}:at", INT, to_millis(at(3)))
        tx.put(closes_map(doc), f"{ANA}:heads", STR, heads)

    circle.forge("ana", forged)
    assert circle.polls()["q"].closed_by is None


def test_a_close_in_a_moderators_name_by_another_device_is_ignored(circle: Replicas):
    def forged(tx, doc):
        tx.put(closes_map(doc), f"{ANA}:at", INT, to_millis(at(3)))
        tx.put(closes_map(doc), f"{ANA}:heads", STR, ",".join(h.hex() for h in doc.get_heads()))

    circle.forge("cy", forged)
    assert circle.polls()["q"].closed_by is None


def test_a_removed_members_vote_after_removal_is_ignored(circle: Replicas):
    """Past the cutoff the re-vote is not Cy's: it never counts. Reading alone, it
    blanks her earlier vote (the value it overwrote); the door drops such changes
    before they are stored, so her earlier vote stays (tests/service/test_polls.py)."""
    circle.share(circle.docs["cy"].set_vote("q", CY, 1, at(2)))
    cy = circle.docs["cy"]
    cutoff = max(c.max_op for c in cy.doc.get_changes([]) if c.actor_id == ACTORS["cy"])
    removed = Roster(ROSTER.member_by_actor, {ACTORS["cy"]: cutoff})
    assert circle.counts(roster=removed) == {(0, 1)}
    circle.share(cy.set_vote("q", CY, 0, at(3)))
    assert circle.counts(roster=removed) == {(0, 0)}


def test_a_member_with_two_devices_has_one_vote_even_when_both_vote_at_once(circle: Replicas):
    first = circle.docs["bo"].set_vote("q", BO, 0, at(2))
    second = circle.docs["bo2"].set_vote("q", BO, 1, at(2))
    circle.share(first + second)
    counts = circle.counts()
    assert len(counts) == 1 and sum(next(iter(counts))) == 1
    # A later vote from either device replaces it, on every replica.
    circle.share(circle.docs["bo2"].set_vote("q", BO, 0, at(3)))
    assert circle.counts() == {(1, 0)}


def test_a_second_slot_of_ones_own_is_no_second_vote(circle: Replicas):
    def forged(tx, doc):
        for key in (f"{CY}:choice", f"{CY}:choice:2", f"{CY}:x:choice"):
            tx.put(votes_map(doc), key, INT, 1)
        tx.put(votes_map(doc), f"{CY}:at", INT, to_millis(at(2)))

    circle.forge("cy", forged)
    assert circle.counts() == {(0, 1)}


def test_votes_stamped_at_or_after_the_deadline_do_not_count_and_the_poll_closes_then():
    r = Replicas()
    r.share(r.docs["bo"].add_poll("q", "Picnic?", ["Yes", "No"], at(1), closes_at=at(10)))
    r.share(r.docs["ana"].set_vote("q", ANA, 0, at(9)))
    r.share(r.docs["cy"].set_vote("q", CY, 1, at(10)))
    assert polls.result(r.polls()["q"], at(9), None).open
    result = polls.result(r.polls()["q"], at(10), None)
    assert not result.open and result.counts == (1, 0) and result.ended_at == at(10)


def test_a_muted_members_vote_does_not_count_while_the_mute_lasts(circle: Replicas):
    circle.share(circle.docs["cy"].set_vote("q", CY, 1, at(5)))
    poll = circle.polls()["q"]
    mutes = {CY: (to_millis(at(4)), to_millis(at(6)))}
    assert polls.result(poll, at(7), None, mutes).counts == (0, 0)
    assert polls.result(poll, at(7), None, {CY: (to_millis(at(6)), to_millis(at(8)))}).counts == (0, 1)


def test_a_poll_with_fields_written_by_another_device_loses_them(circle: Replicas):
    options = lambda doc: doc.get(doc.get(am.ROOT, item_key("polls", "q"))[1], "options")[1]  # noqa: E731
    circle.forge("cy", lambda tx, doc: tx.insert(options(doc), 2, STR, "Never"))
    assert circle.polls()["q"].options == ("Sunday", "Saturday")
    circle.forge("eve", lambda tx, doc: tx.put(doc.get(am.ROOT, item_key("polls", "q"))[1], "question",
                                               STR, "Quit?"))
    assert "q" not in circle.polls()  # the question is no longer the asker's: not shown at all


@pytest.mark.parametrize("missing", ["votes", "closes", "options"])
def test_a_poll_made_without_its_maps_is_not_shown(missing):
    r = Replicas()

    def made(tx, doc):
        poll = tx.put_object(am.ROOT, item_key("polls", "q"), am.ObjType.Map)
        tx.put(poll, "question", STR, "Broken?")
        tx.put(poll, "created_at", INT, to_millis(at(1)))
        for key in ("votes", "closes", "options"):
            kind = am.ObjType.List if key == "options" or key == missing else am.ObjType.Map
            made_obj = tx.put_object(poll, key, kind)
            if key == "options":
                for index, text in enumerate(("a", "b") if key != missing else ()):
                    tx.insert(made_obj, index, STR, text)

    r.forge("bo", made)
    assert r.polls() == {}


# -- convergence ---------------------------------------------------------------------------

DEVICES = ("ana", "bo", "bo2", "cy", "eve")
step = st.one_of(
    st.tuples(st.just("vote"), st.sampled_from(DEVICES), st.integers(-1, 2), st.integers(0, 20)),
    st.tuples(st.just("close"), st.sampled_from(DEVICES), st.just(0), st.integers(0, 20)),
    st.tuples(st.just("sync"), st.sampled_from(DEVICES), st.sampled_from(DEVICES), st.just(0)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, max_size=25), st.permutations(DEVICES))
def test_replicas_agree_on_every_poll_once_they_hold_the_same_changes(steps, order):
    """Votes, re-votes, closes by anyone (allowed or not) and partial syncs in any
    order; then each replica receives everyone's changes in its own order."""
    first, _ = CircleDocument.create("c" * 32, ACTORS["ana"], name="Walkers", purpose="", created_at=T0)
    first.add_poll("q", "Which?", ["a", "b", "c"], at(1), closes_at=at(15))
    docs = {d: first.fork_as(ACTORS[d]) for d in DEVICES}
    for kind, device, arg, minute in steps:
        doc = docs[device]
        if kind == "vote":
            with doc.doc.transaction() as tx:  # raw: a hostile client may vote out of range
                tx.put(votes_map(doc.doc), f"{MEMBER_OF[device]}:choice", INT, arg)
                tx.put(votes_map(doc.doc), f"{MEMBER_OF[device]}:at", INT, to_millis(at(minute)))
        elif kind == "close":
            doc.close_poll("q", MEMBER_OF[device], at(minute))
        else:
            docs[arg].apply_changes(doc.changes_since([]))
    everything = [change for d in order for change in docs[d].changes_since([])]
    seen = []
    for index, device in enumerate(DEVICES):
        docs[device].apply_changes(everything[index:] + everything[:index])
        found = polls.read_polls(docs[device], ROSTER, MODERATORS)
        seen.append([(p, polls.result(p, at(30), None).counts) for p in found])
    assert all(view == seen[0] for view in seen[1:])
