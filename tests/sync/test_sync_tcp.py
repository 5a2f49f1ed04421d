"""TCP sync between real peers: separate `circle` processes on 127.0.0.1,
real SQLite profiles, real sockets.

Each `circle serve` runs with `--port 0 --no-discovery` (the port is read from
its "listening on" line; no mDNS, so peers meet only when a test says so), and
is stopped with SIGTERM, then SIGKILL, when its test ends.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from circle.service import Service
from circle.sync import messages as m
from circle.sync import tcp
from circle.sync.framing import ConnectionDropped, SecureStream
from tests.helpers.cli import PASSPHRASE, Cli, CliResult
from tests.helpers.live import member_id, wait_until
from tests.helpers.served import (
    LOOPBACK, StoreView, assert_one_line_error, closed_port, established_to, feed, group, new_profile, posts_of,
    run_parallel, stop_process)


# -- (a) one code, three joiners, concurrent posts, every pairing ------------------------


def test_three_joiners_on_one_code_post_concurrently_and_every_pairing_converges(tmp_path, serve):
    names = ("Ben", "Cleo", "Dev")
    g = group(tmp_path, serve, names, uses=3)  # all three redeem the same code at once
    assert [(i["uses"], i["used"]) for i in g.a.ok("invites", g.circle, "--json").json()] == [(3, 3)]
    everyone = {"Ana": g.a, **g.members}

    # Everyone, organizer included, posts at the same time while Ana serves; the
    # joiners start their own servers meanwhile.
    def post_some(name: str, cli: Cli) -> list[tuple[str, str]]:
        out = []
        for i in range(2):
            body = f"{name} says {i} {secrets.token_hex(4)}"
            out.append((cli.ok("post", g.circle, body).stdout.strip(), body))
        return out

    jobs = [lambda n=n, c=c: post_some(n, c) for n, c in everyone.items()]
    jobs += [lambda c=c: serve(c) for c in g.members.values()]
    results = run_parallel(jobs)
    expected = dict(p for batch in results[:4] for p in batch)
    assert len(expected) == 8
    served = {"Ana": g.served_a, **dict(zip(names, results[4:]))}

    def sync(initiator: str, target: str) -> None:
        result = everyone[initiator].run("sync", served[target].address)
        assert result.returncode == 0, f"{initiator} -> {target}: {result.stderr}"
        assert g.circle[:8] in result.stdout

    # Ana's server takes three syncs at once; then the members pair up directly.
    run_parallel([lambda n=n: sync(n, "Ana") for n in names])
    for initiator, target in [("Ben", "Cleo"), ("Ben", "Dev"), ("Cleo", "Dev")]:
        sync(initiator, target)

    views = run_parallel([lambda c=c: (feed(c, g.circle), c.ok("members", g.circle, "--json").json())
                          for c in everyone.values()])
    for name, (posts, roster) in zip(everyone, views):
        assert {p["id"]: p["body"] for p in posts} == expected, name
        assert posts == views[0][0], f"{name}'s feed differs from Ana's"
        assert sorted(r["name"] for r in roster) == ["Ana", "Ben", "Cleo", "Dev"], name
        assert roster == views[0][1]
    for s in served.values():
        assert s.alive()
        assert "Traceback" not in s.stderr()


# -- (b) partition and heal ---------------------------------------------------------------


def test_partitioned_members_write_apart_then_heal_directly(tmp_path, serve):
    g = group(tmp_path, serve, ("Ben", "Cleo"), before_invite=("welcome, everyone",))
    a, b, c = g.a, g.members["Ben"], g.members["Cleo"]
    # Each learns of the other's admission from Ana; then Ana goes away.
    run_parallel([lambda x=x: x.ok("sync", g.served_a.address) for x in (b, c)])
    stop_process(g.served_a.proc)
    welcome_post = feed(a, g.circle)[0]["id"]

    def write(cli: Cli, name: str) -> tuple[list[tuple[str, str]], set[str]]:
        out = []
        for i in range(2):
            body = f"{name} offline {i}"
            out.append((cli.ok("post", g.circle, body).stdout.strip(), body))
        cli.ok("react", g.circle, welcome_post, "hug")
        return out, set(posts_of(cli, g.circle))

    (b_posts, b_sees), (c_posts, c_sees) = run_parallel([lambda: write(b, "Ben"), lambda: write(c, "Cleo")])
    # Apart, neither sees the other's words.
    assert not set(dict(c_posts)) & b_sees and not set(dict(b_posts)) & c_sees

    b.ok("sync", serve(c).address)
    feed_b, feed_c, feed_a = run_parallel([lambda x=x: feed(x, g.circle) for x in (b, c, a)])
    assert feed_b == feed_c
    bodies = {p["id"]: p["body"] for p in feed_b}
    assert bodies == {welcome_post: "welcome, everyone", **dict(b_posts), **dict(c_posts)}
    welcome = next(p for p in feed_b if p["id"] == welcome_post)
    assert welcome["reactions"] == {"hug": sorted([member_id(b), member_id(c)])}
    # Ana was cut off the whole time and holds none of it.
    assert [p["id"] for p in feed_a] == [welcome_post]


# -- (c) live push over a session the member's own serve process holds ----------------------


def test_post_on_one_peer_is_pushed_live_to_a_connected_peer(tmp_path, serve):
    g = group(tmp_path, serve, ("Ben",))
    a, b = g.a, g.members["Ben"]
    before = a.ok("post", g.circle, "before the live session").stdout.strip()
    served_b = serve(b, "--connect", g.served_a.address)  # B dials A and keeps the session
    view_a, view_b = StoreView(a), StoreView(b)  # the test only reads the stores
    with view_a, view_b:
        # The session's first exchange brings `before`: from then on it is open and
        # converged, and what follows can only travel as a live push.
        wait_until(lambda: before in view_b.posts(g.circle), 20, "the live session to bring the first post")

        latencies = []
        for i in range(2):
            body = f"pushed {i}"
            post_id = a.ok("post", g.circle, body).stdout.strip()
            posted = time.monotonic()
            # B runs no command: only B's serve process can have stored it.
            wait_until(lambda: view_b.posts(g.circle).get(post_id) == body, 10, f"live push of {body!r} to B")
            latencies.append(time.monotonic() - posted)

        # And the other way: a post made on B reaches A through the same session.
        post_id = b.ok("post", g.circle, "from Ben, live").stdout.strip()
        posted = time.monotonic()
        wait_until(lambda: post_id in view_a.posts(g.circle), 10, "live push from B to A")
        latencies.append(time.monotonic() - posted)
    assert feed(b, g.circle) == feed(a, g.circle)  # and through the CLI, both agree

    # One session all along: B's dialler never lost it and reconnected.
    assert "live session with" not in served_b.stderr(), served_b.stderr()
    assert g.served_a.alive() and served_b.alive()
    # DESIGN.md: "well under a second" on loopback (measured here: ~0.05 s after `post`
    # returns); the bound leaves slack for a busy machine.
    assert max(latencies) < 3, latencies


# -- (d) SIGKILL mid-sync ---------------------------------------------------------------


BIG_POSTS = 80


def write_posts(home: Path, circle: str, bodies: list[str]) -> list[str]:
    """Posts written in-process (fast); each returned id is durable, as with `circle post`."""
    service = Service.unlock(home, PASSPHRASE)
    try:
        return [service.post(circle, body).id for body in bodies]
    finally:
        service.close()


@pytest.mark.parametrize("victim", ["receiving server", "receiving client"])
def test_peer_killed_mid_sync_keeps_what_it_acknowledged_and_a_later_sync_completes(tmp_path, serve, victim):
    g = group(tmp_path, serve, ("Ben",), before_invite=("Ana early",))
    a, b, served_a = g.a, g.members["Ben"], g.served_a
    # Both hold (acknowledged) everything so far: Ana's post and Ben's join.
    acknowledged = set(posts_of(b, g.circle))
    b_late = write_posts(b.home, g.circle, ["Ben late, only on B"])[0]  # Ben's own, confirmed
    sender, receiver = (b, a) if victim == "receiving server" else (a, b)
    # Large, hard-to-compress posts, so the transfer takes a while.
    big = set(write_posts(sender.home, g.circle,
                          [f"bulk {i} " + secrets.token_urlsafe(14000) for i in range(BIG_POSTS)]))

    ends_before = served_a.stderr().count(" lost: ")
    syncing = subprocess.Popen([sys.executable, "-m", "circle", "sync", served_a.address], env=b.env(),
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        wait_until(lambda: established_to(served_a.port) or syncing.poll() is not None, 30,
                   "the sync connection")
        time.sleep(random.uniform(0.0, 0.1))
        (served_a.proc if victim == "receiving server" else syncing).kill()
        out, err = syncing.communicate(timeout=30)
    finally:
        stop_process(syncing)

    held = set(posts_of(receiver, g.circle))  # the store opens and reads
    assert acknowledged <= held
    if victim == "receiving client":
        assert b_late in held
    # A received bundle lands whole or not at all.
    assert len(big & held) in (0, len(big)), len(big & held)
    if victim == "receiving server":
        if syncing.returncode == 0:  # the kill came only after both sides said SYNCED
            assert big <= held
        else:  # the usual case: the sync was cut off, and says so in one line
            assert_one_line_error(CliResult(syncing.returncode, out, err))
        served_a = serve(a)
    else:
        assert syncing.returncode == -signal.SIGKILL
        # The server shrugs off the vanished client.
        wait_until(lambda: served_a.stderr().count(" lost: ") > ends_before, 10,
                   "the server to log the dropped client")
        assert served_a.alive() and "Traceback" not in served_a.stderr()

    b.ok("sync", served_a.address)
    everything = acknowledged | {b_late} | big
    feed_a, feed_b = run_parallel([lambda: feed(a, g.circle), lambda: feed(b, g.circle)])
    assert {p["id"] for p in feed_a} == everything
    assert feed_a == feed_b


# -- (e) a removed device ----------------------------------------------------------------


def test_removed_device_is_refused_and_gets_nothing_written_after_removal(tmp_path, serve):
    g = group(tmp_path, serve, ("Ben", "Cleo"))
    a, b, c = g.a, g.members["Ben"], g.members["Cleo"]
    # Both keep live sessions with Ana, through their own serve processes.
    live_b, live_c = run_parallel([lambda x=x: serve(x, "--connect", g.served_a.address) for x in (b, c)])
    hello = a.ok("post", g.circle, "hello both").stdout.strip()
    view_b, view_c = StoreView(b), StoreView(c)
    with view_b, view_c:
        wait_until(lambda: hello in view_b.posts(g.circle) and hello in view_c.posts(g.circle), 20,
                   "both live sessions to deliver a post")

        a.ok("remove", g.circle, member_id(c))
        secret = a.ok("post", g.circle, "written after Cleo left").stdout.strip()
        # B, still a member, gets it live; by then Ana's push round for C has happened too.
        wait_until(lambda: secret in view_b.posts(g.circle), 10, "the post to reach B")
        time.sleep(1.0)  # one more push/poll round of slack for the negative check below
        assert secret not in view_c.posts(g.circle)
    assert "Traceback" not in g.served_a.stderr(), g.served_a.stderr()
    assert g.served_a.alive()

    stop_process(live_c.proc)
    # Refused by Ana, and by Ben who has learnt of the removal: one line each.
    refusals = run_parallel([lambda s=s: c.run("sync", s.address, timeout=30) for s in (g.served_a, live_b)])
    for refused in refusals:
        assert "not a member" in assert_one_line_error(refused)
    # A removed device whose software ignores the removal and asks anyway gets no bundle:
    # the refusal must come from Ana, not from C's own (honest) checks.
    assert ask_as(c, g.served_a.address, g.circle) == [m.ERROR]
    posts_c = posts_of(c, g.circle)
    assert secret not in posts_c
    assert hello in posts_c  # what C already had, C keeps
    assert [r["status"] for r in a.ok("members", g.circle, "--all", "--json").json()
            if r["name"] == "Cleo"] == ["removed"]


def ask_as(cli: Cli, address: str, circle: str) -> list[int]:
    """Speak the protocol with `cli`'s device key: send its STATE, return the kinds of
    every message the peer sends back until it hangs up."""
    service = Service.unlock(cli.home, PASSPHRASE)
    try:
        static, state = service.profile.identity.dh_key, service.sync_state(circle)
    finally:
        service.close()

    async def talk() -> list[int]:
        host, port = tcp.parse_address(address)
        reader, writer = await asyncio.open_connection(host, port)
        stream = await SecureStream.connect(reader, writer, static, initiator=True)
        kinds = []
        try:
            await stream.send(m.encode_state(state))
            while True:
                kinds.append(m.decode(await stream.receive(10))[0])
        except ConnectionDropped:
            return kinds
        finally:
            await stream.close()

    return asyncio.run(talk())


# -- (f) errors a person sees ------------------------------------------------------------


def test_sync_to_a_closed_port_fails_fast_with_one_line(tmp_path):
    a = new_profile(tmp_path, "Ana")
    a.ok("new", "Walkers")
    started = time.monotonic()
    result = a.run("sync", f"{LOOPBACK}:{closed_port()}", timeout=30)
    elapsed = time.monotonic() - started
    assert "cannot reach" in assert_one_line_error(result)
    assert elapsed < 5, elapsed


def test_join_with_an_expired_code_says_so_in_one_line(tmp_path, serve):
    g = group(tmp_path, serve, ())
    eight_days_ago = datetime.now(timezone.utc) - timedelta(days=8)
    old = Service.unlock(g.a.home, PASSPHRASE, clock=lambda: eight_days_ago)
    try:
        code = old.invite(g.circle, uses=5, expires_in=timedelta(days=7), hints=(g.served_a.address,))
    finally:
        old.close()
    b = new_profile(tmp_path, "Ben")
    assert "expired" in assert_one_line_error(b.run("join", code, timeout=30))
    assert b.ok("circles", "--json").json() == []

    # A client that skips its own check meets the member's: the server refuses too.
    late = Service.unlock(b.home, PASSPHRASE, clock=lambda: eight_days_ago)
    try:
        request = late.join_request(code)
        with pytest.raises(tcp.SyncError, match="expired"):
            asyncio.run(tcp.join(late.profile.identity.dh_key, g.served_a.address, request))
    finally:
        late.close()
    assert [i["used"] for i in g.a.ok("invites", g.circle, "--json").json() if i["uses"] == 5] == [0]


def test_join_with_a_used_up_code_says_so_in_one_line(tmp_path, serve):
    g = group(tmp_path, serve, ("Ben",), uses=1)
    c = new_profile(tmp_path, "Cleo")
    assert "used up" in assert_one_line_error(c.run("join", g.code, timeout=30))
    assert c.ok("circles", "--json").json() == []
    assert len(g.a.ok("members", g.circle, "--json").json()) == 2
    assert g.served_a.alive()
