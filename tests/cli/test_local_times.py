"""Times as people read them: the CLI's text, its JSON and the Markdown export all use the
zone of the environment (TZ), never UTC unless that is the zone."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from circle.domain.times import readable, stamp
from tests.helpers.cli import Cli

ZONES = ["America/Los_Angeles", "Asia/Kolkata"]


@pytest.mark.parametrize("zone_name", ZONES)
def test_cli_text_json_and_markdown_show_the_local_zone(profile_cli: Cli, circle_id: str, zone_name: str):
    env = profile_cli.env(TZ=zone_name)
    local = ZoneInfo(zone_name)
    profile_cli.ok("post", circle_id, "Morning, everyone.", env=env)
    profile_cli.ok("event", circle_id, "Lake walk", "--when", "2030-05-04T10:00+00:00", env=env)

    post = profile_cli.ok("feed", circle_id, "--json", env=env).json()[0]
    created = datetime.fromisoformat(post["created_at"])
    assert created.utcoffset() == created.astimezone(local).utcoffset() != timedelta(0), post["created_at"]
    assert not post["created_at"].endswith("Z")

    shown = created.astimezone(local).strftime("%a %d %b %Y %H:%M")
    assert f"· {shown}" in profile_cli.ok("feed", circle_id, env=env).stdout

    event = profile_cli.ok("events", circle_id, "--json", env=env).json()[0]
    walk = datetime(2030, 5, 4, 10, tzinfo=timezone.utc).astimezone(local)
    assert event["when"] == walk.isoformat()  # 03:00-07:00 in LA, 15:30+05:30 in Kolkata
    assert f"next {walk:%a %d %b %Y %H:%M}" in profile_cli.ok("events", circle_id, env=env).stdout

    markdown = profile_cli.ok("export", circle_id, "--format", "md", env=env).stdout
    assert f"{walk:%a %d %b %Y %H:%M}" in markdown and shown in markdown
    assert f"times are local ({datetime.now(local):%Z}, UTC" in markdown


def test_the_same_moment_reads_differently_per_zone():
    moment = datetime(2026, 12, 7, 19, 30, tzinfo=timezone.utc)
    assert readable(moment, ZoneInfo("Europe/Paris")) == "Mon 07 Dec 2026 20:30"
    assert readable(moment, ZoneInfo("Asia/Kolkata")) == "Tue 08 Dec 2026 01:00"
    assert stamp(moment, ZoneInfo("Europe/Paris")) == "2026-12-07T20:30:00+01:00"
    assert stamp(moment, ZoneInfo("America/Los_Angeles")) == "2026-12-07T11:30:00-08:00"
    assert stamp(None) is None


def test_the_last_moment_a_peer_may_name_still_shows_east_of_utc():
    # 9999-12-31 23:59 UTC is past datetime's range on a clock ahead of UTC: shown in UTC.
    last = datetime(9999, 12, 31, 23, 59, tzinfo=timezone.utc)
    assert readable(last, ZoneInfo("Asia/Kolkata")) == "Fri 31 Dec 9999 23:59"
    assert stamp(last, ZoneInfo("Pacific/Kiritimati")) == "9999-12-31T23:59:00+00:00"
    assert readable(datetime(1970, 1, 1, tzinfo=timezone.utc), ZoneInfo("America/Los_Angeles")) == \
        "Wed 31 Dec 1969 16:00"
