"""circle's benchmarks: every number as a ratio to bare Automerge, measured in the same run.

    python bench/run.py --quick           # 10k items, a few minutes at most
    python bench/run.py                   # 100k items (long)
    python bench/run.py --quick --json    # one JSON object on stdout
    python bench/run.py generate --home DIR --items N [--corpus FILE]

What runs (docs/performance.md has the details and the latest numbers):
  first_join  a newcomer joins the N-item circle: `circle serve` in one process, the
              joiner in another, every byte counted by a proxy on 127.0.0.1
  catch_up    1k new posts reach a peer that has the rest (`circle sync`)
  open        first paint of the feed in the real app, headless
  live        posts on A seen on B over a live session (two processes): up to 200,
              posting stops after 40s (quick) / 300s (full), as each post costs O(N)
  memory      peak RSS of a peer holding the circle vs. a process holding the bare document
  mesh        10 peers on loopback, each posting 50: time to convergence, bytes per post
              (full mode: a full mesh, 45 sessions; quick: a ring of degree 4, 20 sessions)
Every peer is a separate process; sockets are on 127.0.0.1 only; every process the
bench starts is stopped when it ends.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(BENCH))

from proxy import LOOPBACK, CountingProxy  # noqa: E402

PASSPHRASE = "bench passphrase, not a secret"
BUDGETS = {  # DESIGN.md "Performance budget"
    "first_join.bytes_ratio": ("<=", 1.3),
    "first_join.time_ratio": ("<=", 1.5),
    "catch_up.bytes_ratio": ("<=", 1.2),
    "open.ratio": ("<", 1.0),
    "live.p50_ms": ("<", 100.0),
    "memory.ratio": ("<=", 1.0),
}


def log(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


class Processes:
    """Every subprocess the bench starts, so all of them are stopped at the end."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CIRCLE_")}
        self.env["CIRCLE_PASSPHRASE"] = PASSPHRASE
        self.env["PYTHONPATH"] = str(ROOT / "src")
        self.running: list[subprocess.Popen] = []
        self.count = 0

    def _log(self, name: str) -> Path:
        self.count += 1
        return self.work / "logs" / f"{self.count:02d}-{name}.err"

    def run(self, args: list[str], name: str, timeout: float = 900) -> str:
        """Run to completion; returns stdout; raises with stderr on failure."""
        err = self._log(name)
        err.parent.mkdir(exist_ok=True)
        with open(err, "w") as err_file:
            proc = subprocess.Popen([sys.executable, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=err_file, env=self.env, text=True)
            self.running.append(proc)
            try:
                out, _ = proc.communicate(timeout=timeout)
            finally:
                self.stop(proc)
        if proc.returncode != 0:
            raise RuntimeError(f"{name} failed ({proc.returncode}):\n{err.read_text()[-3000:]}")
        return out

    def json(self, args: list[str], name: str, timeout: float = 900) -> dict:
        lines = [line for line in self.run(args, name, timeout).splitlines() if line.startswith("{")]
        return json.loads(lines[-1])

    def peer(self, role: str, *args: str, name: str | None = None, timeout: float = 900) -> dict:
        return self.json([str(BENCH / "peer.py"), role, *args], name or role, timeout)

    def cli(self, home: Path, *args: str, timeout: float = 300) -> str:
        return self.run(["-m", "circle", "--home", str(home), *args], f"circle-{args[0]}", timeout).strip()

    def start(self, args: list[str], name: str) -> subprocess.Popen:
        err = self._log(name)
        err.parent.mkdir(exist_ok=True)
        with open(err, "w") as err_file:
            proc = subprocess.Popen([sys.executable, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=err_file, env=self.env, text=True, bufsize=1)
        proc.err_path = err  # type: ignore[attr-defined]
        self.running.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen, grace: float = 10.0, exit_wait: float = 0.0) -> None:
        """Wait up to `exit_wait` for it to end by itself, then SIGTERM, then SIGKILL."""
        if exit_wait:
            try:
                proc.wait(exit_wait)
            except subprocess.TimeoutExpired:
                pass
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(grace)
        if proc in self.running:
            self.running.remove(proc)

    def stop_all(self) -> None:
        for proc in list(self.running):
            self.stop(proc, grace=3)


def read_json_line(proc: subprocess.Popen, timeout: float, what: str) -> dict:
    """The next JSON line a started process prints."""
    import selectors

    deadline = time.monotonic() + timeout
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"timed out waiting for {what}")
            if not selector.select(min(left, 1.0)):
                if proc.poll() is not None:
                    raise RuntimeError(f"{what}: process exited ({proc.returncode}):\n"
                                       f"{Path(proc.err_path).read_text()[-3000:]}")
                continue
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"{what}: process closed its output:\n{Path(proc.err_path).read_text()[-3000:]}")
            if line.startswith("{"):
                return json.loads(line)
    finally:
        selector.close()


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def wait_idle(proc: subprocess.Popen, quiet: float = 0.6, timeout: float = 600) -> None:
    """Until the process has used (almost) no CPU for `quiet` seconds."""
    deadline = time.monotonic() + timeout
    last = cpu_ticks(proc.pid)
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = cpu_ticks(proc.pid)
        if now - last <= 2:
            return
        last = now


