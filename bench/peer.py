"""One bench role in its own process: `python bench/peer.py ROLE ...`.

Each role unlocks a profile (passphrase from CIRCLE_PASSPHRASE), does one
measured thing through the same code the app and the CLI run, and prints one
JSON object on stdout (progress goes to stderr). bench/run.py and bench/soak.py
start these; nothing here listens anywhere but 127.0.0.1.
"""

from __future__ import annotations

import time

PROCESS_T0 = time.perf_counter()  # before the heavy imports

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

LOOPBACK = "127.0.0.1"


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def say(**fields) -> None:
    print(json.dumps(fields), flush=True)


def log(text: str) -> None:
    print(f"[peer {os.getpid()}] {text}", file=sys.stderr, flush=True)


def unlock(home: str, **kw):
    from circle.service import Service

    return Service.unlock(Path(home), os.environ["CIRCLE_PASSPHRASE"], **kw)


def counter_ids(prefix: int):
    """Deterministic post ids (16 hex digits), so another process knows what to look for."""
    state = {"n": 0}

    def new_id() -> str:
        state["n"] += 1
        return f"{prefix:04x}{state['n']:012x}"

    return new_id


def expected_ids(prefix: int, count: int) -> list[str]:
    return [f"{prefix:04x}{n:012x}" for n in range(1, count + 1)]


def posts_obj(service, circle_id: str):
    import automerge.core as am

    doc = service.open_circle(circle_id).document.doc
    found = doc.get(am.ROOT, "posts")
    return doc, found[1]


class Watcher:
    """Records when each expected post id first appears in this profile's open
    document. Called from the Service's store notifications, which fire right
    after a received bundle is durably stored."""

    def __init__(self, service, circle_id: str, ids: list[str]) -> None:
        self.service, self.circle_id = service, circle_id
        self.pending = set(ids)
        self.seen: dict[str, float] = {}
        self.done = asyncio.Event()
        service.subscribe(self._on_change)
        self._on_change(circle_id)

    def _on_change(self, circle_id: str) -> None:
        if circle_id != self.circle_id or not self.pending:
            return
        now = time.time()
        doc, posts = posts_obj(self.service, circle_id)
        for post_id in list(self.pending):
            if doc.get(posts, post_id) is not None:
                self.seen[post_id] = now
                self.pending.discard(post_id)
        if not self.pending:
            self.done.set()


# -- roles --------------------------------------------------------------------------


class _AcceptTimer:
    """The profile as the node sees it, noting when the node stores the welcome: the
    node's join is one call, and the bench reports its network and storing phases apart."""

    def __init__(self, service) -> None:
        self.service = service
        self.accept_started: float | None = None
        self.welcome_bytes = 0

    def __getattr__(self, name: str):
        return getattr(self.service, name)

    def accept_welcome(self, code: str, welcome: bytes) -> str:
        self.accept_started, self.welcome_bytes = time.perf_counter(), len(welcome)
        return self.service.accept_welcome(code, welcome)


def role_join(args) -> None:
    """What `circle join CODE --peer ADDR` does, timed by phase after the unlock."""
    from circle.sync.node import Node

    service = unlock(args.home)
    unlocked = time.perf_counter()
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    host = _AcceptTimer(service)
    node = Node(host)
    t0 = time.perf_counter()
    joined = asyncio.run(node.join(args.code, [args.peer]))
    circle_id = joined.circle_id
    t1 = host.accept_started
    t2 = time.perf_counter()
    asyncio.run(node.sync_once(joined.address))
    t3 = time.perf_counter()
    if service.guidelines_pending(circle_id):  # what the join flow asks of a person, untimed
        service.accept_guidelines(circle_id)
    if profiler is not None:
        import io
        import pstats

        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
        Path(args.profile).write_text(out.getvalue())
    say(circle_id=circle_id, welcome_bytes=host.welcome_bytes, unlock_s=unlocked - PROCESS_T0,
        welcome_s=t1 - t0, accept_s=t2 - t1, first_sync_s=t3 - t2, usable_s=t3 - t0,
        maxrss_mb=maxrss_mb())
    service.close()


