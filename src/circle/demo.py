"""A demo circle with simulated members, for `circle demo` and benchmarks.

The simulated members are real profiles beside the demo profile; they join
with a real invite code and their posts arrive as real bundles, so everything
shown passes the same checks as a real circle. In `circle demo` they then keep
talking: each serves its profile on 127.0.0.1 (`DemoCrowd`), the app dials
them, and their new posts and reactions arrive over real sync sessions.
"""

from __future__ import annotations

import logging
import random
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from circle.domain.models import CrisisResource
from circle.errors import CircleError
from circle.service import Service
from circle.sync.clock import REAL, Clock

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


class DemoClock:
    """A clock that can be moved: scripted history first, then `go_live()` follows real time."""

    def __init__(self, start: datetime | None = None) -> None:
        self.offset = timedelta(0) if start is None else start - datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset

    def set(self, moment: datetime) -> None:
        self.offset = moment - datetime.now(timezone.utc)

    def advance(self, step: timedelta) -> None:
        self.offset += step

    def go_live(self) -> None:
        self.offset = timedelta(0)


SEEDED_POSTS = len(_SCRIPT) + 1  # the scripted history and one post waiting for moderation

def _hand_over(circle_id: str, sender: Service, receiver: Service) -> None:
    """Gives `receiver` what it lacks of `sender`'s circle, as a bundle addressed to it."""
    bundle = sender.bundle_for(circle_id, receiver.whoami().device_id)
    if bundle is not None:
        receiver.receive_bundle(bundle)


def seed_demo(service: Service, home: Path, now: datetime) -> tuple[str, dict[str, Service]]:
    """Create the demo circle in `service`, with simulated members under `home`.

    Returns the circle id and the simulated members' services (their clocks
    are set two days back and advance through the scripted history)."""
    circle_id = service.create_circle(
        "Tuesday Walkers", "A small group that walks, talks and looks out for each other."
    )
    service.set_guidelines(circle_id, GUIDELINES)
    service.add_resource(circle_id, CrisisResource(
        "Walkers' phone tree", "text Maya on 07700 900461", "", "any time"))
    code = service.invite(circle_id, uses=len(NAMES))
    clock = DemoClock(now - timedelta(days=3))  # the scripted history (about 50 h) ends before now
    advance = clock.advance
    peers: dict[str, Service] = {}
    for name in NAMES:
        peer = Service.create_profile(home / name.lower(), name, secrets.token_urlsafe(16), clock=clock)
        peer.accept_welcome(code, service.admit_request(peer.join_request(code)))
        peer.accept_guidelines(circle_id)  # as the join flow asks every newcomer to
        _hand_over(circle_id, peer, service)
        peers[name] = peer
    for peer in peers.values():  # everyone learns who else was admitted
        _hand_over(circle_id, service, peer)

    def share(peer: Service) -> None:
        _hand_over(circle_id, peer, service)
        for other in peers.values():
            if other is not peer:
                _hand_over(circle_id, peer, other)

    post_ids: list[str] = []
    for name, body, reply_to, cw in _SCRIPT:
        advance(timedelta(hours=6))
        parent = post_ids[reply_to] if reply_to is not None else None
        post_ids.append(peers[name].post(circle_id, body, reply_to=parent, content_warning=cw).id)
        share(peers[name])
    peers["Maya"].react(circle_id, post_ids[2], "hug")
    share(peers["Maya"])
    for name, mood, how in (("Priya", 2, "circle"), ("Maya", 4, "circle"), ("Jonas", 3, "circle"),
                            ("Priya", 2, "band")):
        advance(timedelta(hours=5))
        peers[name].checkin(circle_id, mood, share=how)
        share(peers[name])
    advance(timedelta(hours=2))  # something for the moderation queue: you organize this circle
    blunt = peers["Jonas"].post(circle_id, "Honestly, some people here just need to toughen up.").id
    share(peers["Jonas"])
    peers["Maya"].report(circle_id, blunt, "This feels aimed at Priya, and it's unkind.")
    share(peers["Maya"])
    advance(timedelta(hours=1))  # a care signal only you and Maya can read
    you = service.whoami().member_id
    peers["Priya"].reach_out(circle_id, [you, peers["Maya"].whoami().member_id],
                             "Could one of you give me a call this week? Evenings are best.")
    share(peers["Priya"])
    days_to_tuesday = (1 - now.weekday()) % 7 or 7
    walk = now.replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=days_to_tuesday)
    peers["Jonas"].add_event(circle_id, "Tuesday walk", walk, repeat="weekly", where="North gate")
    share(peers["Jonas"])
    clock.go_live()  # from here on the simulated members live in real time
    return circle_id, peers


