"""A demo circle with simulated members, for `circle demo` and benchmarks.

Simulated members are real device identities writing with their own actors,
so everything shown passes the same authorship checks as a real circle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from circle.crypto.identity import DeviceIdentity
from circle.domain.document import CircleDocument
from circle.service import Service

GUIDELINES = """\
1. What is shared here stays here.
2. Listen first; advice only when asked.
3. Use a content warning for anything heavy.
4. If someone is in danger, press F1 for crisis resources and reach out.
"""

_SCRIPT = [
    ("Maya", "Made it round the lake this morning. Slow, but I went.", None, None),
    ("Jonas", "That's a win. The fog was beautiful down by the boathouse.", 0, None),
    ("Priya", "Rough week. Not sleeping much since the news about my dad.", None, "family illness"),
    ("Maya", "Sending you a hug. Walk with me Tuesday? No need to talk.", 2, None),
    ("Jonas", "Reminder: we meet at the north gate, 10:00. Bring water.", None, None),
]


@dataclass(frozen=True)
class SimulatedMember:
    name: str
    identity: DeviceIdentity

    def member_id(self) -> str:
        return self.identity.device_id

    def document(self, service: Service, circle_id: str) -> CircleDocument:
        base = service.open_circle(circle_id).document
        return base.fork_as(self.identity.actor_id(circle_id))


def seed_demo(service: Service, now: datetime) -> str:
    circle_id = service.create_circle(
        "Tuesday Walkers", "A small group that walks, talks and looks out for each other."
    )
    service.set_guidelines(circle_id, GUIDELINES)
    people = {name: SimulatedMember(name, DeviceIdentity.generate()) for name in ("Maya", "Jonas", "Priya")}
    docs = {name: person.document(service, circle_id) for name, person in people.items()}
    start = now - timedelta(days=2)

    def share(changes: list[bytes]) -> None:
        service.receive_changes(circle_id, changes)
        for doc in docs.values():
            doc.apply_changes(changes)

    for name, person in people.items():
        share(docs[name].introduce(person.identity.public, person.member_id(), name, start))
    post_ids: list[str] = []
    for index, (name, body, reply_to, cw) in enumerate(_SCRIPT):
        post_id = f"demo{index:04d}"
        parent = post_ids[reply_to] if reply_to is not None else None
        share(docs[name].add_post(post_id, body, start + timedelta(hours=6 * index), parent, cw))
        post_ids.append(post_id)
    share(docs["Maya"].set_reaction(post_ids[2], "hug", people["Maya"].member_id(), True))
    for day, (name, mood) in enumerate([("Priya", 2), ("Maya", 4), ("Jonas", 3), ("Priya", 2)]):
        share(docs[name].add_checkin(f"democi{day:02d}", mood, start + timedelta(hours=8 * day)))
    days_to_tuesday = (1 - now.weekday()) % 7 or 7
    walk = now.replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=days_to_tuesday)
    share(docs["Jonas"].add_event("demoevt1", "Tuesday walk", walk, start, repeat="weekly", where="North gate"))
    return circle_id
