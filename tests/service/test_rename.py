"""A linked device does not rename its member; `rename` changes one's own name
only, and a forged rename of someone else is ignored."""

from __future__ import annotations

import contextlib

import pytest

from tests.helpers.in_process import Net, join

from circle.errors import InvalidInput
from circle.service.exchange import BundleRejected


@pytest.fixture
def net(tmp_path):
    return Net(tmp_path)


def names(service, cid):
    return {m.id: (m.name, m.joined_at) for m in service.members(cid)}


def test_linking_a_device_keeps_the_members_name_and_join_date_for_everyone(net):
    ana, ben, cara, laptop = (net.profile(n) for n in ("Ana", "Ben", "Cara", "Ana (laptop)"))
    net.cid = ana.create_circle("Walkers")
    net.join(ana, ben, cara)
    before = names(cara, net.cid)
    link = ana.invite(net.cid, device=True)
    join(sponsor=ana, newcomer=laptop, code=link)
    net.send(laptop, ana)
    net.send(ana, cara)
    net.send(laptop, cara)
    assert names(cara, net.cid) == before
    assert names(laptop, net.cid)[net.mid(ana)][0] == "Ana"
    assert cara.resolve_member(net.cid, "Ana").id == net.mid(ana)


def test_rename_reaches_peers_and_keeps_the_join_date(net):
    ana, ben = net.profile("Ana"), net.profile("Ben")
    net.cid = ana.create_circle("Walkers")
    net.join(ana, ben)
    joined = names(ana, net.cid)[net.mid(ben)][1]
    ben.rename(net.cid, "Benjamin")
    net.send(ben, ana)
    assert names(ana, net.cid)[net.mid(ben)] == ("Benjamin", joined)
    with pytest.raises(InvalidInput):
        ben.rename(net.cid, "")


def test_a_forged_rename_of_another_member_is_ignored(net):
    ana, ben, cara = net.profile("Ana"), net.profile("Ben"), net.profile("Cara")
    net.cid = ana.create_circle("Walkers")
    net.join(ana, ben, cara)
    with ben.repo.writing(net.cid) as circle:  # a modified client writing Ana's name
        ben.repo.persist(circle, circle.document.rename(net.mid(ana), "Not Ana"))
    with contextlib.suppress(BundleRejected):  # refusing the bundle is as good as ignoring it
        net.send(ben, cara)
    assert names(cara, net.cid)[net.mid(ana)][0] == "Ana"


def test_cli_rename_prints_json_and_refuses_a_bad_name_in_one_line(tmp_path):
    from tests.helpers.cli import Cli
    from tests.helpers.served import assert_one_line_error

    ana = Cli(tmp_path / "ana")
    ana.ok("init", "--name", "Ana")
    circle = ana.ok("new", "Walkers").stdout.strip()
    out = ana.ok("rename", circle, "Ana M.", "--json").json()
    assert out["name"] == "Ana M."
    assert [m["name"] for m in ana.ok("members", circle, "--json").json()] == ["Ana M."]
    assert "name" in assert_one_line_error(ana.run("rename", circle, "x" * 81))