MY_MOODS = (3, 2, 2, 3, 4, 3, 1, 2, 3, 3, 4, 4, 3, 2, 3, 4)


def seed_my_checkins(service: Service, circle_id: str, clock: DemoClock) -> None:
    """A month of your own check-ins (most private), so the mood trend has a shape.
    `clock` must be the service's clock; it is back to real time afterwards."""
    start = datetime.now(timezone.utc) - timedelta(days=31)
    for day, mood in enumerate(MY_MOODS):
        clock.set(start + timedelta(days=day * 2, hours=9))
        service.checkin(circle_id, mood, share="me" if day % 4 != 0 else "circle")
    clock.go_live()


# -- live activity -------------------------------------------------------------------

LIVE_POSTS = (
    ("Priya", "Slept a bit better last night. Small things.", None),
    ("Maya", "Anyone up for the short loop on Thursday instead? My knee is grumbling.", None),
    ("Jonas", "Thursday works for me. Six o'clock at the gate?", "reply"),
    ("Priya", "Dad's scan results come tomorrow. Trying not to spiral.", "hospital"),
    ("Maya", "Saw the first crocuses by the bench today.", None),
    ("Jonas", "Reminder to drink water, everyone. That includes me.", None),
)
REACTIONS = ("hug", "heart", "+1", "thanks")


class DemoCrowd:
    """The simulated members, live: each serves on 127.0.0.1 and now and then posts,
    replies, reacts (your posts first) or checks in."""

    def __init__(self, peers: dict[str, Service], circle_id: str, me: str, *,
                 first_after: float = 5.0, every: tuple[float, float] = (20.0, 40.0),
                 rng: random.Random | None = None, clock: Clock = REAL) -> None:
        self.peers, self.circle_id, self.me = peers, circle_id, me
        self.clock = clock
        self.first_after, self.every = first_after, every
        self.rng = rng or random.Random()
        self.step = 0
        self.addresses: list[str] = []

    async def run(self, dial: Callable[[str], None]) -> None:
        """Serve every member and have `dial` connect to each; act until cancelled."""
        from circle.sync.node import Node

        nodes = []
        try:
            for peer in self.peers.values():
                node = Node(peer, clock=self.clock)
                host, port = await node.listen("127.0.0.1", 0)
                nodes.append(node)
                self.addresses.append(f"{host}:{port}")
                dial(f"{host}:{port}")
            await self.clock.sleep(self.first_after)
            while True:
                try:
                    self.act()
                except Exception as exc:  # a bug costs one move, never the demo (and shows in the network panel)
                    logging.getLogger("circle.sync").error(
                        "a demo member's move failed (the demo carries on): %s", f"{type(exc).__name__}: {exc}",
                        exc_info=True)
                await self.clock.sleep(self.rng.uniform(*self.every))
        finally:
            for node in nodes:
                await node.close()

    def act(self) -> None:
        """One simulated move, written through the member's own service."""
        try:
            self._act()
        except CircleError:
            pass  # e.g. the user removed or muted that member: the demo carries on
        finally:
            self.step += 1  # a move that failed is not tried again: the next one differs

    def _act(self) -> None:
        names = list(self.peers)
        answered: dict[str, set[str]] = {}
        for peer in self.peers.values():
            for post in peer.feed(self.circle_id):
                answered.setdefault(post.id, set()).update(*post.reactions.values())
        peer_ids = {peer.whoami().member_id for peer in self.peers.values()}
        anyone = self.peers[names[0]]
        mine = [p for p in anyone.feed(self.circle_id)
                if p.author_id == self.me and not p.deleted and not (answered.get(p.id, set()) & peer_ids)]
        if mine:  # someone always answers you first
            name = self.rng.choice(names)
            self.peers[name].react(self.circle_id, mine[-1].id, self.rng.choice(REACTIONS[:2]))
            return
        if self.step % 3 == 2:
            name = self.rng.choice(names)
            self.peers[name].checkin(self.circle_id, self.rng.randint(2, 5))
            return
        name, body, kind = LIVE_POSTS[(self.step - self.step // 3) % len(LIVE_POSTS)]
        peer = self.peers[name]
        posts = [p for p in peer.feed(self.circle_id) if not p.deleted and not p.hidden]
        if kind == "reply" and posts:
            peer.post(self.circle_id, body, reply_to=posts[-1].id)
        else:
            peer.post(self.circle_id, body, content_warning=kind if kind and kind != "reply" else None)
        if posts and self.rng.random() < 0.5:
            other = self.peers[self.rng.choice([n for n in names if n != name])]
            other.react(self.circle_id, posts[-1].id, self.rng.choice(REACTIONS))
