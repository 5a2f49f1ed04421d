"""What the app knows about its sync: where it listens, each peer's session, recent problems.

Plain data updated from SessionEvents on the app's thread; screens read it.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field, replace

from circle.sync.session import SessionEvent

ACTIVE = ("connecting", "syncing", "live")


@dataclass
class NetworkState:
    listening: str | None = None
    discovery: str = "off"
    sessions: dict[str, SessionEvent] = field(default_factory=dict)  # peer -> latest event
    circles_of: dict[str, set[str]] = field(default_factory=dict)    # peer -> circles seen
    problems: deque[tuple[float, str]] = field(default_factory=lambda: deque(maxlen=50))
    # (circle, relay address) -> (last outcome, when; when it last synced, or 0.0)
    relays: dict[tuple[str, str], tuple[str, float, float]] = field(default_factory=dict)

    def relay(self, circle_id: str, address: str, status: str, at: float | None = None) -> None:
        at = time.time() if at is None else at
        _, _, synced = self.relays.get((circle_id, address), ("", 0.0, 0.0))
        self.relays[(circle_id, address)] = (status, at, at if status == "synced" else synced)

    def relay_state(self, circle_id: str, address: str, now: float) -> str:
        """A relay's state in words: "synced 10 s ago", or the last problem and
        when it last synced ("unreachable (will try again), last synced 40 s ago")."""
        status, at, synced = self.relays[(circle_id, address)]
        if status == "synced":
            return f"synced {max(0, int(now - at))} s ago"
        since = f", last synced {max(0, int(now - synced))} s ago" if synced else ""
        return f"{status}{since}"

    def record(self, event: SessionEvent) -> None:
        previous = self.sessions.get(event.peer)
        if event.circle_id:
            self.circles_of.setdefault(event.peer, set()).add(event.circle_id)
        if event.last_contact == 0.0 and previous is not None:
            event = replace(event, last_contact=previous.last_contact)
        self.sessions[event.peer] = event
        if event.state == "lost":
            self.problem(f"lost {event.peer}: {event.detail or 'connection ended'}")

    def problem(self, text: str, at: float | None = None) -> None:
        self.problems.append((time.time() if at is None else at, text))

    def peers_for(self, circle_id: str) -> list[SessionEvent]:
        return [e for peer, e in self.sessions.items() if circle_id in self.circles_of.get(peer, ())]

    def summary(self, circle_id: str) -> str:
        """One phrase for a circle's sync state, in words (never colour alone)."""
        events = self.peers_for(circle_id)
        syncing = [e for e in events if e.state == "syncing" and e.circle_id == circle_id]
        live = [e for e in events if e.state == "live"]
        if syncing:
            e = syncing[0]
            if e.items_expected:
                return f"syncing {e.items_done}/{e.items_expected} items"
            return "syncing"
        if live:
            return f"live with {len(live)} peer{'s' if len(live) != 1 else ''}"
        if events:
            newest = max(e.last_contact for e in events)
            return "offline (reconnecting)" if newest else "offline"
        return "offline" if self.listening is None else "waiting for peers"
