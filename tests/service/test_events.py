"""Events through the service: a zone kept with each event, editing and cancelling by
the member who planned it, carried to others in real sealed bundles."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from circle.errors import InvalidInput, NotAllowed
from circle.service.events import local_zone_name
from tests.helpers.in_process import Net

LONDON = ZoneInfo("Europe/London")
CLOCK = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)


@pytest.fixture
def net(tmp_path):
    net = Net(tmp_path)
    ana, ben = net.profile("Ana", clock=lambda: CLOCK), net.profile("Ben", clock=lambda: CLOCK)
    net.cid = ana.create_circle("Walkers")
    net.join(ana, ben)
    yield net, ana, ben
    ana.close()
    ben.close()


def test_an_event_keeps_its_zone_and_others_see_the_same_wall_clock(net):
    net, ana, ben = net
    walk = ana.add_event(net.cid, "Sunday walk", datetime(2026, 3, 22, 10, tzinfo=LONDON), repeat="weekly",
                         tz="Europe/London", minutes=90)
    net.send(ana, ben)
    seen = ben.resolve_event(net.cid, walk.id)
    assert (seen.tz, seen.minutes, seen.when) == ("Europe/London", 90, datetime(2026, 3, 22, 10, tzinfo=LONDON))


def test_the_zone_defaults_to_this_devices_own(net, monkeypatch):
    net, ana, _ = net
    monkeypatch.setenv("TZ", "America/New_York")
    event = ana.add_event(net.cid, "Call", datetime(2026, 3, 22, 19, tzinfo=timezone.utc), repeat="monthly")
    assert event.tz == "America/New_York" == ana.local_zone()


def test_local_zone_name_reads_tz_then_etc_localtime(tmp_path: Path):
    assert local_zone_name({"TZ": ":Europe/Paris"}, tmp_path / "none") == "Europe/Paris"
    link = tmp_path / "localtime"
    zoneinfo = Path("/usr/share/zoneinfo/Asia/Tokyo")
    link.symlink_to(zoneinfo)
    assert local_zone_name({"TZ": "not-a-zone"}, link) == "Asia/Tokyo"
    assert local_zone_name({}, tmp_path / "none") == "UTC"


def test_bad_zones_lengths_and_repeats_are_refused(net):
    net, ana, _ = net
    when = datetime(2026, 3, 22, 10, tzinfo=LONDON)
    with pytest.raises(InvalidInput, match="unknown time zone 'Europe/Atlantis'"):
        ana.add_event(net.cid, "Walk", when, tz="Europe/Atlantis")
    with pytest.raises(InvalidInput, match="1 to"):
        ana.add_event(net.cid, "Walk", when, tz="UTC", minutes=0)
    with pytest.raises(InvalidInput, match="repeat"):
        ana.add_event(net.cid, "Walk", when, tz="UTC", repeat="daily")
    assert ana.events(net.cid) == []


def test_the_organizer_of_an_event_edits_and_cancels_it_for_everyone(net):
    net, ana, ben = net
    walk = ana.add_event(net.cid, "Sunday walk", datetime(2026, 3, 22, 10, tzinfo=LONDON), repeat="weekly",
                         tz="Europe/London", where="North gate")
    net.send(ana, ben)
    ben.rsvp(net.cid, walk.id, "yes")
    net.send(ben, ana)
    edited = ana.edit_event(net.cid, walk.id, title="Lake walk", when=datetime(2026, 3, 22, 11, tzinfo=LONDON),
                            minutes=120)
    assert (edited.title, edited.where, edited.minutes, edited.edited_at) == ("Lake walk", "North gate", 120, CLOCK)
    net.send(ana, ben)  # ownership on Ben's side accepts Ana's writes into her own event
    assert ben.resolve_event(net.cid, walk.id).when == datetime(2026, 3, 22, 11, tzinfo=LONDON)
    cancelled = ana.cancel_event(net.cid, "Lake walk")
    assert cancelled.cancelled and cancelled.rsvps == {net.mid(ben): "yes"}
    net.send(ana, ben)
    assert ben.resolve_event(net.cid, walk.id).cancelled
    with pytest.raises(NotAllowed, match="cancelled"):
        ben.rsvp(net.cid, walk.id, "no")
    with pytest.raises(NotAllowed, match="cancelled"):
        ana.edit_event(net.cid, walk.id, title="Back on")
    with pytest.raises(NotAllowed, match="cancelled"):
        ana.cancel_event(net.cid, walk.id)


def test_only_the_member_who_planned_an_event_edits_or_cancels_it(net):
    """Not another member, and not an organizer either: the event's map is its creator's."""
    net, ana, ben = net
    bens = ben.add_event(net.cid, "Ben's coffee", datetime(2026, 3, 25, 9, tzinfo=LONDON), tz="Europe/London")
    net.send(ben, ana)
    with pytest.raises(NotAllowed, match="only the member who planned"):
        ana.edit_event(net.cid, bens.id, title="Ana's coffee")
    with pytest.raises(NotAllowed, match="only the member who planned"):
        ana.cancel_event(net.cid, bens.id)
    assert ana.resolve_event(net.cid, bens.id).title == "Ben's coffee"


def test_an_edit_needs_something_to_change(net):
    net, ana, _ = net
    walk = ana.add_event(net.cid, "Walk", datetime(2026, 3, 22, 10, tzinfo=LONDON), tz="UTC")
    with pytest.raises(InvalidInput, match="nothing to change"):
        ana.edit_event(net.cid, walk.id)
    assert ana.edit_event(net.cid, walk.id, tz="Europe/London").tz == "Europe/London"
