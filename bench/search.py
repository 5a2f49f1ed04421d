"""Search at scale: time per query against the 200 ms budget, in a generated circle.

    python bench/search.py                 # 100k posts (generating takes about a minute)
    python bench/search.py --quick         # 10k posts
    python bench/search.py --json          # one JSON object on stdout
    python bench/search.py --home DIR      # keep the generated profile in DIR (reused if there)

The circle is made as bench/run.py makes it (bench/gen.py: real members, `Service.write_many`,
every batch received as a real bundle). The bodies are the synthetic ones plus a few rare words
and accented names, so queries range from one match to most of the circle. Per query: the
median and worst of --repeat runs of `Service.search` (50 hits with their snippets) on an
unlocked profile whose feed is already read, as a ratio to the budget, and as a ratio to a
plain scan of the same feed (fold each post and run the query's patterns) in the same run. The
first search of a state builds the in-memory index: that is timed apart, next to the feed read
it follows. Nothing here is asserted; tests/ hold no timings.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "src"))
sys.path.insert(0, str(BENCH))

from gen import generate, synthetic_bodies  # noqa: E402

from circle.domain.search import fold, parse  # noqa: E402
from circle.service import Service  # noqa: E402
from circle.service.search import searchable_text  # noqa: E402

PASSPHRASE = "bench passphrase, not a secret"
BUDGET_MS = 200.0
QUERIES = (
    "zephyr",               # one post in a thousand
    "cafe muller",          # two words, written "Café Müller"
    '"went for a walk"',    # a phrase
    "sleep therapy",        # two common words
    "walk",                 # a common word
    "the",                  # in most posts
    "xylophone",            # in none
)


def corpus(path: Path, lines: int, seed: int) -> Path:
    rng = random.Random(seed)
    bodies = synthetic_bodies(rng)
    with path.open("w", encoding="utf-8") as out:
        for _ in range(lines):
            body = next(bodies)
            if rng.random() < 0.01:
                body += " We met at Café Müller."
            if rng.random() < 0.001:
                body += " A zephyr at dawn."
            out.write(body + "\n")
    return path


def timed(call) -> tuple[float, object]:
    started = time.perf_counter()
    value = call()
    return (time.perf_counter() - started) * 1000, value


def plain_scan(feed, text: str) -> int:
    query = parse(text)
    posts = [p for p in feed if not p.deleted and p.body]
    found = [p for p in posts if all(pt.search(fold(searchable_text(p))) for pt in query.patterns)]
    found.sort(key=lambda p: p.created_at, reverse=True)
    return len(found)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10k posts instead of 100k")
    ap.add_argument("--items", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--home", type=Path, help="generate into (or reuse) this profile directory")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    items = args.items or (10_000 if args.quick else 100_000)
    work = Path(tempfile.mkdtemp(prefix="circle-bench-search-"))
    home = args.home or work / "org"
    try:
        started = time.monotonic()
        circle_id = None
        if not home.exists() or not any(home.iterdir()):
            circle_id = generate(home, items, PASSPHRASE, corpus=corpus(work / "corpus.txt", 20_000, 3),
                     progress=lambda t: print(f"[bench] {t}", file=sys.stderr, flush=True))
        generated = time.monotonic() - started
        service = Service.unlock(home, PASSPHRASE)
        circle_id = circle_id or service.repo.ids()[0]
        feed_ms, feed = timed(lambda: service.feed(circle_id))
        build_ms, _ = timed(lambda: service.search(circle_id, "xylophone"))
        rows = []
        for text in QUERIES:
            runs = [timed(lambda q=text: service.search(circle_id, q))[0] for _ in range(args.repeat)]
            total = service.search(circle_id, text).total
            scan_ms, scanned = timed(lambda q=text: plain_scan(feed, q))
            assert scanned == total, (text, scanned, total)
            p50 = statistics.median(runs)
            rows.append({"query": text, "matches": total, "p50_ms": round(p50, 2), "max_ms": round(max(runs), 2),
                         # Ratios unrounded: a tiny circle's query is microseconds, not zero.
                         "budget_ratio": max(runs) / BUDGET_MS, "scan_ms": round(scan_ms, 1),
                         "scan_ratio": p50 / scan_ms})
        service.close()
        report = {"posts": len(feed), "generate_s": round(generated, 1), "feed_ms": round(feed_ms, 1),
                  "index_build_ms": round(build_ms, 1), "budget_ms": BUDGET_MS, "queries": rows,
                  "worst_budget_ratio": max(r["budget_ratio"] for r in rows)}
        if args.json:
            print(json.dumps(report))
        else:
            print(f"circle search bench: {len(feed):,} posts; feed read {feed_ms:.0f} ms, "
                  f"index built on the first search {build_ms:.0f} ms")
            print(f"{'query':<22} {'matches':>8} {'p50 ms':>8} {'max ms':>8} {'max/200ms':>9} "
                  f"{'scan ms':>8} {'p50/scan':>8}")
            for r in rows:
                print(f"{r['query']:<22} {r['matches']:>8,} {r['p50_ms']:>8.1f} {r['max_ms']:>8.1f} "
                      f"{r['budget_ratio']:>9.3f} {r['scan_ms']:>8.0f} {r['scan_ratio']:>8.4f}")
            verdict = "PASS" if report["worst_budget_ratio"] < 1 else "MISS"
            print(f"worst query / budget: {report['worst_budget_ratio']:.3f} (< 1 to pass) {verdict}")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
