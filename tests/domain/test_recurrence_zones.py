"""Events repeat on their organizer's wall clock (an IANA zone), across DST changes, and
monthly on the 31st skips the months without one (RFC 5545). Real tz database throughout."""

from __future__ import annotations

import itertools
import secrets
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import MONTHLY, WEEKLY, rrule
from hypothesis import given, settings
from hypothesis import strategies as st

from circle.crypto.identity import DeviceIdentity
from circle.domain import views
from circle.domain.document import CircleDocument
from circle.domain.recurrence import next_occurrence, occurrences, zone

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def first(n: int, *args, **kwargs) -> list[datetime]:
    return list(itertools.islice(occurrences(*args, **kwargs), n))


def test_a_weekly_london_walk_stays_at_ten_across_the_change_to_summer_time():
    # Sunday 22 March 2026, 10:00 GMT; summer time starts 01:00 UTC on Sunday 29 March.
    walk = datetime(2026, 3, 22, 10, 0, tzinfo=LONDON)
    seen = first(3, walk, "weekly", "Europe/London")
    assert [m.astimezone(LONDON).strftime("%d %H:%M %Z") for m in seen] == [
        "22 10:00 GMT", "29 10:00 BST", "05 10:00 BST"]
    assert seen[1] == utc(2026, 3, 29, 9, 0)
    # Asked the morning of the change, the next walk is at 09:00 UTC, not 10:00.
    assert next_occurrence(walk, "weekly", utc(2026, 3, 29, 1), "Europe/London") == utc(2026, 3, 29, 9)


def test_and_back_at_ten_after_the_change_to_winter_time():
    walk = datetime(2026, 10, 18, 10, 0, tzinfo=LONDON)  # winter time from Sunday 25 October
    assert [m.astimezone(LONDON).strftime("%H:%M %Z") for m in first(3, walk, "weekly", "Europe/London")] == [
        "10:00 BST", "10:00 GMT", "10:00 GMT"]


def test_an_event_without_a_zone_still_repeats_in_utc():
    """Events written before zones existed keep their old meaning: the wall clock moves."""
    walk = utc(2026, 3, 22, 10)
    assert first(2, walk, "weekly") == [utc(2026, 3, 22, 10), utc(2026, 3, 29, 10)]
    assert first(2, walk, "weekly", "UTC") == first(2, walk, "weekly", "")


def test_monthly_on_the_31st_skips_months_without_one():
    call = datetime(2026, 1, 31, 19, 30, tzinfo=NEW_YORK)
    seen = [m.astimezone(NEW_YORK) for m in first(7, call, "monthly", "America/New_York")]
    assert [(m.month, m.day, m.hour, m.minute) for m in seen] == [
        (1, 31, 19, 30), (3, 31, 19, 30), (5, 31, 19, 30), (7, 31, 19, 30), (8, 31, 19, 30),
        (10, 31, 19, 30), (12, 31, 19, 30)]
    # From 1 April, the next is 31 May (April has no 31st), in EDT.
    assert next_occurrence(call, "monthly", utc(2026, 4, 1), "America/New_York") == utc(2026, 5, 31, 23, 30)


def test_monthly_on_the_29th_meets_february_only_in_leap_years():
    seen = first(14, utc(2027, 1, 29, 9), "monthly")
    assert [m.strftime("%Y-%m") for m in seen if m.month == 2] == ["2028-02"]


def test_a_wall_time_inside_the_spring_gap_is_read_with_the_offset_before_it():
    # 01:30 on 29 March 2026 does not exist in London; RFC 5545 reads it as 01:30 GMT.
    night = datetime(2026, 3, 22, 1, 30, tzinfo=LONDON)
    assert first(2, night, "weekly", "Europe/London")[1] == utc(2026, 3, 29, 1, 30)


def test_a_repeated_hour_is_the_first_of_the_two():
    night = datetime(2026, 10, 18, 1, 30, tzinfo=LONDON)
    assert first(2, night, "weekly", "Europe/London")[1] == utc(2026, 10, 25, 0, 30)


def test_occurrences_stop_at_the_last_year_datetime_holds():
    assert first(5, utc(9999, 11, 30, 9), "monthly") == [utc(9999, 11, 30, 9), utc(9999, 12, 30, 9)]


