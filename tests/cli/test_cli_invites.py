"""`circle invites`: each invite's status as the service would judge a joiner now."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from circle import cli as circle_cli
from circle.crypto.invite_code import InviteCode
from tests.helpers.cli import Cli
from tests.helpers.in_process import Net, join


def _id(code: str) -> str:
    return InviteCode.decode(code).invite_id


def test_invites_lists_expired_used_up_revoked_and_open_in_plain_and_json(tmp_path: Path) -> None:
    # Made an hour ago by the service's clock, so the one-minute invite has
    # expired by the time the real CLI (real clock) lists it.
    an_hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    net = Net(tmp_path)
    ana, ben = net.profile("ana", clock=lambda: an_hour_ago), net.profile("ben")
    net.cid = ana.create_circle("Walkers")
    expired = _id(ana.invite(net.cid, expires_in=timedelta(minutes=1)))
    open_ = _id(ana.invite(net.cid))
    revoked = _id(ana.invite(net.cid, expires_in=timedelta(minutes=1)))
    ana.revoke_invite(net.cid, revoked)
    used_code = ana.invite(net.cid)
    join(sponsor=ana, newcomer=ben, code=used_code)
    ana.close()
    ben.close()

    cli = Cli(tmp_path / "ana")
    want = {expired: "expired", open_: "open", revoked: "revoked", _id(used_code): "used up"}
    assert {r["id"]: r["status"] for r in cli.ok("invites", net.cid, "--json").json()} == want
    plain = cli.ok("invites", net.cid).stdout.splitlines()
    assert {line.split("  ")[0]: line.split("  ")[1] for line in plain} == want


def test_invite_turns_expired_when_the_service_clock_passes_its_expiry(tmp_path: Path, capsys) -> None:
    now = [datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)]
    ana = Net(tmp_path).profile("ana", clock=lambda: now[0])
    cid = ana.create_circle("Walkers")
    invite_id = _id(ana.invite(cid, expires_in=timedelta(minutes=10)))

    def listed() -> list[tuple[str, str]]:
        args = circle_cli.build_parser().parse_args(["invites", cid, "--json"])
        assert circle_cli.cmd_invites(args, ana) == 0
        return [(r["id"], r["status"]) for r in json.loads(capsys.readouterr().out)]

    for minutes, status in ((0, "open"), (9, "open"), (10, "open"), (11, "expired"), (60 * 24, "expired")):
        now[0] = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc) + timedelta(minutes=minutes)
        assert listed() == [(invite_id, status)], minutes
    ana.close()


def test_remove_says_which_codes_it_closed_and_readmit_makes_the_only_way_back(tmp_path: Path) -> None:
    net = Net(tmp_path)
    ana, ben = net.profile("ana"), net.profile("ben")
    net.cid = ana.create_circle("Walkers")
    group = ana.invite(net.cid, uses=5)
    join(sponsor=ana, newcomer=ben, code=group)
    net.send(ben, ana)
    ana.close()
    ben.close()

    cli = Cli(tmp_path / "ana")
    removed = cli.ok("remove", net.cid, "ben", "--reason", "kept posting numbers")
    assert removed.stderr.strip() == (
        "circle: closed 1 open invite the removed member might know; make new ones with `circle invite`")
    assert [r["status"] for r in cli.ok("invites", net.cid, "--json").json()] == ["closed"]
    refused = cli.run("invite", net.cid, "--readmit", "cara")
    assert refused.returncode != 0 and refused.stderr.count("\n") == 1 and "removed member" in refused.stderr
    assert cli.run("invite", net.cid, "--readmit", "ben", "--uses", "3").returncode != 0
    code = cli.ok("invite", net.cid, "--readmit", "ben").stdout.strip()
    [listed] = [r for r in cli.ok("invites", net.cid, "--json").json() if r["id"] == _id(code)]
    assert (listed["status"], listed["readmit"]) == ("open", Net.mid(ben))
