"""Members who are never online at the same time converge through the circle's
relay: real `circle` processes (each starts, posts, syncs and exits before the
next starts) and a real `circle relay` process on 127.0.0.1."""

from __future__ import annotations

import pytest

from circle.errors import CircleError
from circle.service import Service
from circle.sync.mailbox import MailboxError
from circle.sync.relay_client import RelayMailbox
from tests.helpers.cli import PASSPHRASE
from tests.helpers.relay import Relay
from tests.helpers.served import assert_one_line_error, group, posts_of

MARK = "plaintext-marker-7f3a"
BEN_CY = ("Benedikt-Walker", "Cyrilla-Walker")  # long enough not to turn up in random bytes


def _disk(relay: Relay) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(relay.data.rglob("*")) if p.is_file())


@pytest.fixture
def walkers(tmp_path, serve, relay):
    """Ana's circle, Ben and Cy joined while Ana was serving; then Ana adds the relay,
    Ben and Cy learn it by one direct sync, and Ana goes offline."""
    g = group(tmp_path, serve, BEN_CY)
    added = g.a.ok("relays", g.circle, "--add", relay.address, "--token", relay.token, "--json").json()
    assert added["relay"] == relay.address and len(added["key"]) == 64
    for member in g.members.values():
        member.ok("sync", g.served_a.address)
        assert member.ok("relays", g.circle, "--json").json() == [{"address": relay.address,
                                                                  "key": added["key"]}]
    g.served_a.proc.terminate()
    g.served_a.proc.wait(10)
    return g


def test_three_members_never_online_together_all_end_with_every_post(walkers, relay):
    g = walkers
    everyone = {"Ana": g.a, **g.members}
    for round_ in (1, 2):
        for name, cli in everyone.items():  # one process at a time: post, sync with the relay, exit
            cli.ok("post", g.circle, f"{name} in round {round_} {MARK}")
            out = cli.ok("sync").stdout
            assert f"via {relay.address}" in out
    for cli in everyone.values():  # a last visit each, to read what came after their own
        cli.ok("sync")
    expected = {f"{name} in round {r} {MARK}" for name in everyone for r in (1, 2)}
    for cli in everyone.values():
        assert set(posts_of(cli, g.circle).values()) == expected
    assert MARK.encode() not in _disk(relay)
    for name in BEN_CY:
        assert name.encode() not in _disk(relay)
    for cli in everyone.values():  # nor does any member's profile hold the relay's address in the clear
        profile = b"".join(p.read_bytes() for p in cli.home.glob("circle.db*"))
        assert relay.address.encode() not in profile
    status = relay.status()
    assert status["circles"] == 1 and status["per_circle"][0]["circle"] == g.circle
    assert status["per_circle"][0]["bundles"] >= 6


def test_a_removed_member_can_no_longer_store_at_the_relay(walkers, relay):
    g = walkers
    cy = g.members["Cyrilla-Walker"]
    cy_member = cy.ok("whoami", "--json").json()["member_id"]
    g.a.ok("remove", g.circle, cy_member, "--reason", "left the group badly")
    g.a.ok("sync")  # Ana's device registers the circle's new access key at the relay
    service = Service.unlock(cy.home, PASSPHRASE)
    try:
        # Cy's device, modified to try: the newest key it holds is the one before the removal.
        _, access = service.relaying.access_keys(g.circle)[0]
        with RelayMailbox(relay.address, g.circle, access, static=service.profile.identity.dh_key) as mailbox:
            mailbox.names()  # old ciphertext may still be fetched
            with pytest.raises(MailboxError, match="relay refused: this access key was rotated"):
                mailbox.put(b"sealed-looking bytes from a removed member")
        with pytest.raises(CircleError):
            service.add_relay(g.circle, relay.address, token=relay.token)
    finally:
        service.close()
    # Ben, who still belongs, syncs through the relay with the new key.
    ben = g.members["Benedikt-Walker"]
    ben.ok("sync")
    ben.ok("post", g.circle, "after the removal")
    assert "via" in ben.ok("sync").stdout
    g.a.ok("sync")
    assert "after the removal" in posts_of(g.a, g.circle).values()


def test_sync_with_no_relay_and_no_address_is_one_line(tmp_path, serve):
    g = group(tmp_path, serve, ("Ben",))
    err = assert_one_line_error(g.a.run("sync"))
    assert "no circle has a relay yet" in err
    ben = g.members["Ben"]
    err = assert_one_line_error(ben.run("relays", g.circle, "--add", "127.0.0.1:9", "--token", "x"))
    assert "only organizers add relays" in err