def serve(procs: Processes, home: Path) -> tuple[subprocess.Popen, int]:
    """`circle serve` on 127.0.0.1, a free port, no LAN discovery; returns it and its port."""
    proc = procs.start(["-m", "circle", "--home", str(home), "serve", "--host", LOOPBACK, "--port", "0",
                        "--no-discovery"], "serve")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line or "")
        if match:
            return proc, int(match.group(1))
        if not line and proc.poll() is not None:
            break
    raise RuntimeError(f"circle serve did not start:\n{Path(proc.err_path).read_text()[-2000:]}")


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    rank = q / 100 * (len(values) - 1)
    low = int(rank)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (rank - low)


def baseline(procs: Processes, doc: Path, runs: int) -> dict:
    """Bare Automerge: load the saved document in a fresh process, `runs` times."""
    loads = [procs.peer("amload", "--file", str(doc), name="amload") for _ in range(runs)]
    return {
        "load_s": statistics.median(r["load_s"] for r in loads),
        "load_runs_s": [r["load_s"] for r in loads],
        "rss_mb": statistics.median(r["maxrss_mb"] for r in loads),
        "bytes": doc.stat().st_size,
    }


# -- the measurements ---------------------------------------------------------------


def measure_first_join(procs: Processes, org: Path, newcomer: Path, circle_id: str, base: dict, amsync: dict,
                       profile_to: Path | None) -> tuple[dict, subprocess.Popen, int]:
    code = procs.cli(org, "invite", circle_id, "--uses", "1")
    procs.cli(newcomer, "init", "--name", "Newcomer")
    server, port = serve(procs, org)
    wait_idle(server)  # it has opened the circle, as a running member has
    proxy = CountingProxy(port)
    try:
        args = ["--home", str(newcomer), "--code", code, "--peer", proxy.address]
        if profile_to:
            args += ["--profile", str(profile_to)]
        joined = procs.peer("join", *args)
        time.sleep(0.2)
        wire = proxy.total
    finally:
        proxy.close()
    if joined["circle_id"] != circle_id:
        raise RuntimeError("joined another circle than the one generated")
    return {
        "wire_bytes": wire,
        "welcome_bytes": joined["welcome_bytes"],
        "compacted_bytes": base["bytes"],
        "bytes_ratio": wire / base["bytes"],
        "automerge_sync_bytes": amsync["bytes"],
        "automerge_sync_ratio": amsync["bytes"] / base["bytes"],
        "usable_s": joined["usable_s"],
        "phases_s": {"request_to_welcome": joined["welcome_s"], "accept_welcome": joined["accept_s"],
                     "first_sync": joined["first_sync_s"]},
        "automerge_load_s": base["load_s"],
        "time_ratio": joined["usable_s"] / base["load_s"],
        "joiner_unlock_s": joined["unlock_s"],
    }, server, port


def measure_catch_up(procs: Processes, org: Path, newcomer: Path, circle_id: str, server, port: int,
                     changes: int) -> dict:
    token = secrets.token_hex(4)
    wrote = procs.peer("write", "--home", str(org), "--circle", circle_id, "--items", str(changes),
                       "--text", f"catch-up post {token}")
    wait_idle(server)  # serve folds in what the other process wrote
    proxy = CountingProxy(port)
    try:
        started = time.perf_counter()
        procs.cli(newcomer, "sync", proxy.address)
        seconds = time.perf_counter() - started
        time.sleep(0.2)
        wire = proxy.total
    finally:
        proxy.close()
    raw = wrote["raw_change_bytes"]
    return {
        "changes": wrote["changes"],
        "wire_bytes": wire,
        "raw_change_bytes": raw,
        "bytes_ratio": wire / raw,
        "overhead_bytes": wire - raw,
        "sync_process_s": seconds,
        "marker": f"{token} {changes} of {changes}",
    }