def test_an_unknown_zone_is_refused():
    with pytest.raises(ValueError, match="Mars/Olympus"):
        zone("Mars/Olympus")
    with pytest.raises(ValueError):
        zone("../../etc/passwd")


# -- stored in the document --------------------------------------------------------------


def _doc() -> tuple[CircleDocument, views.Roster]:
    key = DeviceIdentity.generate()
    circle_id = secrets.token_hex(16)
    doc, _ = CircleDocument.create(circle_id, key.actor_id(circle_id), name="Walkers", purpose="",
                                   created_at=utc(2026, 1, 1))
    return doc, views.Roster({key.actor_id(circle_id): key.device_id}, {})


def test_zone_length_edit_and_cancel_are_read_back():
    doc, roster = _doc()
    doc.add_event("e1", "Walk", datetime(2026, 3, 22, 10, tzinfo=LONDON), utc(2026, 1, 2),
                  repeat="weekly", tz="Europe/London", minutes=90)
    event = views.read_events(doc, roster)[0]
    assert (event.tz, event.minutes, event.cancelled, event.edited_at) == ("Europe/London", 90, False, None)
    doc.edit_event("e1", utc(2026, 1, 3), title="Lake walk", where="North gate")
    doc.cancel_event("e1", utc(2026, 1, 4))
    event = views.read_events(doc, roster)[0]
    assert (event.title, event.where, event.repeat, event.tz) == ("Lake walk", "North gate", "weekly",
                                                                 "Europe/London")
    assert event.cancelled and event.edited_at == utc(2026, 1, 4)


def test_an_event_written_before_zones_reads_as_utc_for_an_hour():
    doc, roster = _doc()
    doc.add_event("e1", "Walk", utc(2026, 3, 22, 10), utc(2026, 1, 2), repeat="weekly")
    event = views.read_events(doc, roster)[0]
    assert (event.tz, event.minutes, event.cancelled) == ("", 60, False)


def test_a_zone_this_device_does_not_know_reads_as_utc():
    doc, roster = _doc()
    doc.add_event("e1", "Walk", utc(2026, 3, 22, 10), utc(2026, 1, 2), repeat="weekly", tz="Mars/Olympus",
                  minutes=-5)
    event = views.read_events(doc, roster)[0]
    assert (event.tz, event.minutes) == ("", 60)


def test_a_walk_read_back_from_the_document_repeats_at_ten_london_time():
    """The document holds UTC milliseconds; the zone stored beside them keeps the wall clock."""
    doc, roster = _doc()
    doc.add_event("e1", "Walk", datetime(2026, 3, 22, 10, tzinfo=LONDON), utc(2026, 1, 2), repeat="weekly",
                  tz="Europe/London")
    event = views.read_events(doc, roster)[0]
    assert event.when.tzinfo == timezone.utc
    following = next_occurrence(event.when, event.repeat, utc(2026, 3, 23), event.tz)
    assert following.astimezone(LONDON).strftime("%a %d %b %H:%M %Z") == "Sun 29 Mar 10:00 BST"


@settings(max_examples=150, deadline=None)
@given(
    wall=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2035, 1, 1)),
    ahead=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=2000)),
    repeat=st.sampled_from(["weekly", "monthly"]),
    name=st.sampled_from(["Europe/London", "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham"]),
)
def test_next_occurrence_agrees_with_dateutils_rrule(wall, ahead, repeat, name):
    """Property: the same answer as an independent RFC 5545 expander on the zone's wall clock."""
    tz = ZoneInfo(name)
    start = wall.replace(second=0, microsecond=0, tzinfo=tz).astimezone(timezone.utc).astimezone(tz)
    now = start + ahead
    freq = WEEKLY if repeat == "weekly" else MONTHLY
    expected = rrule(freq, dtstart=start.replace(tzinfo=None)).after(
        now.astimezone(tz).replace(tzinfo=None) - timedelta(days=2), inc=True)
    while expected.replace(tzinfo=tz).astimezone(timezone.utc) < now:
        expected = rrule(freq, dtstart=start.replace(tzinfo=None)).after(expected)
    assert next_occurrence(start, repeat, now, name) == expected.replace(tzinfo=tz).astimezone(timezone.utc)
