"""The app shows every time on the local clock (the zone of TZ), as the CLI does."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from circle.tui.circle_screen import CircleScreen
from circle.tui.feed_render import time_label

from .test_settings_screen import start
from .world import screen_text, until


@pytest.mark.parametrize(("zone", "joined"), [("Asia/Kolkata", "Mon 03 Feb 2025 17:30"),
                                             ("America/Los_Angeles", "Mon 03 Feb 2025 04:00")])
async def test_the_app_shows_times_in_the_environments_zone(world, monkeypatch, zone, joined):
    """Ana joined at 12:00 UTC on 3 Feb 2025; the Members tab says when on the local clock."""
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    service = world.ana()
    app = start(service, world.home, display_tz=None)
    async with app.run_test(size=(110, 36)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
        await pilot.press("4")
        await until(pilot, lambda: joined in screen_text(app), what=f"the join time in {zone}")
    service.close()


def test_a_post_older_than_a_week_says_when_on_the_local_clock():
    created = datetime(2025, 2, 1, 20, 0, tzinfo=timezone.utc)
    assert time_label(created, created + timedelta(days=2), ZoneInfo("Asia/Kolkata")) == "2d ago"
    assert time_label(created, created + timedelta(days=10), ZoneInfo("Asia/Kolkata")) == "Sun 02 Feb 2025 01:30"
    assert time_label(created, created + timedelta(days=10), ZoneInfo("America/Los_Angeles")) == \
        "Sat 01 Feb 2025 12:00"