def measure_open(procs: Processes, home: Path, circle_id: str, marker: str, base: dict) -> dict:
    result = procs.peer("open", "--home", str(home), "--circle", circle_id, "--marker", marker,
                        "--timeout", "600")
    paint = result.get("first_paint_s")
    out = {
        "first_paint_s": paint,
        "feed_paint_s": result.get("feed_paint_s"),
        "first_frame_s": result.get("first_frame_s"),
        "automerge_load_s": base["load_s"],
        "since_process_start_s": result.get("since_process_start_s"),
        "newest_post_on_first_feed_frame": result.get("newest_on_first_feed_frame"),
    }
    if paint is None:
        paint = result.get("feed_paint_s")
        out["note"] = ("the app's first feed screen did not show the newest post within the wait; "
                       "the ratio uses the first frame showing the feed")
    out["ratio"] = paint / base["load_s"] if paint is not None else None
    return out


def measure_memory(procs: Processes, home: Path, circle_id: str, base: dict) -> dict:
    result = procs.peer("rss", "--home", str(home), "--circle", circle_id)
    return {
        "peak_rss_mb": result["peak_rss_mb"],
        "automerge_rss_mb": base["rss_mb"],
        "ratio": result["peak_rss_mb"] / base["rss_mb"],
        "peak_by_stage_mb": result["stages"],
        "rss_now_by_stage_mb": result["rss_now"],
    }


def measure_live(procs: Processes, a_home: Path, b_home: Path, circle_id: str, posts: int,
                 interval: float, seconds: float) -> dict:
    a = procs.start([str(BENCH / "peer.py"), "live-a", "--home", str(a_home), "--circle", circle_id,
                     "--posts", str(posts), "--interval", str(interval), "--seconds", str(seconds)], "live-a")
    a_address = read_json_line(a, 300, "live A to listen")["listening"]
    proxy = CountingProxy(int(a_address.rpartition(":")[2]))
    b = procs.start([str(BENCH / "peer.py"), "live-b", "--home", str(b_home), "--circle", circle_id,
                     "--posts", str(posts), "--dial", proxy.address, "--timeout", "60"], "live-b")
    try:
        read_json_line(b, 300, "live B to listen")
        sent = read_json_line(a, 600 + seconds + posts * 30, "live A's posts")
        b.stdin.write(f"{len(sent['posted'])}\n")
        b.stdin.flush()
        seen = read_json_line(b, 120, "live B's report")
        wire = proxy.total
        a.stdin.write("stop\n")
        a.stdin.flush()
        procs.stop(a, exit_wait=15)
        procs.stop(b, exit_wait=15)
    finally:
        proxy.close()
        procs.stop(a)
        procs.stop(b)
    posted = sent["posted"]
    made = len(posted)
    latencies = [(seen["seen"][i] - t) * 1000 for i, t in posted.items() if i in seen["seen"]]
    after_return = [(seen["seen"][i] - posted[i] - d) * 1000
                    for (i, d) in zip(posted, sent["post_call_s"]) if i in seen["seen"]]
    out = {
        "posts": made,
        "received": len(latencies),
        "missing": seen["missing"],
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "max_ms": max(latencies) if latencies else None,
        "post_call_p50_ms": percentile([d * 1000 for d in sent["post_call_s"]], 50),
        "stored_on_a_p50_ms": percentile([v * 1000 for v in sent["stored"].values()], 50),
        "after_post_returned_p50_ms": percentile(after_return, 50),
        "after_post_returned_p99_ms": percentile(after_return, 99),
        "wire_bytes_per_post": wire / max(made, 1),
    }
    if made < posts:
        out["note"] = f"posting stopped after {seconds:g}s: {made} of {posts} posts"
    return out


