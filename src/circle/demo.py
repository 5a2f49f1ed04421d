"""A demo circle with simulated members, for `circle demo` and benchmarks.

The simulated members are real profiles beside the demo profile; they join
with a real invite code and their posts arrive as real bundles, so everything
shown passes the same checks as a real circle.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from circle.service import Service

GUIDELINES = """\
1. What is shared here stays here.
2. Listen first; advice only when asked.
3. Use a content warning for anything heavy.
4. If someone is in danger, press F1 for crisis resources and reach out.
"""

NAMES = ("Maya", "Jonas", "Priya")

_SCRIPT = [
    ("Maya", "Made it round the lake this morning. Slow, but I went.", None, None),
    ("Jonas", "That's a win. The fog was beautiful down by the boathouse.", 0, None),
    ("Priya", "Rough week. Not sleeping much since the news about my dad.", None, "family illness"),
    ("Maya", "Sending you a hug. Walk with me Tuesday? No need to talk.", 2, None),
    ("Jonas", "Reminder: we meet at the north gate, 10:00. Bring water.", None, None),
]


def _clock_from(start: datetime) -> tuple[Callable[[], datetime], Callable[[timedelta], None]]:
    now = [start]

    def advance(step: timedelta) -> None:
        now[0] += step

    return (lambda: now[0]), advance


def seed_demo(service: Service, home: Path, now: datetime) -> tuple[str, dict[str, Service]]:
    """Create the demo circle in `service`, with simulated members under `home`.

    Returns the circle id and the simulated members' services (their clocks
    are set two days back and advance through the scripted history)."""
    circle_id = service.create_circle(
        "Tuesday Walkers", "A small group that walks, talks and looks out for each other."
    )
    service.set_guidelines(circle_id, GUIDELINES)
    code = service.invite(circle_id, uses=len(NAMES))
    clock, advance = _clock_from(now - timedelta(days=2))
    peers: dict[str, Service] = {}
    for name in NAMES:
        peer = Service.create_profile(home / name.lower(), name, secrets.token_urlsafe(16), clock=clock)
        peer.accept_welcome(code, service.admit_request(peer.join_request(code)))
        service.receive_bundle(peer.bundle_for(circle_id, service.whoami().device_id))
        peers[name] = peer
    me = service.whoami().device_id
    for peer in peers.values():  # everyone learns who else was admitted
        peer.receive_bundle(service.bundle_for(circle_id, peer.whoami().device_id))

    def share(peer: Service) -> None:
        service.receive_bundle(peer.bundle_for(circle_id, me))
        for other in peers.values():
            if other is not peer:
                other.receive_bundle(peer.bundle_for(circle_id, other.whoami().device_id))

    post_ids: list[str] = []
    for name, body, reply_to, cw in _SCRIPT:
        advance(timedelta(hours=6))
        parent = post_ids[reply_to] if reply_to is not None else None
        post_ids.append(peers[name].post(circle_id, body, reply_to=parent, content_warning=cw).id)
        share(peers[name])
    peers["Maya"].react(circle_id, post_ids[2], "hug")
    share(peers["Maya"])
    for name, mood in (("Priya", 2), ("Maya", 4), ("Jonas", 3), ("Priya", 2)):
        advance(timedelta(hours=5))
        peers[name].checkin(circle_id, mood)
        share(peers[name])
    days_to_tuesday = (1 - now.weekday()) % 7 or 7
    walk = now.replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=days_to_tuesday)
    peers["Jonas"].add_event(circle_id, "Tuesday walk", walk, repeat="weekly", where="North gate")
    share(peers["Jonas"])
    return circle_id, peers
