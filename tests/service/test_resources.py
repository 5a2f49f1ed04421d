"""Crisis resources by id: corrected and removed by organizers, the same on every peer."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers.cli import Cli
from tests.helpers.in_process import Net

from circle.domain.governance.actions import ActionError, canonical, decode_action, sign_action
from circle.domain.models import CrisisResource
from circle.errors import NotAllowed

WRONG, RIGHT = "0800 000 000", "0800 111 222"


@pytest.fixture
def net(tmp_path: Path):
    """ana founds, ben is a second organizer, mal and zoe are members; all synced."""
    net = Net(tmp_path)
    net.ana, net.ben, net.mal, net.zoe = (net.profile(n) for n in ("ana", "ben", "mal", "zoe"))
    net.cid = net.ana.create_circle("Walkers")
    net.join(net.ana, net.ben, net.mal, net.zoe)
    net.ana.set_role(net.cid, net.mid(net.ben), "organizer")
    net.ana.add_resource(net.cid, CrisisResource("Night line", WRONG, "GB", "nights"))
    net.rid = net.ana.info(net.cid).resources[0].id
    for peer in (net.ben, net.mal, net.zoe):
        net.send(net.ana, peer)
    return net


def listed(service, cid) -> list[tuple[str, str]]:
    return [(r.id, r.contact) for r in service.info(cid).resources]


def test_an_edit_replaces_the_number_everywhere(net) -> None:
    net.ana.edit_resource(net.cid, net.rid[:6], contact=RIGHT)
    assert listed(net.ana, net.cid) == [(net.rid, RIGHT)]
    net.send(net.ana, net.mal)
    [shown] = net.mal.info(net.cid).resources
    assert (shown.id, shown.name, shown.contact, shown.region, shown.hours) == (
        net.rid, "Night line", RIGHT, "GB", "nights")


def test_a_removal_reaches_every_member(net) -> None:
    net.ana.remove_resource(net.cid, net.rid)
    for peer in (net.mal, net.zoe):
        net.send(net.ana, peer)
        assert listed(peer, net.cid) == []


def test_the_log_names_each_resource_it_touched(net) -> None:
    net.ana.edit_resource(net.cid, net.rid, name="Night line (GB)", contact=RIGHT)
    net.ana.remove_resource(net.cid, net.rid)
    net.send(net.ana, net.mal)
    summaries = [e.summary for e in net.mal.modlog(net.cid) if "resource" in e.kind]
    assert summaries == ["added crisis resource Night line",
                         f"corrected crisis resource Night line: Night line (GB), {RIGHT}",
                         "removed crisis resource Night line (GB)"]


def test_a_member_may_not_edit_or_remove_and_forgeries_are_ignored(net) -> None:
    with pytest.raises(NotAllowed, match="a member may not edit resource"):
        net.mal.edit_resource(net.cid, net.rid, contact="0900 scam")
    with pytest.raises(NotAllowed, match="a member may not remove resource"):
        net.mal.remove_resource(net.cid, net.rid)
    circle = net.mal.open_circle(net.cid)
    body = {"resource": net.rid, "name": "Night line", "contact": "0900 scam", "region": "", "hours": ""}
    edit = sign_action(net.mal.profile.identity, net.cid, "edit_resource", list(circle.state.heads),
                       net.mal.now_ms(), body)
    remove = sign_action(net.mal.profile.identity, net.cid, "remove_resource", [edit.id],
                         net.mal.now_ms(), {"resource": net.rid})
    net.mal.repo.persist(circle, actions=[edit, remove])
    for peer in (net.ana, net.ben, net.zoe):
        net.send(net.mal, peer)
        state = peer.open_circle(net.cid).state
        verdicts = [(e.valid, e.reason) for e in state.log if e.action.id in (edit.id, remove.id)]
        assert verdicts == [(False, "a member may not edit resource"), (False, "a member may not remove resource")]
        assert listed(peer, net.cid) == [(net.rid, WRONG)]


def spread(net, first, second) -> list:
    """first's and second's concurrent acts reach mal in one order, zoe in the other."""
    net.send(first, net.mal); net.send(second, net.mal)
    net.send(second, net.zoe); net.send(first, net.zoe)
    net.send(first, second); net.send(second, first)
    return [listed(p, net.cid) for p in (net.ana, net.ben, net.mal, net.zoe)]


def test_concurrent_edit_and_remove_converge_to_removed(net) -> None:
    net.ana.edit_resource(net.cid, net.rid, contact=RIGHT)
    net.ben.remove_resource(net.cid, net.rid)
    assert spread(net, net.ana, net.ben) == [[]] * 4


def test_concurrent_edits_the_senior_organizer_wins_in_both_orders(net) -> None:
    net.ben.edit_resource(net.cid, net.rid, contact="0800 333 444")
    net.ana.edit_resource(net.cid, net.rid, contact=RIGHT)
    assert spread(net, net.ben, net.ana) == [[(net.rid, RIGHT)]] * 4


def test_an_old_set_resources_log_stays_readable_with_ids(net) -> None:
    circle = net.ana.open_circle(net.cid)
    old = {"resources": [{"name": "Night line", "contact": WRONG, "region": "GB", "hours": "nights"},
                         {"name": "Day line", "contact": "0800 5", "region": "", "hours": ""}]}
    action = sign_action(net.ana.profile.identity, net.cid, "set_resources", list(circle.state.heads),
                         net.ana.now_ms(), old)
    net.ana.repo.persist(circle, actions=[action])
    ids = [r.id for r in net.ana.info(net.cid).resources]
    assert ids == [net.rid, action.id[:14] + "01"]  # the unchanged entry keeps its id
    net.ana.remove_resource(net.cid, ids[1])
    assert listed(net.ana, net.cid) == [(net.rid, WRONG)]


@pytest.mark.parametrize("kind, body", [
    ("edit_resource", {"resource": "ab" * 8, "name": "N", "contact": "C", "region": ""}),
    ("edit_resource", {"resource": "ab" * 8, "name": "N", "contact": "C", "region": "", "hours": "", "x": 1}),
    ("edit_resource", {"resource": "ab" * 7, "name": "N", "contact": "C", "region": "", "hours": ""}),
    ("edit_resource", {"resource": "AB" * 8, "name": "N", "contact": "C", "region": "", "hours": ""}),
    ("edit_resource", {"resource": "ab" * 8, "name": "", "contact": "C", "region": "", "hours": ""}),
    ("edit_resource", {"resource": "ab" * 8, "name": "N", "contact": 5, "region": "", "hours": ""}),
    ("edit_resource", {"resource": "ab" * 8, "name": "N", "contact": "C", "region": "r" * 301, "hours": ""}),
    ("add_resource", {"name": "N", "contact": " ", "region": "", "hours": ""}),
    ("add_resource", {"name": "N" * 301, "contact": "C", "region": "", "hours": ""}),
    ("add_resource", {"name": "N", "contact": "C", "region": "", "hours": None}),
    ("remove_resource", {"resource": "ab" * 9}),
    ("remove_resource", {"resource": 7}),
    ("remove_resource", {}),
])
def test_the_decoder_refuses_malformed_resource_actions(net, kind, body) -> None:
    identity = net.ana.profile.identity

    payload = {"v": 1, "circle": net.cid, "kind": kind, "author": identity.public.sign_pub.hex(),
               "parents": ["00" * 32], "at": 1, "body": body}
    raw = canonical(payload)
    with pytest.raises(ActionError):
        decode_action(identity.sign(raw) + raw)


def test_cli_edit_and_remove_by_prefix(profile_cli: Cli, circle_id: str) -> None:
    added = profile_cli.ok("resources", circle_id, "--add", "Night line", "--contact", WRONG, "--json").json()
    [own] = [r for r in added if r["source"] == "circle"]
    assert len(own["id"]) == 16
    plain = profile_cli.ok("resources", circle_id).stdout
    assert f"[{own['id'][:8]}] Night line: {WRONG}" in plain
    edited = profile_cli.ok("resources", circle_id, "--edit", own["id"][:8], "--contact", RIGHT, "--json").json()
    mine = [(r["id"], r["name"], r["contact"]) for r in edited if r["source"] == "circle"]
    assert mine == [(own["id"], "Night line", RIGHT)]
    assert WRONG not in profile_cli.ok("resources", circle_id).stdout
    gone = profile_cli.ok("resources", circle_id, "--remove", own["id"][:8], "--json").json()
    assert [r for r in gone if r["source"] == "circle"] == []
    bad = profile_cli.run("resources", circle_id, "--remove", own["id"][:8])
    assert bad.returncode != 0 and bad.stderr.startswith("circle: ") and bad.stderr.count("\n") == 1
    assert "unknown resource" in bad.stderr


@pytest.mark.parametrize("kind, body", [
    ("add_resource", {"name": "N", "contact": "C", "region": "", "hours": ""}),
    ("edit_resource", {"resource": "ab" * 8, "name": "N" * 300, "contact": "C", "region": "r" * 300, "hours": ""}),
    ("remove_resource", {"resource": "ab" * 8}),
])
def test_the_decoder_accepts_well_formed_resource_actions(net, kind, body) -> None:
    """The control for the refusals above: only the malformed field makes them fail."""
    identity = net.ana.profile.identity
    payload = {"v": 1, "circle": net.cid, "kind": kind, "author": identity.public.sign_pub.hex(),
               "parents": ["00" * 32], "at": 1, "body": body}
    raw = canonical(payload)
    assert decode_action(identity.sign(raw) + raw).body == body