def setup_mesh(root: Path, peers: int) -> tuple[list[Path], str]:
    """`peers` real profiles in one small circle: one creates it, the others join
    with an invite, and everyone learns everyone (in-process bundle exchange)."""
    from circle.service import Service

    first = Service.create_profile(root / "p0", "Peer 0", PASSPHRASE)
    services = [first]
    try:
        circle_id = first.create_circle("Mesh circle")
        code = first.invite(circle_id, uses=peers - 1)
        me = first.whoami().device_id
        for index in range(1, peers):
            peer = Service.create_profile(root / f"p{index}", f"Peer {index}", PASSPHRASE)
            peer.accept_welcome(code, first.admit_request(peer.join_request(code)))
            first.receive_bundle(peer.bundle_for(circle_id, me))
            services.append(peer)
        for peer in services[1:]:
            peer.receive_bundle(first.bundle_for(circle_id, peer.whoami().device_id))
    finally:
        for service in services:
            service.close()
    return [root / f"p{i}" for i in range(peers)], circle_id


def mesh_links(peers: int, degree: int | None) -> list[list[int]]:
    """Whom each peer dials: everyone after it (a full mesh), or with `degree`
    the next `degree` peers round a ring (each peer then has 2 x degree sessions)."""
    if degree is None or 2 * degree >= peers - 1:
        return [list(range(i + 1, peers)) for i in range(peers)]
    return [[(i + k) % peers for k in range(1, degree + 1)] for i in range(peers)]


def measure_mesh(procs: Processes, work: Path, peers: int, posts: int, degree: int | None = None) -> dict:
    started = time.perf_counter()
    homes, circle_id = setup_mesh(work / "mesh", peers)
    setup_s = time.perf_counter() - started
    links = mesh_links(peers, degree)
    sessions = [0] * peers
    for i, targets in enumerate(links):
        for j in targets:
            sessions[i] += 1
            sessions[j] += 1
    running, proxies = [], []
    try:
        for index, home in enumerate(homes):
            running.append(procs.start(
                [str(BENCH / "peer.py"), "mesh", "--home", str(home), "--circle", circle_id, "--index", str(index),
                 "--peers", str(peers), "--posts", str(posts), "--sessions", str(sessions[index]),
                 "--timeout", "600"], f"mesh{index}"))
        ports = [int(read_json_line(p, 300, "mesh peer to listen")["listening"].rpartition(":")[2]) for p in running]
        proxies = [CountingProxy(port) for port in ports]
        for index, proc in enumerate(running):
            proc.stdin.write(" ".join(proxies[j].address for j in links[index]) + "\n")
            proc.stdin.flush()
        for proc in running:
            read_json_line(proc, 600, "mesh peer to connect")
        time.sleep(0.5)
        for proxy in proxies:
            proxy.reset()
        go = time.time()
        for proc in running:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        reports = [read_json_line(proc, 900, "mesh peer's report") for proc in running]
        wire = sum(proxy.total for proxy in proxies)
        for proc in running:
            proc.stdin.write("stop\n")
            proc.stdin.flush()
        for proc in running:
            procs.stop(proc, exit_wait=15)
    finally:
        for proxy in proxies:
            proxy.close()
        for proc in running:
            procs.stop(proc)
    missing = sum(r["missing"] for r in reports)
    done = [r["all_seen_at"] for r in reports]
    converged = None if missing or None in done else max(done) - go
    return {
        "peers": peers,
        "posts_per_peer": posts,
        "converged": missing == 0,
        "missing": missing,
        "convergence_s": converged,
        "last_post_written_s": max(r["posts_done_at"] for r in reports) - go,
        "peer_converged_s": sorted(round(t - go, 2) for t in done if t is not None),
        "posts_seen_by_all_s": {f"p{q}": round(max(r["seen_quantiles_at"][q] for r in reports) - go, 2)
                                for q in ("50", "90", "99")} if all(r["seen_quantiles_at"] for r in reports) else None,
        "wire_bytes": wire,
        "bytes_per_post": wire / (peers * posts),
        "setup_s": setup_s,
        "sessions": sum(sessions) // 2,
        "topology": (f"full mesh, {sum(sessions) // 2} live sessions" if degree is None or 2 * degree >= peers - 1
                     else f"ring, each peer linked to the {2 * degree} nearest; {sum(sessions) // 2} live sessions"),
    }


# -- the run ------------------------------------------------------------------------------


def machine() -> dict:
    import importlib.metadata as meta

    return {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "automerge": meta.version("automerge"),
        "loadavg_at_start": os.getloadavg(),
    }


def check_budgets(results: dict) -> dict:
    out = {}
    for key, (op, limit) in BUDGETS.items():
        section, metric = key.split(".")
        value = results.get(section, {}).get(metric)
        ok = None if value is None else (value <= limit if op == "<=" else value < limit)
        out[key] = {"value": value, "budget": f"{op} {limit:g}", "pass": ok}
    return out


