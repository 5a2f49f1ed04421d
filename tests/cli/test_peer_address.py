"""`circle invite --peer HOST:PORT`: a malformed address is refused where it is typed."""

from __future__ import annotations

import pytest

from circle.crypto.invite_code import InviteCode
from circle.errors import InvalidInput
from circle.sync.address import peer_address
from tests.helpers.cli_in_process import InProcessCli

GOOD = ["127.0.0.1:7000", "[::1]:7000", "host.local:7000", "my-laptop:1", "10.0.0.2:65535", "[fe80::1%eth0]:7654"]
BAD = ["", "127.0.0.1", ":7000", "host:", "host:0", "host:65536", "host:70000", "host:-1", "host:7e3",
       "host:７０００", "::1:7000", "[::1]7000", "[nothost]:7000", "[]:7000", "my host:7000", " host:7000",
       "host:7000 ", "ho\x1bst:7000", "host\u202e:7000", "host\n:7000", "999.1.1.1:7000", "a/b:7000",
       "user@host:7000", "-host:7000", "ho..st:7000"]


@pytest.mark.parametrize("text", GOOD)
def test_good_addresses_pass_unchanged(text):
    assert peer_address(text) == text


@pytest.mark.parametrize("text", BAD)
def test_bad_addresses_say_why(text):
    with pytest.raises(InvalidInput, match="not a peer address"):
        peer_address(text)


@pytest.fixture(scope="module")
def organizer(tmp_path_factory):
    cli = InProcessCli(tmp_path_factory.mktemp("peer") / "home")
    cli.ok("init", "--name", "Ana")
    cid = cli.ok("new", "Walkers").stdout.strip()
    return cli, cid


@pytest.mark.parametrize("text", ["host:0", "::1:7000", "my host:7000", "ho\x1bst:7000", "host"])
def test_invite_refuses_a_bad_peer_in_one_line_and_records_nothing(organizer, text):
    cli, cid = organizer
    before = cli.ok("invites", cid, "--json").json()
    result = cli.run("invite", cid, "--peer", "127.0.0.1:7000", "--peer", text)
    assert result.returncode != 0 and result.stdout == ""
    assert result.stderr.startswith("circle: not a peer address") and result.stderr.count("\n") == 1
    assert "\x1b" not in result.stderr
    assert cli.ok("invites", cid, "--json").json() == before


@pytest.mark.parametrize("text", ["127.0.0.1:7000", "[::1]:7000", "host.local:7000"])
def test_invite_carries_a_good_peer_as_a_hint(organizer, text):
    cli, cid = organizer
    code = cli.ok("invite", cid, "--peer", text).stdout.strip()
    assert InviteCode.decode(code).hints == (text,)
