"""The app's plain-text parts: mood chart, pulse, strength hint, sync summary, message collapsing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from circle.domain.models import CheckIn
from circle.sync.session import SessionEvent
from circle.tui.messages import StoreChanged, SyncProgress
from circle.tui.mood_chart import circle_pulse, mood_trend, render_pulse, render_trend
from circle.tui.network_state import NetworkState
from circle.tui.passphrase_hint import strength_hint

NOW = datetime(2025, 3, 4, 12, 0, tzinfo=timezone.utc)


def checkin(who: str, mood: int, days_ago: float, visibility: str = "circle") -> CheckIn:
    return CheckIn(f"{who}{days_ago}", who, mood, NOW - timedelta(days=days_ago), visibility=visibility)


def test_trend_chart_rows_carry_mood_numbers_and_bars():
    trend = mood_trend([checkin("me", 5, 0.5), checkin("me", 1, 10, "me"), checkin("you", 3, 1)], "me", NOW, 30)
    lines = render_trend(trend).splitlines()
    assert lines[0].startswith("5 very good │") and lines[4].startswith("1  very low │")
    assert lines[0].endswith("█")  # today: a full bar
    assert lines[4].count("█") == 2 and lines[3].count("█") == 1  # 10 days ago: 1; today: 5
    assert lines[-1] == ("Last 30 days: 2 check-ins · average 3.0 · lowest 1 · highest 5 · "
                         "latest 5 (very good)")
    assert "no check-ins yet" in render_trend(mood_trend([], "me", NOW, 90))


def test_pulse_counts_shared_check_ins_only():
    pulse = circle_pulse([checkin("a", 2, 1), checkin("b", 4, 2), checkin("a", 4, 3, "me"),
                          checkin("c", 1, 8)], NOW)
    assert (pulse.people, pulse.count, pulse.spread) == (2, 2, (0, 1, 0, 1, 0))
    assert render_pulse(pulse).splitlines()[1] == "1: 0  2: ▮1  3: 0  4: ▮1  5: 0"


def test_strength_hint_in_words():
    assert "too short" in strength_hint("abc")
    assert "weak" in strength_hint("password")
    assert "fair" in strength_hint("correct horse battery staple")
    assert "strong" in strength_hint("violet anchor drizzle quantum ferry tulip maple orbit")


def event(peer: str, state: str, circle: str | None = "c1", **kw) -> SessionEvent:
    return SessionEvent(peer, state, circle, **kw)


def test_sync_summary_in_words():
    net = NetworkState()
    assert net.summary("c1") == "offline"
    net.listening = "127.0.0.1:5000"
    assert net.summary("c1") == "waiting for peers"
    net.record(event("p1", "syncing", items_expected=40, items_done=10, last_contact=5.0))
    assert net.summary("c1") == "syncing 10/40 items"
    net.record(event("p1", "live", last_contact=6.0))
    net.record(event("p2", "live", last_contact=6.0))
    assert net.summary("c1") == "live with 2 peers"
    net.record(event("p1", "lost", None, detail="reset"))
    net.record(event("p2", "lost", None))
    assert net.summary("c1") == "offline (reconnecting)"
    assert net.sessions["p1"].last_contact == 6.0  # a lost event keeps the last contact
    assert [text for _, text in net.problems] == ["lost p1: reset", "lost p2: connection ended"]


def test_progress_messages_collapse_but_state_changes_do_not():
    a = SyncProgress(event("p1", "syncing", items_done=1))
    assert a.can_replace(SyncProgress(event("p1", "syncing", items_done=2)))
    assert not a.can_replace(SyncProgress(event("p1", "live")))
    assert not a.can_replace(SyncProgress(event("p2", "syncing")))
    assert StoreChanged("c1").can_replace(StoreChanged("c1"))
    assert not StoreChanged("c1").can_replace(StoreChanged("c2"))