def run_bench(args) -> dict:
    work = Path(tempfile.mkdtemp(prefix="circle-bench-"))
    os.chmod(work, 0o700)
    procs = Processes(work)
    results: dict = {"mode": args.mode, "items": args.items, "machine": machine()}
    started = time.perf_counter()
    server = None
    try:
        if args.only == "mesh":
            log(f"mesh: {args.mesh_peers} peers x {args.mesh_posts} posts")
            results["mesh"] = measure_mesh(procs, work, args.mesh_peers, args.mesh_posts, args.mesh_degree)
            return results
        org, newcomer = work / "org", work / "newcomer"
        log(f"generating {args.items:,} items in {work}")
        t0 = time.perf_counter()
        gen_args = [str(BENCH / "run.py"), "generate", "--home", str(org), "--items", str(args.items)]
        if args.corpus:
            gen_args += ["--corpus", str(args.corpus)]
        circle_id = procs.run(gen_args, "generate", timeout=6 * 3600).strip().splitlines()[-1]
        results["generate_s"] = time.perf_counter() - t0

        log("baseline: bare automerge load and sync of the same document")
        join_doc = work / "join.automerge"
        exported = procs.peer("export", "--home", str(org), "--circle", circle_id, "--out", str(join_doc))
        base_join = baseline(procs, join_doc, args.runs)
        amsync = procs.peer("amsync", "--file", str(join_doc))
        results["baseline"] = {"document_bytes": base_join["bytes"], "posts": exported["posts"],
                               "automerge_load_s": base_join["load_s"], "load_runs_s": base_join["load_runs_s"],
                               "automerge_sync_messages": amsync["messages"]}

        log("first_join")
        profile_to = work / "join.prof.txt" if args.profile_join else None
        results["first_join"], server, port = measure_first_join(
            procs, org, newcomer, circle_id, base_join, amsync, profile_to)
        if profile_to and profile_to.exists():
            results["first_join"]["profile"] = str(args.profile_join)
            shutil.copy(profile_to, args.profile_join)

        log("catch_up")
        results["catch_up"] = measure_catch_up(procs, org, newcomer, circle_id, server, port, args.catch_up)
        procs.stop(server)
        server = None

        log("open and memory: the newcomer's profile, now holding everything")
        open_doc = work / "open.automerge"
        procs.peer("export", "--home", str(newcomer), "--circle", circle_id, "--out", str(open_doc))
        base_open = baseline(procs, open_doc, args.runs)
        results["open"] = measure_open(procs, newcomer, circle_id, results["catch_up"].pop("marker"), base_open)
        results["memory"] = measure_memory(procs, newcomer, circle_id, base_open)

        log(f"live: up to {args.live_posts} posts (at most {args.live_seconds:g}s) from the organizer to the newcomer")
        results["live"] = measure_live(procs, org, newcomer, circle_id, args.live_posts, args.live_interval,
                                       args.live_seconds)

        log(f"mesh: {args.mesh_peers} peers x {args.mesh_posts} posts")
        results["mesh"] = measure_mesh(procs, work, args.mesh_peers, args.mesh_posts, args.mesh_degree)
    finally:
        if server is not None:
            procs.stop(server)
        procs.stop_all()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    results["budgets"] = check_budgets(results)
    results["total_s"] = time.perf_counter() - started
    return results


