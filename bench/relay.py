"""What a relay adds: a post on A seen on B through a real `circle relay` process.

    python bench/relay.py [--posts 30] [--json]

Each round: A posts and syncs with the relay (store), B syncs with the relay
(fetch), and the time from A's post to B holding it is measured. The baseline,
in the same run on the same profiles, is the same post handed from A to B as one
sealed bundle in process (no transport): what the relay adds is the difference.
Bytes: what the relay stores per post (its `--status`), against the post's
change size. Loopback only; the relay is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from circle.service import Service  # noqa: E402
from tests.helpers.in_process import Net  # noqa: E402
from tests.helpers.relay import Relay  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        relay = Relay(root / "relay-data", root).start()
        try:
            return report(measure(root, relay, args.posts), args.json)
        finally:
            relay.stop()


def measure(root: Path, relay: Relay, posts: int) -> dict:
    net = Net(root)
    ana, ben, cy = net.profile("Ana"), net.profile("Ben"), net.profile("Cy")
    net.cid = ana.create_circle("Bench")
    net.join(ana, ben, cy)
    ana.add_relay(net.cid, relay.address, token=relay.token)
    for member in (ben, cy):
        net.send(ana, member)
    ana.sync_relays()
    ben.sync_relays()
    before = relay.status()["bytes"]
    direct, through, sizes = [], [], []
    for n in range(posts):
        start = time.perf_counter()
        post = ana.post(net.cid, f"baseline post {n}")
        net.send(ana, cy)  # in process, no transport
        direct.append(time.perf_counter() - start)
        assert any(p.id == post.id for p in cy.feed(net.cid))
        start = time.perf_counter()
        post = ana.post(net.cid, f"relayed post {n}")
        ana.sync_relays()
        ben.sync_relays()
        through.append(time.perf_counter() - start)
        assert any(p.id == post.id for p in ben.feed(net.cid))
        sizes.append(len(ana.open_circle(net.cid).document.changes_since([])[-1]))
    stored = relay.status()["bytes"] - before
    for service in (ana, ben, cy):
        service.close()
    p50_direct, p50_relay = statistics.median(direct), statistics.median(through)
    return {
        "posts": posts,
        "p50_in_process_ms": round(p50_direct * 1000, 1),
        "p50_through_relay_ms": round(p50_relay * 1000, 1),
        "p50_added_by_relay_ms": round((p50_relay - p50_direct) * 1000, 1),
        "relay_bytes_per_round": round(stored / posts),  # the round carries both of its posts
        "change_bytes_per_post": round(statistics.median(sizes)),
    }


def report(result: dict, as_json: bool) -> int:
    if as_json:
        print(json.dumps(result))
        return 0
    for key, value in result.items():
        print(f"{key:32} {value}")
    print("budget: under 100 ms added by the relay (p50):",
          "met" if result["p50_added_by_relay_ms"] < 100 else "MISSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
