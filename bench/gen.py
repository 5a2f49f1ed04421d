"""Filling a profile with one large circle, through the real invite and receive paths.

The organizer's profile is created at HOME. A few member profiles are created
beside it (in a temporary directory), each admitted with a real invite code. Each
member writes its share of the posts with its own actor, as one Automerge change
per post (`Service.write_many`, one store transaction per batch instead of one
fsync per post). The organizer receives each member's batch as a real sealed
bundle made by the member's `Service.delta_for` and checked by
`Service.receive_bundle` (signatures, authorship, heads), so the circle holds
nothing the real receive path would refuse.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

from circle.service import Service

MEMBER_NAMES = ("Maya", "Jonas", "Priya", "Sam", "Noor", "Eli", "Ruth", "Tomas")

WORDS = (
    "today was hard but I went for a walk and called my sister thanks everyone for listening "
    "sleep has been better this week therapy helped I feel tired anxious hopeful small wins "
    "the kids were calm at dinner work is heavy again my mum asked how I was and I told her "
    "breathing exercises before bed seem to help I missed the meeting sorry will come Tuesday"
).split()

CW_WORDS = ("grief", "hospital", "self-harm mention", "family illness", "panic")


def synthetic_bodies(rng: random.Random) -> Iterator[str]:
    """Post bodies shaped like a support circle's: mostly short, some long."""
    while True:
        words = rng.choice((3, 6, 9, 12, 15, 20, 30, 45, 80))
        yield " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + rng.choice(".!?")


def corpus_bodies(path: Path) -> Iterator[str]:
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    lines = [line[:20_000] for line in lines if line]
    if not lines:
        raise SystemExit(f"{path}: no non-empty lines")
    while True:
        yield from lines


def generate(
    home: Path,
    items: int,
    passphrase: str,
    *,
    corpus: Path | None = None,
    members: int = 4,
    batch: int = 5_000,
    seed: int = 1,
    progress: Callable[[str], None] = lambda text: None,
) -> str:
    """Create the organizer's profile at `home` with one circle of `items` posts
    by `members` members (plus the organizer); returns the circle id."""
    rng = random.Random(seed)
    bodies = corpus_bodies(corpus) if corpus else synthetic_bodies(rng)
    started = time.monotonic()
    org = Service.create_profile(home, "Organizer", passphrase)
    scratch = Path(tempfile.mkdtemp(prefix="circle-bench-members-"))
    peers: list[Service] = []
    try:
        circle_id = org.create_circle("Bench circle", "A generated circle for benchmarks.")
        org.set_guidelines(circle_id, "Be kind. What is shared here stays here.")
        code = org.invite(circle_id, uses=members)
        org_device = org.whoami().device_id
        for index in range(members):
            name = MEMBER_NAMES[index % len(MEMBER_NAMES)]
            peer = Service.create_profile(scratch / f"m{index}", name, passphrase)
            peer.accept_welcome(code, org.admit_request(peer.join_request(code)))
            peer.accept_guidelines(circle_id)
            org.receive_bundle(peer.bundle_for(circle_id, org_device))  # its introduction
            peers.append(peer)
        writers = [org, *peers]
        progress(f"profiles ready ({len(writers)} writers) in {time.monotonic() - started:.1f}s")

        # Posts spread over the last year, oldest first; some replies, a few warnings.
        now = datetime.now(timezone.utc)
        first = now - timedelta(days=365)
        step = (now - first - timedelta(minutes=1)) / max(items, 1)
        post_ids: list[str] = []
        for start in range(0, items, batch):
            stop = min(items, start + batch)
            plan: dict[int, list] = {w: [] for w in range(len(writers))}
            for i in range(start, stop):
                post_id = f"{rng.getrandbits(64):016x}"
                reply_to = None
                if post_ids and rng.random() < 0.15:
                    reply_to = post_ids[-rng.randint(1, min(50, len(post_ids)))]
                cw = rng.choice(CW_WORDS) if rng.random() < 0.03 else None
                created = first + step * i
                plan[rng.randrange(len(writers))].append((post_id, next(bodies), created, reply_to, cw))
                post_ids.append(post_id)
            for w, writer in enumerate(writers):
                if not plan[w]:
                    continue
                writer.write_many(circle_id, [
                    (lambda d, p=p: d.add_post(*p)) for p in plan[w]
                ])
                if writer is not org:
                    delta = writer.delta_for(circle_id, org_device, org.sync_state(circle_id))
                    if delta is not None:
                        org.receive_bundle(delta[0])
            progress(f"{stop:,} / {items:,} items ({time.monotonic() - started:.1f}s)")
        return circle_id
    finally:
        for peer in peers:
            peer.close()
        org.close()
        shutil.rmtree(scratch, ignore_errors=True)
