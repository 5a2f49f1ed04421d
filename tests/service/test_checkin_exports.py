"""Check-ins for mood trackers (Daylio's CSV, read back with the csv module), for a
clinician (a Markdown summary), and the daily reminder that offers one."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest

from circle import export
from circle.errors import InvalidInput
from tests.helpers.in_process import Net
from tests.tui.world import Clock

UTC = timezone.utc  # a fixed zone: the columns are checked as local time in it
PLUS_TWO = timezone(timedelta(hours=2))
NASTY = '=cmd|\' /C calc\'!A0 said "fine", but no,\nnot really'


@pytest.fixture
def pair(tmp_path):
    clock = Clock(datetime(2026, 12, 7, 14, 5, tzinfo=timezone.utc))  # a Monday
    net = Net(tmp_path)
    ana, ben = net.profile("Ana", clock=clock), net.profile("Ben", clock=clock)
    net.cid = ana.create_circle("Walkers")
    net.join(ana, ben)
    net.send(ana, ben)
    return net, clock, ana, ben


def test_daylio_csv_holds_my_check_ins_in_its_columns_and_reads_back(pair):
    net, clock, ana, ben = pair
    ana.checkin(net.cid, 4, note=NASTY, tags=("walk", "friends"))
    clock.now -= timedelta(days=3, hours=13, minutes=55)  # Friday 4 December, 00:10
    ana.checkin(net.cid, 1, tags=("=HYPERLINK(x)",), share="me")
    clock.now -= timedelta(days=1)
    ana.checkin(net.cid, 3, share="band")
    ben.checkin(net.cid, 5, note="Ben's, not Ana's")
    net.send(ben, ana)
    text = export.export_daylio_csv(ana.my_checkins(net.cid), UTC)
    reader = csv.DictReader(io.StringIO(text))
    assert tuple(reader.fieldnames or ()) == export.DAYLIO_HEADER
    rows = list(reader)
    assert rows == [  # newest first, as Daylio writes it; Ben's check-in is his to export
        {"full_date": "2026-12-07", "date": "December 7", "weekday": "Monday", "time": "14:05",
         "mood": "good", "activities": "walk | friends", "note_title": "",
         "note": "'" + NASTY},
        {"full_date": "2026-12-04", "date": "December 4", "weekday": "Friday", "time": "00:10",
         "mood": "awful", "activities": "'=HYPERLINK(x)", "note_title": "", "note": ""},
        {"full_date": "2026-12-03", "date": "December 3", "weekday": "Thursday", "time": "00:10",
         "mood": "meh", "activities": "", "note_title": "", "note": ""},
    ]


def test_daylio_csv_uses_local_time(pair):
    net, clock, ana, _ = pair
    clock.now = datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc)
    ana.checkin(net.cid, 2)
    row = next(csv.DictReader(io.StringIO(export.export_daylio_csv(ana.my_checkins(net.cid), PLUS_TWO))))
    assert (row["full_date"], row["date"], row["weekday"], row["time"]) == ("2027-01-01", "January 1", "Friday",
                                                                          "01:30")


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "plain", "a=b"])
def test_only_cells_a_spreadsheet_would_run_are_prefixed(text):
    assert export.sheet_safe(text) == ("'" + text if text[0] in "=+-@" else text)


def test_the_clinician_summary_goes_week_by_week_without_streaks_or_blame(pair):
    net, clock, ana, _ = pair
    start = clock.now - timedelta(weeks=3)
    for days, mood, energy in ((0, 2, 1), (2, 4, 3), (15, 3, None), (21, 5, 4)):  # week 2: none
        clock.now = start + timedelta(days=days)
        ana.checkin(net.cid, mood, energy=energy, note="slept *badly*" if mood == 2 else "", tags=("walk",),
                    share="me")
    text = export.export_checkin_summary("Ana", ana.my_checkins(net.cid), clock.now, UTC)
    assert text.startswith("# Mood check-ins: Ana\n")
    assert "| 16 Nov 2026 | 2 | 3.0 ▮▮▮▯▯ | 2 to 4 | 2.0 | walk |" in text
    assert "| 23 Nov 2026 | none recorded | | | | |" in text
    assert "| 30 Nov 2026 | 1 | 3.0 ▮▮▮▯▯ | 3 to 3 |  | walk |" in text
    assert "| 07 Dec 2026 | 1 | 5.0 ▮▮▮▮▮ | 5 to 5 | 4.0 | walk |" in text
    assert "slept \\*badly\\*" in text  # member text cannot format the page
    for word in ("streak", "missed", "only", "failed", "should"):
        assert word not in text.lower()


def test_the_summary_of_nothing_says_so_gently(pair):
    net, clock, ana, _ = pair
    assert "No check-ins recorded yet." in export.export_checkin_summary("Ana", [], clock.now)


def test_the_reminder_is_due_after_its_time_until_a_check_in_is_made_that_day(pair):
    net, clock, ana, _ = pair
    assert ana.checkin_reminder() is None and not ana.checkin_reminder_due(timezone.utc)
    assert ana.set_checkin_reminder("9:30") == "09:30"
    assert ana.checkin_reminder() == "09:30"
    clock.now = datetime(2026, 12, 8, 9, 29, tzinfo=timezone.utc)
    assert not ana.checkin_reminder_due(timezone.utc)
    clock.now = datetime(2026, 12, 8, 9, 30, tzinfo=timezone.utc)
    assert ana.checkin_reminder_due(timezone.utc)
    assert not ana.checkin_reminder_due(timezone(timedelta(hours=-1)))  # 08:30 there
    ana.checkin(net.cid, 3, share="me")
    assert not ana.checkin_reminder_due(timezone.utc)
    clock.now += timedelta(days=1)
    assert ana.checkin_reminder_due(timezone.utc)
    ana.set_checkin_reminder(None)
    assert not ana.checkin_reminder_due(timezone.utc)


def test_the_reminder_is_sealed_and_checked(pair, tmp_path):
    net, clock, ana, _ = pair
    for bad in ("24:00", "7pm", "12:5", ""):
        with pytest.raises(InvalidInput):
            ana.set_checkin_reminder(bad)
    ana.set_checkin_reminder("21:15")
    ana.close()
    for path in (tmp_path / "Ana").rglob("*"):
        if path.is_file():
            assert b"21:15" not in path.read_bytes()