def fmt(value, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if value != value:
            return "nan"
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_table(r: dict) -> None:
    m = r["machine"]
    print(f"circle bench: {r['mode']}, {r['items']:,} items; {m['nproc']} cpus, Python {m['python']}, "
          f"automerge {m['automerge']}; {r['total_s']:.0f}s (generate {r['generate_s']:.0f}s)")
    fj, cu, op, mem, live, mesh = (r[k] for k in ("first_join", "catch_up", "open", "memory", "live", "mesh"))
    rows = [
        ("first_join", "wire bytes", fmt(fj["wire_bytes"]), f"compacted {fmt(fj['compacted_bytes'])}",
         fmt(fj["bytes_ratio"]), "first_join.bytes_ratio"),
        ("", "bare automerge sync bytes", fmt(fj["automerge_sync_bytes"]), "",
         fmt(fj["automerge_sync_ratio"]), None),
        ("", "time to usable circle (s)", fmt(fj["usable_s"]), f"am load {fmt(fj['automerge_load_s'], 3)}",
         fmt(fj["time_ratio"]), "first_join.time_ratio"),
        ("catch_up", f"wire bytes, {cu['changes']} changes", fmt(cu["wire_bytes"]),
         f"raw {fmt(cu['raw_change_bytes'])}", fmt(cu["bytes_ratio"]), "catch_up.bytes_ratio"),
        ("open", "first paint (s)", fmt(op["first_paint_s"] if op["first_paint_s"] is not None
                                        else op["feed_paint_s"], 3),
         f"am load {fmt(op['automerge_load_s'], 3)}", fmt(op["ratio"]), "open.ratio"),
        ("live", f"{live['posts']} posts: on A -> seen on B p50/p99 ms", f"{fmt(live['p50_ms'], 0)} / {fmt(live['p99_ms'], 0)}",
         f"post() p50 {fmt(live['post_call_p50_ms'], 0)} ms", "", "live.p50_ms"),
        ("memory", "peak RSS (MB)", fmt(mem["peak_rss_mb"], 0), f"am {fmt(mem['automerge_rss_mb'], 0)}",
         fmt(mem["ratio"]), "memory.ratio"),
        ("mesh", f"{mesh['peers']} peers x {mesh['posts_per_peer']}, {mesh['sessions']} sessions: converge s",
         fmt(mesh["convergence_s"]),
         f"{fmt(mesh['bytes_per_post'], 0)} B/post", "", None),
    ]
    header = ("section", "metric", "value", "baseline", "ratio", "budget")
    table = [header]
    for section, metric, value, base, ratio, budget in rows:
        verdict = ""
        if budget:
            b = r["budgets"][budget]
            verdict = f"{b['budget']} {'PASS' if b['pass'] else 'MISS' if b['pass'] is False else '-'}"
        table.append((section, metric, value, base, ratio, verdict))
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for n, row in enumerate(table):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    if op.get("note"):
        print(f"note (open): {op['note']}")


def cmd_generate(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/run.py generate", description="Fill a profile with one circle of N items.")
    parser.add_argument("--home", required=True, type=Path, help="profile directory to create")
    parser.add_argument("--items", required=True, type=int)
    parser.add_argument("--corpus", type=Path, help="post bodies, one per line")
    parser.add_argument("--members", type=int, default=4)
    parser.add_argument("--batch", type=int, help="posts per bundle (default: adapts to --items)")
    args = parser.parse_args(argv)
    from gen import generate

    passphrase = os.environ.get("CIRCLE_PASSPHRASE") or PASSPHRASE
    batch = args.batch or max(2_000, min(25_000, args.items // 5 or 1))
    circle_id = generate(args.home, args.items, passphrase, corpus=args.corpus, members=args.members,
                         batch=batch, progress=lambda text: print(text, file=sys.stderr, flush=True))
    print(circle_id)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["generate"]:
        return cmd_generate(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10k items, under 3 minutes")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--corpus", type=Path, help="post bodies, one per line")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (profiles, logs)")
    parser.add_argument("--profile-join", type=Path, metavar="FILE", help="write a cProfile of the joiner here")
    parser.add_argument("--items", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=("mesh",), help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=3, help=argparse.SUPPRESS)
    parser.add_argument("--catch-up", type=int, default=1000, help=argparse.SUPPRESS)
    parser.add_argument("--live-posts", type=int, default=200, help=argparse.SUPPRESS)
    parser.add_argument("--live-interval", type=float, default=0.02, help=argparse.SUPPRESS)
    parser.add_argument("--live-seconds", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--mesh-peers", type=int, default=10, help=argparse.SUPPRESS)
    parser.add_argument("--mesh-posts", type=int, default=50, help=argparse.SUPPRESS)
    parser.add_argument("--mesh-degree", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.mode = "custom" if args.items else "quick" if args.quick else "full"
    if args.items is None:
        args.items = 10_000 if args.quick else 100_000
    if args.mesh_degree is None and args.quick and args.mode == "quick":
        args.mesh_degree = 2  # a ring: a full mesh of 10 Python processes on 2 cores takes minutes
    if args.live_seconds is None:  # posting on a large circle is slow: cap the live phase
        args.live_seconds = 40.0 if args.quick else 300.0
    results = run_bench(args)
    if args.only:
        print(json.dumps(results, indent=2))
        return 0
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
