"""Nobody left unanswered: which posts wait for a reply, for whom, and from when."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from circle.errors import CircleError
from tests.helpers.in_process import Net
from tests.tui.world import Clock

T0 = datetime(2026, 12, 7, 6, 15, tzinfo=timezone.utc)


@pytest.fixture
def circle(tmp_path):
    clock = Clock(T0)
    net = Net(tmp_path)
    ana, ben, cat = (net.profile(n, clock=clock) for n in ("Ana", "Ben", "Cat"))
    net.cid = ana.create_circle("Walkers")
    net.join(ana, ben, cat)
    for other in (ben, cat):
        net.send(ana, other)
    return net, clock, ana, ben, cat


def spread(net, src, *dsts):
    for dst in dsts:
        net.send(src, dst)


def test_a_post_waits_once_the_threshold_passes_with_nobody_answering(circle):
    net, clock, ana, ben, cat = circle
    post = ben.post(net.cid, "Awake since four. Rough night.")
    spread(net, ben, ana, cat)
    clock.now = T0 + timedelta(hours=11, minutes=59)
    assert ana.quiet_posts(net.cid) == []
    clock.now = T0 + timedelta(hours=12)
    assert [p.id for p in ana.quiet_posts(net.cid)] == [post.id]
    assert [p.id for p in cat.quiet_posts(net.cid)] == [post.id]
    # The author is never shown their own post as waiting.
    assert ben.quiet_posts(net.cid) == []


def test_the_author_answering_themselves_or_reacting_does_not_count(circle):
    net, clock, ana, ben, cat = circle
    post = ben.post(net.cid, "Anyone up?")
    ben.post(net.cid, "Still here.", reply_to=post.id)
    ben.react(net.cid, post.id, "heart")
    spread(net, ben, ana)
    clock.now = T0 + timedelta(hours=13)
    assert [p.id for p in ana.quiet_posts(net.cid)] == [post.id]  # replies are not listed themselves


@pytest.mark.parametrize("answer", ["reply", "reaction"])
def test_a_reply_or_reaction_from_anyone_else_ends_the_wait(circle, answer):
    net, clock, ana, ben, cat = circle
    post = ben.post(net.cid, "Rough night.")
    spread(net, ben, ana, cat)
    clock.now = T0 + timedelta(hours=20)
    assert [p.id for p in ana.quiet_posts(net.cid)] == [post.id]
    if answer == "reply":
        cat.post(net.cid, "I'm here. Want to talk?", reply_to=post.id)
    else:
        cat.react(net.cid, post.id, "hug")
    spread(net, cat, ana)
    assert ana.quiet_posts(net.cid) == [] and cat.quiet_posts(net.cid) == []


def test_deleted_and_hidden_posts_do_not_wait(circle):
    net, clock, ana, ben, cat = circle
    gone = ben.post(net.cid, "never mind")
    hidden = ben.post(net.cid, "something unkind")
    ben.delete(net.cid, gone.id)
    spread(net, ben, ana)
    ana.hide(net.cid, hidden.id, "unkind")
    clock.now = T0 + timedelta(days=2)
    assert ana.quiet_posts(net.cid) == []


def test_organizers_set_the_threshold_for_everyone_and_members_cannot(circle):
    net, clock, ana, ben, cat = circle
    assert ana.quiet_after(net.cid) == 12
    post = ben.post(net.cid, "Rough night.")
    spread(net, ben, ana, cat)
    clock.now = T0 + timedelta(hours=3)
    assert cat.quiet_posts(net.cid) == []
    ana.set_quiet_after(net.cid, 2)
    spread(net, ana, cat)
    assert cat.quiet_after(net.cid) == 2
    assert [p.id for p in cat.quiet_posts(net.cid)] == [post.id]
    assert any("waiting for a reply after 2 hours" in e.summary for e in cat.modlog(net.cid))
    with pytest.raises(CircleError):
        cat.set_quiet_after(net.cid, 1)
    with pytest.raises(CircleError):
        ana.set_quiet_after(net.cid, 0)
    assert cat.quiet_after(net.cid) == 2
