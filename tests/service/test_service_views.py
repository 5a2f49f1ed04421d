"""Service-level reads: the feed cache follows every change, single-post reads
apply moderation, and last-seen times come from members' own writes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.helpers.in_process import Net

from circle.domain.document import ROOT


def _clock(start: datetime):
    now = [start]

    def tick() -> datetime:
        now[0] += timedelta(minutes=1)
        return now[0]

    return tick


def test_feed_cache_follows_writes_bundles_and_governance(tmp_path):
    net = Net(tmp_path)
    ana, ben = net.profile("ana"), net.profile("ben")
    net.cid = ana.create_circle("Walkers")
    net.join(ana, ben)
    first = ana.feed(net.cid)
    assert ana.feed(net.cid) is first  # same state: the cached list
    post = ana.post(net.cid, "one")
    assert [p.body for p in ana.feed(net.cid)] == ["one"]
    net.send(ana, ben)
    ben.post(net.cid, "two")
    net.send(ben, ana)
    assert [p.body for p in ana.feed(net.cid)] == ["one", "two"]
    ana.hide(net.cid, post.id, "off topic")
    net.send(ana, ben)
    assert [(p.hidden, p.body) for p in ben.feed(net.cid)][0] == (True, "")
    assert ben.resolve_post(net.cid, post.id[:6]).hidden_reason == "off topic"


def test_last_seen_is_each_members_newest_post_or_shared_checkin(tmp_path):
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    net = Net(tmp_path)
    ana, ben = net.profile("ana", clock=_clock(start)), net.profile("ben", clock=_clock(start))
    net.cid = ana.create_circle("Walkers")
    net.join(ana, ben)
    ana.post(net.cid, "hello")
    later = ana.checkin(net.cid, 3).created_at
    ana.checkin(net.cid, 2, share="me")  # private: not something others saw
    net.send(ana, ben)
    seen = ben.last_seen(net.cid)
    assert seen[ana.whoami().member_id] == later
    assert ben.whoami().member_id not in seen


def test_topic_filters_fold_whole_word_matches_in_warning_or_text_for_this_reader_only(tmp_path):
    net = Net(tmp_path)
    ana, ben = net.profile("ana"), net.profile("ben")
    net.cid = ana.create_circle("Walkers")
    net.join(ana, ben)
    by_warning = ana.post(net.cid, "It has been a hard year.", content_warning="Grief")
    by_text = ana.post(net.cid, "Some self-harm thoughts again tonight.")
    near_miss = ana.post(net.cid, "Griefing in games is the worst.")
    net.send(ana, ben)
    assert ben.set_cw_filters(["  GRIEF ", "self-harm", "grief"]) == ("grief", "self-harm")
    folded = {p.id: p.collapsed_reason for p in ben.feed(net.cid)}
    assert folded == {by_warning.id: "matches your filter: grief",
                      by_text.id: "matches your filter: self-harm", near_miss.id: None}
    assert {p.body for p in ben.feed(net.cid)} >= {"Some self-harm thoughts again tonight."}  # folded, not gone
    assert all(p.collapsed_reason is None for p in ana.feed(net.cid))  # filters are the reader's own
    ben.set_cw_filters([])
    assert all(p.collapsed_reason is None for p in ben.feed(net.cid))


def test_a_band_checkin_shares_only_the_band_and_keeps_the_rest_sealed_here(tmp_path):
    net = Net(tmp_path)
    ana, ben = net.profile("ana"), net.profile("ben")
    net.cid = ana.create_circle("Walkers")
    net.join(ana, ben)
    low = ana.checkin(net.cid, 2, energy=1, note="NOTE-MARKER", tags=("sleep",), share="band")
    high = ana.checkin(net.cid, 4, share="band")
    net.send(ana, ben)
    seen = {c.id: c for c in ben.checkins(net.cid)}
    assert [(seen[c.id].mood, seen[c.id].note, seen[c.id].tags, seen[c.id].band_text) for c in (low, high)] == [
        (None, "", (), "could use support"), (None, "", (), "doing okay")]
    mine = {c.id: c for c in ana.checkins(net.cid)}
    assert (mine[low.id].mood, mine[low.id].note, mine[low.id].visibility) == (2, "NOTE-MARKER", "band")
    doc = ben.open_circle(net.cid).document.doc  # what the circle holds: only the band and the time
    checkins = doc.get(ROOT, "checkins")[1]
    for checkin in (low, high):
        assert sorted(doc.keys(doc.get(checkins, checkin.id)[1])) == ["band", "created_at"]
