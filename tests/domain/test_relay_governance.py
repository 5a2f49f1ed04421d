"""A circle's relays are a governance action (`set_relays`): organizers only,
every field checked, forged ones ignored by every peer, shown in the moderation log."""

from __future__ import annotations

import pytest

from circle.domain.governance.actions import ActionError, decode_action, sign_action
from circle.domain.governance.fields import MAX_RELAYS, relay_list
from circle.errors import NotAllowed
from tests.helpers.in_process import Net

KEY = "ab" * 32


@pytest.fixture
def net(tmp_path):
    net = Net(tmp_path)
    net.ana, net.ben = net.profile("Ana"), net.profile("Ben")
    net.cid = net.ana.create_circle("Circle")
    net.join(net.ana, net.ben)
    return net


def _relays(body: list[tuple[str, str]]) -> dict:
    return {"relays": [{"address": a, "key": k} for a, k in body]}


def test_an_organizers_relays_reach_every_member_and_the_moderation_log(net):
    net.ana.membership.act(net.cid, "set_relays", _relays([("relay.example:7700", KEY)]))
    net.send(net.ana, net.ben)
    assert net.ben.open_circle(net.cid).state.relays == (("relay.example:7700", KEY),)
    assert [r.address for r in net.ben.relays(net.cid)] == ["relay.example:7700"]
    assert any("set the circle's relays to relay.example:7700" in e.summary for e in net.ben.modlog(net.cid))
    net.ana.membership.act(net.cid, "set_relays", _relays([]))
    net.send(net.ana, net.ben)
    assert net.ben.relays(net.cid) == []


def test_a_member_cannot_set_relays_and_a_forged_list_is_ignored_by_every_peer(net):
    with pytest.raises(NotAllowed, match="may not set relays"):
        net.ben.membership.act(net.cid, "set_relays", _relays([("evil.example:1", KEY)]))
    with pytest.raises(NotAllowed, match="only organizers add relays"):
        net.ben.add_relay(net.cid, "evil.example:1", token=None)
    circle = net.ben.open_circle(net.cid)
    forged = sign_action(net.ben.profile.identity, net.cid, "set_relays", list(circle.state.heads),
                         net.ben.now_ms(), _relays([("evil.example:1", KEY)]))
    net.ben.repo.persist(circle, actions=[forged])
    net.send(net.ben, net.ana)
    for service in (net.ana, net.ben):
        assert service.relays(net.cid) == []


@pytest.mark.parametrize("bad", [
    "not a list",
    [{"address": "relay:1"}],                                   # no key
    [{"address": "relay:1", "key": KEY, "extra": 1}],           # unknown field
    [{"address": "relay 1:7", "key": KEY}],                     # a space
    [{"address": "relay\x1b[2J:7", "key": KEY}],                # a control character
    [{"address": "", "key": KEY}],
    [{"address": "r" * 301, "key": KEY}],
    [{"address": "relay:1", "key": "AB" * 32}],                 # not lowercase hex
    [{"address": "relay:1", "key": "ab" * 31}],                 # too short
    [{"address": "relay:1", "key": KEY}, {"address": "relay:1", "key": KEY}],
    [{"address": f"relay{i}:1", "key": KEY} for i in range(MAX_RELAYS + 1)],
])
def test_a_malformed_relay_list_does_not_decode(net, bad):
    with pytest.raises(ActionError):
        relay_list(bad)
    circle = net.ana.open_circle(net.cid)
    with pytest.raises(ActionError):  # neither signed here nor accepted from a peer
        decode_action(sign_action(net.ana.profile.identity, net.cid, "set_relays", list(circle.state.heads),
                                  net.ana.now_ms(), {"relays": bad}).wire)
