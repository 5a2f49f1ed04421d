"""`circle export --format ics` read back with the `icalendar` library: the fields a calendar
app imports, member text that cannot break out of its property, and the occurrences of a
weekly London walk across the change to summer time, expanded from the file's own RRULE
and VTIMEZONE (dateutil's rrule, as calendar code uses)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
from dateutil.rrule import rrulestr

from circle.domain.models import CircleInfo, Event
from circle.ics import export_ics
from tests.helpers.cli import Cli

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
INFO = CircleInfo("c" * 32, "Walkers", "", "", NOW, frozenset())


def parsed(text: str) -> icalendar.Calendar:
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    return icalendar.Calendar.from_ical(text)


def vevents(calendar: icalendar.Calendar) -> dict[str, icalendar.Event]:
    return {str(e["UID"]).split("@")[0]: e for e in calendar.walk("VEVENT")}


def test_a_weekly_london_walk_keeps_ten_oclock_in_the_calendar_across_summer_time():
    walk = Event("e1", "m", "Sunday walk", datetime(2026, 3, 22, 10, tzinfo=LONDON), "weekly", tz="Europe/London",
                 minutes=90)
    calendar = parsed(export_ics(INFO, [walk], NOW))
    event = vevents(calendar)["e1"]
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert event.decoded("DURATION") == timedelta(minutes=90)
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event["RRULE"]["FREQ"] == ["WEEKLY"]
    # The file's own VTIMEZONE, turned into a tzinfo, agrees with the tz database.
    (vtimezone,) = calendar.walk("VTIMEZONE")
    assert str(vtimezone["TZID"]) == "Europe/London"
    from_file = vtimezone.to_tz()
    for moment in (datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2026, 3, 29, 0, 59, tzinfo=timezone.utc),
                   datetime(2026, 3, 29, 1, 0, tzinfo=timezone.utc), datetime(2031, 7, 1, tzinfo=timezone.utc),
                   datetime(2031, 10, 26, 1, 0, tzinfo=timezone.utc)):
        assert moment.astimezone(from_file).utcoffset() == moment.astimezone(LONDON).utcoffset(), moment
    # Expand the RRULE on the file's wall clock: 10:00 every Sunday, 09:00 UTC once BST starts.
    start = event.decoded("DTSTART").replace(tzinfo=from_file)
    rule = rrulestr(event["RRULE"].to_ical().decode(), dtstart=start)
    seen = [m.astimezone(timezone.utc) for m in itertools.islice(rule, 3)]
    assert seen == [datetime(2026, 3, 22, 10, tzinfo=timezone.utc), datetime(2026, 3, 29, 9, tzinfo=timezone.utc),
                    datetime(2026, 4, 5, 9, tzinfo=timezone.utc)]


def test_monthly_on_the_31st_in_the_file_skips_the_same_months_as_the_app():
    from circle.domain.recurrence import occurrences

    call = Event("e2", "m", "Call", datetime(2026, 1, 31, 19, tzinfo=LONDON), "monthly", tz="Europe/London")
    calendar = parsed(export_ics(INFO, [call], NOW))
    event = vevents(calendar)["e2"]
    tz = calendar.walk("VTIMEZONE")[0].to_tz()
    rule = rrulestr(event["RRULE"].to_ical().decode(), dtstart=event.decoded("DTSTART").replace(tzinfo=tz))
    assert [m.astimezone(timezone.utc) for m in itertools.islice(rule, 6)] == list(
        itertools.islice(occurrences(call.when, "monthly", "Europe/London"), 6))


def test_member_text_is_escaped_and_cannot_add_properties():
    hostile = Event("e3", "m", "Walk\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:forged", NOW, where="Gate; B, C\\",
                    notes="line one\nline two, \u202eevil\x07 " + "long " * 40)
    calendar = parsed(export_ics(INFO, [hostile], NOW))
    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Walk\nEND:VEVENT\nBEGIN:VEVENT\nSUMMARY:forged"
    assert str(event["LOCATION"]) == "Gate; B, C\\"
    assert str(event["DESCRIPTION"]).startswith("line one\nline two, evil")
    assert "\x07" not in str(event["DESCRIPTION"]) and "\u202e" not in str(event["DESCRIPTION"])
    assert event.decoded("DTSTART") == NOW  # no zone: written in UTC


def test_the_cli_plans_edits_cancels_and_exports_events(profile_cli: Cli, circle_id: str, tmp_path: Path):
    walk = profile_cli.ok("event", circle_id, "Sunday walk", "--when", "2030-03-24T10:00", "--tz", "Europe/London",
                          "--repeat", "weekly", "--where", "North gate", "--json").json()
    assert (walk["tz"], walk["next"], walk["cancelled"]) == ("Europe/London", "2030-03-24T10:00:00+00:00", False)
    club = profile_cli.ok("event", circle_id, "Book club", "--when", "2030-05-31T19:00", "--tz", "America/New_York",
                          "--repeat", "monthly").stdout.strip()
    edited = profile_cli.ok("event-edit", circle_id, "Sunday walk", "--title", "Lake walk", "--minutes", "120",
                            "--json").json()
    assert edited["id"] == walk["id"]
    assert profile_cli.ok("event-cancel", circle_id, club[:8]).stdout.strip() == club
    listed = {e["id"]: e for e in profile_cli.ok("events", circle_id, "--json").json()}
    assert (listed[walk["id"]]["title"], listed[walk["id"]]["minutes"]) == ("Lake walk", 120)
    assert listed[club]["cancelled"] and listed[club]["tz"] == "America/New_York"
    assert "CANCELLED Book club" in profile_cli.ok("events", circle_id).stdout

    bad = profile_cli.run("event", circle_id, "Walk", "--when", "2030-03-24T10:00", "--tz", "Europe/Atlantis")
    assert bad.returncode != 0 and bad.stderr.startswith("circle: unknown time zone 'Europe/Atlantis'")
    again = profile_cli.run("event-cancel", circle_id, club)
    assert again.returncode != 0 and again.stderr.startswith("circle: ") and "cancelled" in again.stderr

    out = tmp_path / "walkers.ics"
    profile_cli.ok("export", circle_id, "--format", "ics", "--output", str(out))
    assert out.stat().st_mode & 0o777 == 0o600
    calendar = parsed(out.read_bytes().decode("utf-8"))
    events = vevents(calendar)
    assert str(events[walk["id"]]["SUMMARY"]) == "Lake walk"
    assert events[walk["id"]].decoded("DTSTART").replace(tzinfo=None) == datetime(2030, 3, 24, 10)
    assert str(events[club]["STATUS"]) == "CANCELLED"
    assert events[club]["DTSTART"].params["TZID"] == "America/New_York"
    assert {str(z["TZID"]) for z in calendar.walk("VTIMEZONE")} == {"Europe/London", "America/New_York"}
