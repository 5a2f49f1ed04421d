"""Polls between real profiles exchanging sealed bundles: one vote per member,
closing by hand and by the clock, and every refusal in one line."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from circle.errors import InvalidInput, NotAllowed, NotFound
from tests.helpers.in_process import Net, join

T0 = datetime(2026, 5, 4, 18, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def walkers(tmp_path):
    """Ana (organizer), Ben and Cara in one circle, all on one movable clock."""
    net, clock = Net(tmp_path), Clock()
    ana, ben, cara = (net.profile(n, clock=clock) for n in ("Ana", "Ben", "Cara"))
    net.cid = ana.create_circle("Walkers")
    net.join(ana, ben, cara)
    yield net, clock, ana, ben, cara
    for service in (ana, ben, cara):
        service.close()


def spread(net: Net, *services) -> None:
    """Everyone gets everything (twice round, so relayed changes arrive too)."""
    for _ in range(2):
        for src in services:
            for dst in services:
                bundle = src.bundle_for(net.cid, net.dev(dst)) if src is not dst else None
                if bundle is not None:  # None: src knows of nothing dst lacks
                    dst.receive_bundle(bundle)


def test_votes_reach_every_member_as_counts_and_each_sees_their_own(walkers):
    net, _, ana, ben, cara = walkers
    poll = ana.create_poll(net.cid, "Walk on Sunday or Saturday?", ["Sunday", "Saturday"]).poll
    spread(net, ana, ben, cara)
    ben.vote(net.cid, poll.id, "Saturday")
    cara.vote(net.cid, poll.id[:8], "2")
    ana.vote(net.cid, poll.id, "1")
    spread(net, ana, ben, cara)
    for service, mine in ((ana, 0), (ben, 1), (cara, 1)):
        result = service.resolve_poll(net.cid, poll.id)
        assert result.open and result.counts == (1, 2) and result.my_choice == mine


def test_a_later_vote_replaces_the_earlier_one_even_from_another_device(walkers, tmp_path):
    net, clock, ana, ben, cara = walkers
    phone = net.profile("Ben (phone)", clock=clock)
    join(sponsor=ben, newcomer=phone, code=ben.invite(net.cid, device=True))
    poll = ana.create_poll(net.cid, "Which park?", ["North", "South", "East"]).poll
    spread(net, ana, ben, cara, phone)
    ben.vote(net.cid, poll.id, "North")
    spread(net, ana, ben, cara, phone)
    clock.now += timedelta(minutes=1)
    phone.vote(net.cid, poll.id, "East")
    spread(net, ana, ben, cara, phone)
    for service in (ana, ben, cara, phone):
        assert service.resolve_poll(net.cid, poll.id).counts == (0, 0, 1)
    # Both devices voting while apart still leave one vote, the same one everywhere.
    ben.vote(net.cid, poll.id, "South")
    phone.vote(net.cid, poll.id, "North")
    spread(net, ana, ben, cara, phone)
    seen = {service.resolve_poll(net.cid, poll.id).counts for service in (ana, ben, cara, phone)}
    assert len(seen) == 1 and sum(seen.pop()) == 1
    phone.close()


def test_closing_by_hand_freezes_the_votes_the_closer_held(walkers):
    net, clock, ana, ben, cara = walkers
    poll = ben.create_poll(net.cid, "Tea or coffee?", ["Tea", "Coffee"]).poll
    spread(net, ana, ben, cara)
    ben.vote(net.cid, poll.id, "Tea")
    cara.vote(net.cid, poll.id, "Coffee")  # Cara's vote has not reached Ana yet
    net.send(ben, ana)
    clock.now += timedelta(minutes=5)
    closed = ana.close_poll(net.cid, poll.id)  # an organizer closes another member's poll
    assert not closed.open and closed.counts == (1, 0) and closed.ended_at == clock.now
    spread(net, ana, ben, cara)
    for service in (ana, ben, cara):
        assert service.resolve_poll(net.cid, poll.id).counts == (1, 0)
    with pytest.raises(NotAllowed, match="is closed"):
        cara.vote(net.cid, poll.id, "Tea")
    with pytest.raises(NotAllowed, match="already closed"):
        ben.close_poll(net.cid, poll.id)


def test_only_the_asker_or_a_moderator_closes_a_poll(walkers):
    net, _, ana, ben, cara = walkers
    poll = ana.create_poll(net.cid, "Start at ten?", ["Yes", "No"]).poll
    spread(net, ana, ben, cara)
    with pytest.raises(NotAllowed, match="only the member who asked"):
        cara.close_poll(net.cid, poll.id)
    assert ben.close_poll(net.cid, ben.create_poll(net.cid, "Mine?", ["a", "b"]).poll.id).open is False


def test_a_poll_closes_by_itself_at_its_deadline_on_the_clock(walkers):
    net, clock, ana, ben, cara = walkers
    poll = ana.create_poll(net.cid, "Picnic?", ["Yes", "No"], closes_in=timedelta(days=3)).poll
    assert poll.closes_at == T0 + timedelta(days=3)
    spread(net, ana, ben, cara)
    ben.vote(net.cid, poll.id, "Yes")
    spread(net, ana, ben, cara)
    clock.now = T0 + timedelta(days=3)
    result = cara.resolve_poll(net.cid, poll.id)
    assert not result.open and result.counts == (1, 0) and result.ended_at == poll.closes_at
    with pytest.raises(NotAllowed, match="is closed"):
        cara.vote(net.cid, poll.id, "No")


def test_polls_hang_under_a_post_or_name_the_guidelines(walkers):
    net, _, ana, ben, cara = walkers
    post = ben.post(net.cid, "Shall we move to Thursdays?")
    spread(net, ana, ben, cara)
    under = cara.create_poll(net.cid, "Thursdays?", ["Yes", "No"], post=post.id[:8]).poll
    assert under.post_id == post.id
    with pytest.raises(NotAllowed, match="no guidelines yet"):
        ana.create_poll(net.cid, "Adopt them?", ["Yes", "No"], guidelines=True)
    ana.set_guidelines(net.cid, "Be kind.")
    about = ana.create_poll(net.cid, "Adopt them?", ["Yes", "No"], guidelines=True).poll
    assert about.guidelines_version == 1


@pytest.mark.parametrize("question, options, error", [
    ("", ["a", "b"], "question is empty"),
    ("q" * 201, ["a", "b"], "question is too long"),
    ("Q?", ["only one"], "2 to 10 options"),
    ("Q?", [str(n) for n in range(11)], "2 to 10 options"),
    ("Q?", ["a", "x" * 81], "option 2 is too long"),
    ("Q?", ["a", " "], "option 2 is empty"),
    ("Q?", ["same", "same "], "two options are the same"),
])
def test_bad_polls_are_refused_with_one_line(walkers, question, options, error):
    net, _, ana, *_ = walkers
    with pytest.raises(InvalidInput, match=error):
        ana.create_poll(net.cid, question, options)
    assert ana.polls(net.cid) == []


def test_a_vote_for_an_option_that_does_not_exist_is_refused(walkers):
    net, _, ana, *_ = walkers
    poll = ana.create_poll(net.cid, "Q?", ["a", "b"]).poll
    for bad in ("3", "0", "c", "-1"):
        with pytest.raises(NotFound, match="no option"):
            ana.vote(net.cid, poll.id, bad)
    assert ana.resolve_poll(net.cid, poll.id).total == 0


def test_a_muted_member_cannot_vote_and_a_removed_ones_vote_counts_nowhere(walkers):
    net, clock, ana, ben, cara = walkers
    poll = ana.create_poll(net.cid, "Q?", ["a", "b"]).poll
    spread(net, ana, ben, cara)
    cara.vote(net.cid, poll.id, "b")
    spread(net, ana, ben, cara)
    ana.mute(net.cid, net.mid(ben), timedelta(hours=1))
    ana.remove(net.cid, net.mid(cara))
    spread(net, ana, ben, cara)
    with pytest.raises(NotAllowed, match="muted you until"):
        ben.vote(net.cid, poll.id, "a")
    # Cara has not heard of her removal: her device writes a new vote, no other counts it,
    # and the one she cast while a member stays.
    cara.vote(net.cid, poll.id, "a")
    spread(net, ana, ben, cara)
    assert ana.resolve_poll(net.cid, poll.id).counts == ben.resolve_poll(net.cid, poll.id).counts == (0, 1)
    clock.now += timedelta(hours=2)
    assert ben.vote(net.cid, poll.id, "a").counts == (1, 1)


def test_a_circle_from_before_polls_takes_them_once_its_organizer_opens_it(tmp_path, monkeypatch):
    """Version 1 circles gain polls through the schema step (domain/schema.py): until an
    organizer's device marks version 2, asking is refused with one line saying why."""
    from circle.domain import schema
    from circle.service import Service
    from tests.helpers.cli import PASSPHRASE

    net = Net(tmp_path)
    monkeypatch.setattr(schema, "MIGRATIONS", ())  # the release before polls
    ana, ben = net.profile("Ana"), net.profile("Ben")
    net.cid = ana.create_circle("Walkers")
    net.join(ana, ben)
    monkeypatch.undo()
    homes = [s.whoami().home for s in (ana, ben)]
    ana.close()
    ben.close()
    ben = Service.unlock(homes[1], PASSPHRASE)  # Ben updated first: he is no organizer
    with pytest.raises(schema.NotUpgraded, match="an organizer's device upgrades it to schema 2"):
        ben.create_poll(net.cid, "Tea?", ["Yes", "No"])
    ana = Service.unlock(homes[0], PASSPHRASE)
    assert schema.document_version(ana.open_circle(net.cid).document.doc) == 2  # upgraded on opening
    net.send(ana, ben)
    poll = ben.create_poll(net.cid, "Tea?", ["Yes", "No"]).poll
    net.send(ben, ana)
    assert ana.resolve_poll(net.cid, poll.id).poll.question == "Tea?"
    ana.close()
    ben.close()


def test_a_member_who_left_can_neither_vote_nor_ask(walkers):
    net, _, ana, ben, cara = walkers
    poll = ana.create_poll(net.cid, "Q?", ["a", "b"]).poll
    spread(net, ana, ben, cara)
    ben.leave(net.cid)
    with pytest.raises(NotAllowed, match="no longer a member"):
        ben.vote(net.cid, poll.id, "a")
    with pytest.raises(NotAllowed, match="no longer a member"):
        ben.create_poll(net.cid, "Still here?", ["yes", "no"])
    assert ben.resolve_poll(net.cid, poll.id).total == 0
