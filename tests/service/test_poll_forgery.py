"""The door refuses forged poll writes before they are stored (domain/ownership.py):
a vote or close in another member's name, a poll changed after it was asked, its
votes replaced. Each forgery is raw automerge under the attacker's own actor,
stored and signed as their client would; only the ownership rules can stop it."""

from __future__ import annotations

import automerge.core as am
import pytest

from circle.domain.schema import item_key
from tests.domain.test_ownership import _forge, _obj, _refused, trio  # noqa: F401 (fixture)

INT, STR = am.ScalarType.Int, am.ScalarType.Str


@pytest.fixture
def asked(trio):  # noqa: F811
    """Ana asks a question, Cy votes; everyone holds both."""
    ana, bo, cy, circle, _ = trio
    poll = ana.create_poll(circle, "Sunday or Saturday?", ["Sunday", "Saturday"]).poll.id
    for member in (bo, cy):
        member.receive_bundle(ana.bundle_for(circle, member.whoami().device_id))
    cy.vote(circle, poll, "Saturday")
    for member in (ana, bo):
        member.receive_bundle(cy.bundle_for(circle, member.whoami().device_id))
    return ana, bo, cy, circle, poll


def _poll(d, poll: str, *rest: str):
    return _obj(d, item_key("polls", poll), *rest)


def test_a_vote_in_another_members_name_is_refused(asked):
    ana, bo, cy, circle, poll = asked
    cy_id = cy.whoami().member_id
    _forge(bo, circle, lambda tx, d: tx.put(_poll(d, poll, "votes"), f"{cy_id}:choice", INT, 0))
    assert "votes in another member's name" in _refused(bo, ana, circle)
    assert ana.resolve_poll(circle, poll).counts == (0, 1)


def test_a_close_in_a_moderators_name_is_refused(asked):
    ana, bo, cy, circle, poll = asked
    ana_id = ana.whoami().member_id
    _forge(bo, circle, lambda tx, d: tx.put(_poll(d, poll, "closes"), f"{ana_id}:heads", STR, "x"))
    assert "closes a poll in another member's name" in _refused(bo, cy, circle)


@pytest.mark.parametrize("change", [
    lambda tx, d, poll: tx.put(_poll(d, poll), "question", STR, "Quit the circle?"),
    lambda tx, d, poll: tx.put(_poll(d, poll, "options"), 1, STR, "Never"),
    lambda tx, d, poll: tx.insert(_poll(d, poll, "options"), 2, STR, "Both"),
    lambda tx, d, poll: tx.put_object(_poll(d, poll), "votes", am.ObjType.Map),
    lambda tx, d, poll: tx.put(_poll(d, poll), "closes_at", INT, 0),
], ids=["question", "option", "new option", "votes wiped", "deadline"])
def test_the_asker_cannot_change_a_poll_after_asking(asked, change):
    ana, bo, cy, circle, poll = asked
    _forge(ana, circle, lambda tx, d: change(tx, d, poll))
    assert "changes a poll after it was made" in _refused(ana, cy, circle)
    result = cy.resolve_poll(circle, poll)
    assert result.poll.options == ("Sunday", "Saturday") and result.counts == (0, 1) and result.open


def test_the_askers_own_close_and_everyones_own_votes_pass(asked):
    ana, bo, cy, circle, poll = asked
    bo.vote(circle, poll, "1")
    cy.receive_bundle(bo.bundle_for(circle, cy.whoami().device_id))
    ana.receive_bundle(bo.bundle_for(circle, ana.whoami().device_id))
    ana.close_poll(circle, poll)
    assert cy.receive_bundle(ana.bundle_for(circle, cy.whoami().device_id)).changes_applied == 1
    result = cy.resolve_poll(circle, poll)
    assert not result.open and result.counts == (1, 1)
