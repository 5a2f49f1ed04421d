"""`circle demo`: the simulated members talk over real local sync while you watch."""

from __future__ import annotations

import random
import secrets

from textual.widgets import TextArea

from circle.demo import LIVE_POSTS, DemoClock, DemoCrowd, seed_demo, seed_my_checkins
from circle.service import Service
from circle.tui.app import CircleApp
from circle.tui.circle_screen import CircleScreen
from circle.tui.feed_view import FeedView
from circle.tui.settings import Settings

from .world import until


async def test_members_post_and_answer_you_over_real_sync(tmp_path):
    clock = DemoClock()
    service = Service.create_profile(tmp_path / "you", "You", secrets.token_urlsafe(16), clock=clock)
    circle_id, peers = seed_demo(service, tmp_path / "peers", service.clock())
    seed_my_checkins(service, circle_id, clock)
    me = service.whoami().member_id
    crowd = DemoCrowd(peers, circle_id, me, first_after=0.2, every=(0.3, 0.4), rng=random.Random(7))
    app = CircleApp(service, settings=Settings(listen="127.0.0.1:0", discovery=False),
                    companion=crowd.run, freeze_blink=True)
    async with app.run_test(size=(100, 32)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the demo circle")
        feed = app.screen.query_one(FeedView)
        assert len(feed._items) >= 5  # the seeded history (the crowd may already be talking)
        assert len(crowd.addresses) == 3 and all(a.startswith("127.0.0.1:") for a in crowd.addresses)
        await until(pilot, lambda: app.network.summary(circle_id) == "live with 3 peers", what="3 live sessions",
                    detail=lambda: f"{app.network.sessions} {list(app.network.problems)}")
        first_live = LIVE_POSTS[0][1]
        await until(pilot, lambda: any(i.body == first_live for i in feed._items),
                    what="a simulated member's new post")
        # it came over the wire: the simulated member's own profile wrote it, not ours
        assert any(p.body == first_live for p in peers["Priya"].feed(circle_id))

        await pilot.press("n")
        app.screen.query_one(TextArea).text = "Hello from the demo"
        await pilot.press("ctrl+s")
        mine = lambda: next(i for i in feed._items if i.body == "Hello from the demo")  # noqa: E731
        await until(pilot, lambda: any(i.body == "Hello from the demo" for i in feed._items), what="my post")
        await until(pilot, lambda: mine().reactions, what="someone answering me",
                    detail=lambda: f"{crowd.step} {app.network.sessions} {list(app.network.problems)}")
    for peer in peers.values():
        peer.close()
    service.close()
    assert clock() - DemoClock()() < __import__("datetime").timedelta(seconds=5)  # back in real time


def test_seeded_history_gives_a_month_of_my_moods(tmp_path):
    clock = DemoClock()
    service = Service.create_profile(tmp_path / "you", "You", secrets.token_urlsafe(16), clock=clock)
    circle_id, peers = seed_demo(service, tmp_path / "peers", service.clock())
    seed_my_checkins(service, circle_id, clock)
    mine = [c for c in service.checkins(circle_id) if c.author_id == service.whoami().member_id]
    days = {(service.clock() - c.created_at).days for c in mine}
    assert len(mine) == 16 and min(days) >= 0 and max(days) <= 30
    assert {c.visibility for c in mine} == {"me", "circle"}
    for peer in peers.values():
        peer.close()
    service.close()