def role_export(args) -> None:
    """Write the circle's document as a bare Automerge save(), and name its newest post."""
    service = unlock(args.home)
    circle = service.open_circle(args.circle)
    Path(args.out).write_bytes(circle.document.save())
    os.chmod(args.out, 0o600)
    posts = [p for p in service.feed(args.circle) if not p.deleted and not p.hidden]
    newest = max(posts, key=lambda p: (p.created_at, p.id))
    marker = max(newest.body.split(), key=len)
    say(bytes=os.path.getsize(args.out), posts=len(posts), newest=newest.id, marker=marker)
    service.close()


def role_amload(args) -> None:
    """The baseline: a process holding a bare automerge document, loaded once."""
    import automerge.core as am

    data = Path(args.file).read_bytes()
    before = maxrss_mb()
    t0 = time.perf_counter()
    doc = am.Document.load(data)
    load_s = time.perf_counter() - t0
    heads = doc.get_heads()
    say(load_s=load_s, maxrss_mb=maxrss_mb(), maxrss_before_mb=before, heads=len(heads))


def role_amsync(args) -> None:
    """Bare Automerge sync of the document into an empty one: bytes of every message."""
    import automerge.core as am

    data = Path(args.file).read_bytes()
    full = am.Document.load(data)
    empty = am.Document()
    states = [am.SyncState(), am.SyncState()]
    docs = [full, empty]
    total = messages = 0
    t0 = time.perf_counter()
    quiet_rounds = 0
    while quiet_rounds < 2:
        sent = False
        for i in (0, 1):
            message = docs[i].generate_sync_message(states[i])
            if message is None:
                continue
            encoded = message.encode()
            total += len(encoded)
            messages += 1
            sent = True
            docs[1 - i].receive_sync_message(states[1 - i], am.Message.decode(encoded))
        quiet_rounds = 0 if sent else quiet_rounds + 1
    converged = sorted(full.get_heads()) == sorted(empty.get_heads())
    say(bytes=total, messages=messages, seconds=time.perf_counter() - t0, converged=converged)


def rss_now_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def role_rss(args) -> None:
    """Peak RSS of a peer holding the circle: unlock, open it, what a sync session
    asks of it (its state) and what the app shows (the feed)."""
    stages, now = {"imports": maxrss_mb()}, {"imports": rss_now_mb()}
    service = unlock(args.home)
    stages["unlock"], now["unlock"] = maxrss_mb(), rss_now_mb()
    service.open_circle(args.circle)
    stages["open"], now["open"] = maxrss_mb(), rss_now_mb()
    service.sync_state(args.circle)
    stages["sync_state"], now["sync_state"] = maxrss_mb(), rss_now_mb()
    posts = service.feed(args.circle)
    stages["feed"], now["feed"] = maxrss_mb(), rss_now_mb()
    say(peak_rss_mb=maxrss_mb(), stages=stages, rss_now=now, posts=len(posts))
    service.close()


def role_open(args) -> None:
    """First paint of the circle's feed in the real app, headless.

    From the unlocked profile (the app's unlock screen is done) to the first
    frame, as it would be sent to the terminal, that shows the circle screen with
    the newest post's text on it. Also: the first frame showing the feed at all
    (the feed view has content), in case the app opens elsewhere in the feed."""
    import re

    from circle.tui.app import CircleApp
    from circle.tui.circle_screen import CircleScreen
    from circle.tui.feed_view import FeedView
    from circle.tui.settings import Settings

    service = unlock(args.home)
    service.remember_circle(args.circle)
    ansi = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
    result: dict = {"frames": 0}
    start = time.perf_counter()
    app = CircleApp(service, settings=Settings(listen=None, discovery=False))
    display = app._display

    def timed_display(screen, renderable):  # type: ignore[no-untyped-def]
        if renderable is not None:
            now = time.perf_counter()
            result["frames"] += 1
            result.setdefault("first_frame_s", now - start)
            if "first_paint_s" not in result and isinstance(app.screen, CircleScreen):
                try:
                    text = ansi.sub("", renderable.render_segments(app.console))
                except Exception as exc:  # noqa: BLE001 - a renderable we cannot flatten
                    text = ""
                    result.setdefault("render_error", repr(exc))
                newest = args.marker in text
                if "feed_paint_s" not in result:
                    views = app.screen.query(FeedView)
                    if views and views.first().virtual_size.height > 0:
                        result["feed_paint_s"] = now - start
                        result["newest_on_first_feed_frame"] = newest
                if newest:
                    result["first_paint_s"] = now - start
        display(screen, renderable)

    app._display = timed_display  # type: ignore[method-assign]

    async def run() -> None:
        # Headless, like App.run_test, but without its 30-second limit on the app
        # settling: opening a 100k-item circle takes longer than that today.
        task = asyncio.create_task(app.run_async(headless=True, size=(110, 40)))
        deadline = time.perf_counter() + args.timeout
        while "first_paint_s" not in result and time.perf_counter() < deadline and not task.done():
            if "feed_paint_s" in result and time.perf_counter() - start > result["feed_paint_s"] + args.grace:
                break  # the feed is up but the newest post never came into view
            await asyncio.sleep(0.01)
        result["screen"] = type(app.screen).__name__ if app.is_running else None
        app.exit()
        await task

    asyncio.run(run())
    if "first_paint_s" in result:
        result["since_process_start_s"] = (start - PROCESS_T0) + result["first_paint_s"]
    result["maxrss_mb"] = maxrss_mb()
    say(**result)
    service.close()


