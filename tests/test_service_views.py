"""Service-level reads: the feed cache follows every change, single-post reads
apply moderation, and last-seen times come from members' own writes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from in_process import Net


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
