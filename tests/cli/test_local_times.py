"""Times as people read them: the CLI's text, its JSON and the Markdown export all use the
zone of the environment (TZ), never UTC unless that is the zone."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

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