def role_write(args) -> None:
    """Write N posts on this profile (one change each, one store transaction);
    print the raw bytes of the new changes."""
    from datetime import datetime, timezone

    service = unlock(args.home, new_id=counter_ids(args.prefix))
    now = datetime.now(timezone.utc)
    writes = [
        (lambda d, i=i: d.add_post(service.new_id(), f"{args.text} {i + 1} of {args.items}", now))
        for i in range(args.items)
    ]
    changes = service.write_many(args.circle, writes)
    say(changes=len(changes), raw_change_bytes=sum(len(c) for c in changes))
    service.close()


async def _serve(service, dial: list[str]) -> tuple:
    """What `circle serve --host 127.0.0.1 --port 0 --no-discovery --connect ...` runs."""
    from circle.sync.node import Node

    node = Node(service)
    host, port = await node.listen(LOOPBACK, 0)
    for address in dial:
        node.dial(address)
    runner = asyncio.create_task(node.run_forever())
    return node, runner, f"{host}:{port}"


def _converged_sessions(node, circle_id: str) -> int:
    return sum(
        1 for s in list(node.server.sessions)
        if circle_id in s.progress and s.progress[circle_id].converged
    )


async def _read_line() -> str:
    return (await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)).strip()


def role_live_a(args) -> None:
    """The posting side: serve, wait for a live session, post one by one through
    Service.post on the serving loop (as the app does), for at most --posts posts
    or --seconds seconds."""
    service = unlock(args.home, new_id=counter_ids(args.prefix))
    stored: dict[str, float] = {}
    pending = {"id": None}

    def on_store(circle_id: str) -> None:  # our own write is durable
        if pending["id"] and pending["id"] not in stored:
            stored[pending["id"]] = time.time()

    service.subscribe(on_store)

    async def run() -> None:
        node, runner, address = await _serve(service, [])
        say(listening=address)
        while _converged_sessions(node, args.circle) < 1:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # let the initial exchange settle
        posted, post_s = {}, []
        began = time.time()
        for i in range(args.posts):
            if i and time.time() - began > args.seconds:
                break
            post_id = f"{args.prefix:04x}{i + 1:012x}"
            pending["id"] = post_id
            t0 = time.time()
            service.post(args.circle, f"live post {i + 1}: how is everyone doing today?")
            post_s.append(time.time() - t0)
            posted[post_id] = t0
            await asyncio.sleep(args.interval)
        say(posted=posted, post_call_s=post_s, stored={k: stored[k] - posted[k] for k in posted if k in stored})
        await _read_line()  # the bench says when to stop
        runner.cancel()
        await node.close()

    asyncio.run(run())
    service.close()


def role_live_b(args) -> None:
    """The watching side: dial A (through the bench's counting proxy) and report
    when each of A's posts is stored here. Reads from stdin how many A made."""
    service = unlock(args.home)

    async def run() -> None:
        ids = expected_ids(args.prefix, args.posts)
        watcher = Watcher(service, args.circle, ids)
        node, runner, address = await _serve(service, [args.dial])
        say(listening=address)
        made = int(await _read_line())
        deadline = time.time() + args.timeout
        while any(i not in watcher.seen for i in ids[:made]) and time.time() < deadline:
            await asyncio.sleep(0.05)
        say(seen={i: watcher.seen[i] for i in ids[:made] if i in watcher.seen},
            missing=sum(1 for i in ids[:made] if i not in watcher.seen))
        runner.cancel()
        await node.close()

    asyncio.run(run())
    service.close()


