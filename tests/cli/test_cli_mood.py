"""The CLI for check-ins that fit mood trackers and for posts waiting for a reply."""

from __future__ import annotations

import csv
import io
import os
from datetime import datetime, timedelta, timezone

from tests.helpers.cli import Cli, raw, one_line
from tests.helpers.in_process import quiet_circle

UTC_ENV = {"TZ": "UTC"}


def test_checkin_reminder_is_set_shown_and_turned_off(profile_cli: Cli):
    assert profile_cli.ok("checkin-reminder").stdout == "no check-in reminder\n"
    assert profile_cli.ok("checkin-reminder", "7:45").stdout == "the app offers a check-in after 07:45 each day\n"
    assert profile_cli.ok("checkin-reminder", "--json").json() == {"checkin_reminder": "07:45"}
    assert "hh:mm" in one_line(raw(profile_cli, "checkin-reminder", "25:00")).lower()
    profile_cli.ok("checkin-reminder", "--off")
    assert profile_cli.ok("checkin-reminder", "--json").json() == {"checkin_reminder": None}


def test_export_csv_is_daylio_layout_of_my_own_check_ins(profile_cli: Cli, circle_id: str, tmp_path):
    env = profile_cli.env(**UTC_ENV)
    note = '=cmd|\' /C calc\'!A0, "quoted"\nsecond line'
    profile_cli.ok("checkin", circle_id, "--mood", "5", "--note", note, "--tag", "walk", "--tag", "sun", env=env)
    profile_cli.ok("checkin", circle_id, "--mood", "2", "--private", env=env)
    out = tmp_path / "moods.csv"
    profile_cli.ok("export", circle_id, "--format", "csv", "--output", str(out), env=env)
    assert os.stat(out).st_mode & 0o777 == 0o600
    text = out.read_text(encoding="utf-8")
    assert text == profile_cli.ok("export", circle_id, "--format", "csv", env=env).stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert text.splitlines()[0] == "full_date,date,weekday,time,mood,activities,note_title,note"
    assert [r["mood"] for r in rows] == ["bad", "rad"]  # newest first
    today = datetime.now(timezone.utc)
    newest = rows[1]
    assert newest["full_date"] in {(today - timedelta(minutes=5)).strftime("%Y-%m-%d"), today.strftime("%Y-%m-%d")}
    assert newest["activities"] == "walk | sun" and newest["note_title"] == "" and newest["note"] == "'" + note
    without_private = profile_cli.ok("export", circle_id, "--format", "csv", "--no-private", env=env).stdout
    assert [r["mood"] for r in csv.DictReader(io.StringIO(without_private))] == ["rad"]


def test_export_summary_is_markdown_for_a_clinician(profile_cli: Cli, circle_id: str):
    profile_cli.ok("checkin", circle_id, "--mood", "3", "--energy", "2", "--note", "ok day", "--private")
    text = profile_cli.ok("export", circle_id, "--format", "summary").stdout
    assert text.startswith("# Mood check-ins: ")
    assert "## Mood over the weeks" in text and "| 1 | 3.0 ▮▮▮▯▯ | 3 to 3 | 2.0 |" in text
    assert "ok day" in text
    assert "needs --output" in one_line(raw(profile_cli, "export", circle_id, "--format", "summary", "--json"))


def test_quiet_lists_posts_waiting_for_a_reply_but_never_to_their_author(tmp_path):
    cid, quiet, ana, ben = quiet_circle(tmp_path)
    records = ana.ok("quiet", cid, "--json").json()
    assert [r["id"] for r in records] == [quiet] and records[0]["author"] == "Ben"
    assert "Up since four, again." in ana.ok("quiet", cid).stdout
    assert ben.ok("quiet", cid, "--json").json() == []
    assert ben.ok("quiet", cid).stdout == "nobody is waiting for a reply\n"


def test_quiet_after_is_shown_and_set_by_organizers_only(tmp_path):
    cid, quiet, ana, ben = quiet_circle(tmp_path)
    assert ana.ok("quiet-after", cid, "--json").json() == {"circle_id": cid, "quiet_after_hours": 12}
    ana.ok("quiet-after", cid, "24")
    assert ana.ok("quiet", cid, "--json").json() == []  # 13 hours is no longer long enough
    assert "may not" in one_line(raw(ben, "quiet-after", cid, "1"))
    assert "1 to 336" in one_line(raw(ana, "quiet-after", cid, "0"))


def test_checkin_works_as_cron_runs_it(profile_cli: Cli, circle_id: str):
    """No terminal, no TERM, a bare PATH: what cron gives a job."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(profile_cli.home), "CIRCLE_HOME": str(profile_cli.home),
           "CIRCLE_PASSPHRASE": profile_cli.passphrase or ""}
    assert profile_cli.ok("checkin", circle_id, "--mood", "3", "--private", env=env).stdout.strip()
    assert [c["mood"] for c in profile_cli.ok("checkins", circle_id, "--json").json()] == [3]
