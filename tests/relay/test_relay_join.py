"""Joining through the relay while no member is online (issue 13): real `circle`
processes and a real `circle relay` process on 127.0.0.1. The organizer makes
the invite and goes away; the newcomer's `circle join` leaves its request at the
relay and waits; the organizer's device comes back, syncs, and admits them."""

from __future__ import annotations

import subprocess
import sys

from circle.crypto.invite_code import InviteCode
from tests.helpers.cli import Cli
from tests.helpers.live import wait_until
from tests.helpers.relay import Relay
from tests.helpers.served import assert_one_line_error, new_profiles, posts_of

WAITING = "waiting at the relay for a member to come online"


def _disk(relay: Relay) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(relay.data.rglob("*")) if p.is_file())


def _start_join(cli: Cli, code: str, *extra: str) -> tuple[subprocess.Popen, object]:
    err = cli.home.parent / f"{cli.home.name}-join.err"
    err_file = open(err, "w")  # noqa: SIM115 - the process writes to it until it ends
    proc = subprocess.Popen([sys.executable, "-m", "circle", "join", code, *extra], env=cli.env(),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err_file, text=True)
    return proc, err


def test_a_newcomer_joins_through_the_relay_while_no_member_is_online(tmp_path, relay: Relay):
    ana, ben = new_profiles(tmp_path, "Ana", "Benedikt-Walker")
    circle = ana.ok("new", "Walkers").stdout.strip()
    ana.ok("relays", circle, "--add", relay.address, "--token", relay.token)
    ana.ok("post", circle, "before Ben came")
    made = ana.ok("invite", circle, "--json").json()
    code = made["code"]
    assert made["relays"] == [relay.address] and InviteCode.decode(code).relays == (relay.address,)
    # Ana's device is now offline: no process of hers runs until Ben waits.
    proc, err = _start_join(ben, code, "--wait", "5m")
    try:
        wait_until(lambda: WAITING in err.read_text() or proc.poll() is not None, 60, "Ben to wait at the relay")
        assert proc.poll() is None, err.read_text()
        assert err.read_text().count("\n") == 1  # one line, and it says how to go on
        assert "run the same command again to keep waiting" in err.read_text()
        synced = ana.ok("sync").stdout  # Ana's device comes online: syncs with the relay, admits Ben
        assert f"via {relay.address}" in synced
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 0, err.read_text()
    assert out.strip() == circle
    assert "before Ben came" in posts_of(ben, circle).values()
    ben.ok("post", circle, "hello from Ben, joined through the relay")
    ben.ok("sync")
    ana.ok("sync")
    assert "hello from Ben, joined through the relay" in posts_of(ana, circle).values()
    names = {m["name"] for m in ana.ok("members", circle, "--json").json()}
    assert names == {"Ana", "Benedikt-Walker"}
    # The relay holds no device key of Ben's, neither as bytes nor as hex, nor his name.
    whoami = ben.ok("whoami", "--json").json()
    disk = _disk(relay)
    from circle.service import Service
    from tests.helpers.cli import PASSPHRASE

    service = Service.unlock(ben.home, PASSPHRASE)
    try:
        public = service.profile.identity.public
        keys = (public.sign_pub, public.dh_pub)
    finally:
        service.close()
    for key in keys:
        assert key not in disk and key.hex().encode() not in disk
    assert whoami["device_id"].encode() not in disk and b"Benedikt-Walker" not in disk


def test_a_refused_request_prints_the_reason_and_exits_non_zero(tmp_path, relay: Relay):
    ana, ben = new_profiles(tmp_path, "Ana", "Ben")
    circle = ana.ok("new", "Walkers").stdout.strip()
    ana.ok("relays", circle, "--add", relay.address, "--token", relay.token)
    made = ana.ok("invite", circle, "--json").json()
    proc, err = _start_join(ben, made["code"], "--wait", "5m")
    try:
        wait_until(lambda: WAITING in err.read_text() or proc.poll() is not None, 60, "Ben to wait at the relay")
        ana.ok("revoke-invite", circle, made["id"])
        ana.ok("sync")
        proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode != 0
    last = err.read_text().strip().splitlines()[-1]
    assert last.startswith("circle: ") and "refused" in last and "revoked" in last
    assert circle not in ben.ok("circles", "--json").stdout