def role_mesh(args) -> None:
    """One of the mesh peers: serve, dial the given peers, post on 'go', report
    when every peer's posts are here."""
    service = unlock(args.home, new_id=counter_ids(args.index + 1))

    async def run() -> None:
        ids = [i for p in range(args.peers) for i in expected_ids(p + 1, args.posts)]
        watcher = Watcher(service, args.circle, ids)
        node, runner, address = await _serve(service, [])
        say(listening=address)
        dial = (await _read_line()).split()
        for peer in dial:
            node.dial(peer)
        while _converged_sessions(node, args.circle) < args.sessions:
            await asyncio.sleep(0.05)
        say(ready=True, sessions=len(node.server.sessions))
        go = await _read_line()
        assert go == "go", go
        posts_done = None
        for i in range(args.posts):
            service.post(args.circle, f"mesh peer {args.index} post {i + 1}")
            await asyncio.sleep(args.interval)
        posts_done = time.time()
        try:
            await asyncio.wait_for(watcher.done.wait(), args.timeout)
        except asyncio.TimeoutError:
            pass
        times = sorted(watcher.seen.values())
        last = times[-1] if times else None
        quantiles = {q: times[min(len(times) - 1, int(q / 100 * len(ids)))] for q in (50, 90, 99)} if times else {}
        say(all_seen_at=last if not watcher.pending else None, missing=len(watcher.pending),
            posts_done_at=posts_done, seen_quantiles_at=quantiles)
        await _read_line()  # stop
        runner.cancel()
        await node.close()

    asyncio.run(run())
    service.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="role", required=True)
    p = sub.add_parser("join"); p.add_argument("--home"); p.add_argument("--code"); p.add_argument("--peer")
    p.add_argument("--profile", help="write a cProfile of the join here")
    p = sub.add_parser("export"); p.add_argument("--home"); p.add_argument("--circle"); p.add_argument("--out")
    p = sub.add_parser("amload"); p.add_argument("--file")
    p = sub.add_parser("amsync"); p.add_argument("--file")
    p = sub.add_parser("rss"); p.add_argument("--home"); p.add_argument("--circle")
    p = sub.add_parser("open"); p.add_argument("--home"); p.add_argument("--circle"); p.add_argument("--marker")
    p.add_argument("--timeout", type=float, default=600); p.add_argument("--grace", type=float, default=5.0)
    p = sub.add_parser("write"); p.add_argument("--home"); p.add_argument("--circle")
    p.add_argument("--items", type=int); p.add_argument("--prefix", type=lambda s: int(s, 0), default=0xCA7C)
    p.add_argument("--text", default="catch-up post")
    for name in ("live-a", "live-b"):
        p = sub.add_parser(name); p.add_argument("--home"); p.add_argument("--circle")
        p.add_argument("--posts", type=int, default=200); p.add_argument("--prefix", type=lambda s: int(s, 0), default=0x11FE)
        p.add_argument("--interval", type=float, default=0.05); p.add_argument("--dial")
        p.add_argument("--timeout", type=float, default=60); p.add_argument("--seconds", type=float, default=1e9)
    p = sub.add_parser("mesh"); p.add_argument("--home"); p.add_argument("--circle")
    p.add_argument("--index", type=int); p.add_argument("--peers", type=int); p.add_argument("--posts", type=int)
    p.add_argument("--sessions", type=int); p.add_argument("--interval", type=float, default=0.02)
    p.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    role = {"join": role_join, "export": role_export, "amload": role_amload, "amsync": role_amsync,
     "rss": role_rss, "open": role_open, "write": role_write, "live-a": role_live_a,
     "live-b": role_live_b, "mesh": role_mesh}[args.role]
    where = os.environ.get("BENCH_PROFILE_DIR")
    if not where:
        role(args)
        return
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    try:
        profiler.runcall(role, args)
    finally:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(60)
        Path(where, f"{args.role}-{os.getpid()}.txt").write_text(out.getvalue())


if __name__ == "__main__":
    main()
