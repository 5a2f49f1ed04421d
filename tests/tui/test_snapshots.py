"""Snapshot tests of the main screens, with a fixed clock, fixed data and no cursor blink.

Regenerate after an intended change with:
    pytest tests/tui/test_snapshots.py --snapshot-update
and look at the report before committing the new SVGs.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from .world import GUIDELINES, make_app

SIZE = (100, 30)


def reports(world, ana) -> None:
    """Ben reports Ana's walk post; a minute later Ana reports his reply."""
    ben = world.ben()
    ben.report(world.circle_id, world.posts["walk"], "wrong day for this")
    ana.receive_bundle(ben.bundle_for(world.circle_id, ana.whoami().device_id))
    ben.close()
    world.clock.now += timedelta(minutes=1)
    ana.report(world.circle_id, world.posts["reply"], "off topic")


def moderated(world, ana) -> None:
    ana.hide(world.circle_id, world.posts["reply"], "off topic")
    ana.warn(world.circle_id, "Ben", "please keep it kind")
    ana.mute(world.circle_id, "Ben", timedelta(hours=1), "cool off")


def reached_out(world, ana) -> None:
    ben = world.ben()
    ben.reach_out(world.circle_id, ["Ana"], "could you call me tonight?")
    ana.receive_bundle(ben.bundle_for(world.circle_id, ana.whoami().device_id))
    ben.close()


def waiting(world, ana) -> None:
    """Ben posted thirteen hours ago and nobody has answered yet."""
    ben = world.ben()
    now, world.clock.now = world.clock.now, world.clock.now - timedelta(hours=13)
    ben.post(world.circle_id, "Up since four again. Anyone around?")
    world.clock.now = now
    ana.receive_bundle(ben.bundle_for(world.circle_id, ana.whoami().device_id))
    ben.close()


def polled(world, ana) -> None:
    """Ben asks under Ana's walk post and votes; Ana votes too."""
    ben = world.ben()
    poll = ben.create_poll(world.circle_id, "Which gate should we meet at?", ["North gate", "South gate"],
                           post=world.posts["walk"], closes_in=timedelta(days=3)).poll.id
    ben.vote(world.circle_id, poll, "South gate")
    ana.receive_bundle(ben.bundle_for(world.circle_id, ana.whoami().device_id))
    ben.close()
    ana.vote(world.circle_id, poll, "1")


# name -> (keys pressed, what happens in the circle first)
CIRCLE_SCREENS = {
    "feed": ([], None),
    "feed_waiting": ([], waiting),
    "feed_poll": ([], polled),
    "quiet_posts": (["w"], waiting),
    "checkin_dialog": (["c"], None),
    "checkins": (["2"], None),
    "events": (["3"], None),
    "event_dialog": (["3", "e"], None),
    "members": (["4"], None),
    "guidelines": (["5"], None),
    "inbox": (["6"], reached_out),
    "log": (["7"], moderated),
    "moderation": (["8"], reports),
    "moderation_all_posts": (["8", "a"], moderated),
    "help": (["f1"], None),
    "settings": (["f3"], None),
    "circle_list": (["escape"], None),
    "network": (["escape", "f2"], None),
    "join": (["escape", "j"], None),
}


@pytest.mark.parametrize("name", CIRCLE_SCREENS)
def test_screen(name, world, snap_compare):
    press, prepare = CIRCLE_SCREENS[name]
    service = world.ana()
    try:
        if prepare:
            prepare(world, service)
        assert snap_compare(make_app(service), press=press, terminal_size=SIZE)
    finally:
        service.close()


def test_guidelines_changed_for_a_member(world, snap_compare):
    ana = world.ana()
    ana.set_guidelines(world.circle_id, GUIDELINES + "\n4. Nothing for sale here.")
    ben = world.ben()
    ben.receive_bundle(ana.bundle_for(world.circle_id, ben.whoami().device_id))
    ana.close()
    try:
        assert snap_compare(make_app(ben), terminal_size=SIZE)
    finally:
        ben.close()


def test_unlock(world, snap_compare):
    assert snap_compare(make_app(home=world.home), terminal_size=SIZE)


def test_first_run(tmp_path, snap_compare):
    assert snap_compare(make_app(home=tmp_path / "nobody"), press=["A", "n", "a"], terminal_size=(100, 36))


def test_high_contrast_feed(world, snap_compare):
    service = world.ana()
    try:
        assert snap_compare(make_app(service, theme="circle-high-contrast"), terminal_size=SIZE)
    finally:
        service.close()
