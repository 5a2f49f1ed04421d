"""circle.domain.times: one way to write a moment for people, one for JSON, on any zone's clock."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo, available_timezones

from hypothesis import given, strategies as st

from circle.domain.document import MAX_MILLIS, from_millis
from circle.domain.times import readable, stamp

ZONES = sorted(available_timezones())


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


DAY = 86_400_000
# Anywhere, and often within a day of either end of the range, where a zone's clock runs out.
MOMENTS = st.one_of(st.integers(min_value=0, max_value=MAX_MILLIS), st.integers(min_value=0, max_value=DAY),
                    st.integers(min_value=MAX_MILLIS - DAY, max_value=MAX_MILLIS))


@given(millis=MOMENTS, zone=st.sampled_from(ZONES))
def test_any_moment_a_peer_may_name_shows_on_any_zones_clock(millis, zone):
    moment = from_millis(millis)
    text, iso = readable(moment, ZoneInfo(zone)), stamp(moment, ZoneInfo(zone))
    assert datetime.fromisoformat(iso) == moment  # the offset makes it the same instant
    assert len(text.split()) == 5, text
