"""service/verify.py: the pure checks a received bundle passes before anything
of it is stored, called directly on a real bundle and on copies of it that an
attacker altered. (The same checks through `receive_bundle`, from hostile peers
over real sockets: tests/system/test_*_adversarial.py.)"""

from __future__ import annotations

import dataclasses

import pytest

from circle.crypto.identity import DeviceIdentity
from circle.domain.change_header import read_change_header
from circle.domain.governance.actions import canonical
from circle.domain.heads import SignedHead
from circle.service.verify import (
    BundleRejected,
    authenticated_changes,
    causal_order,
    check_epoch,
    decode_actions,
    open_content,
    read_bundle_header,
    verified_heads,
)
from circle.sync.bundle import BundleContent
from tests.helpers.in_process import Net


@pytest.fixture
def sent(tmp_path):
    """Ana's circle with three posts, as a delta bundle sealed for Ben, opened
    with the key Ben holds: (ben, circle on ben, header, content, key)."""
    net = Net(tmp_path)
    ana, ben = net.profile("Ana"), net.profile("Ben")
    net.cid = ana.create_circle("Circle")
    net.join(ana, ben)
    for n in range(3):
        ana.post(net.cid, f"post {n}")
    data = ana.bundle_for(net.cid, net.dev(ben))
    header = read_bundle_header(data)
    circle = ben.open_circle(net.cid)
    key = circle.keys[header.epoch_id]
    return ben, circle, header, open_content(key, data), key, ana


def test_an_honest_bundle_passes_every_check(sent):
    ben, circle, header, content, key, _ = sent
    check_epoch(circle.state, ben.profile.identity, header.epoch_id, key)
    heads = verified_heads(circle.state, circle.id, content.heads)
    accepted, dropped, vector = authenticated_changes(circle.state, heads, content.changes)
    assert dropped == 0 and len(accepted) == len(content.changes) and vector
    assert len(decode_actions(content)) == len(content.actions)


def test_changes_come_out_after_what_they_depend_on_whatever_the_order_they_came_in(sent):
    content = sent[3]
    headers = {read_change_header(raw).hash: (read_change_header(raw), raw) for raw in reversed(content.changes)}
    seen: set[bytes] = set()
    for change_hash, (header, _) in causal_order(headers):
        assert all(dep in seen for dep in header.deps if dep in headers)
        seen.add(change_hash)
    assert seen == set(headers)


@pytest.mark.parametrize("garbage", [b"", b"\x00" * 10, b"circle-bundle" + b"\xff" * 200])
def test_bytes_that_are_no_bundle_are_refused_with_one_reason(garbage):
    with pytest.raises(BundleRejected, match="bundle refused"):
        read_bundle_header(garbage)


def test_a_bundle_opened_with_the_wrong_key_is_refused(sent):
    ben, circle, _, _, _, ana = sent
    data = ana.bundle_for(circle.id, ben.whoami().device_id)
    with pytest.raises(BundleRejected, match="bundle refused"):
        open_content(bytes(32), data)


def test_a_key_the_log_does_not_give_this_device_is_refused(sent):
    ben, circle, header, _, key, _ = sent
    with pytest.raises(BundleRejected, match="the circle's log does not give this device"):
        check_epoch(circle.state, ben.profile.identity, header.epoch_id, bytes(32))


def test_a_head_signed_by_another_key_is_refused(sent):
    ben, circle, _, content, _, _ = sent
    head = SignedHead.decode(content.heads[-1])
    forged = SignedHead.sign(DeviceIdentity.generate(), circle.id, head.actor, head.seq, head.hash)
    with pytest.raises(BundleRejected, match="does not verify"):
        verified_heads(circle.state, circle.id, [forged.encode()])


def test_a_head_for_an_actor_of_no_admitted_device_is_refused(sent):
    ben, circle, _, content, _, _ = sent
    head = SignedHead.decode(content.heads[-1])
    stranger = DeviceIdentity.generate()
    forged = SignedHead.sign(stranger, circle.id, b"\x01" * len(head.actor), head.seq, head.hash)
    with pytest.raises(BundleRejected, match="no admitted device"):
        verified_heads(circle.state, circle.id, [forged.encode()])


def test_a_change_no_signed_head_vouches_for_refuses_the_whole_bundle(sent):
    ben, circle, _, content, _, ana = sent
    heads = verified_heads(circle.state, circle.id, content.heads)
    newest = max(content.changes, key=lambda raw: read_change_header(raw).seq)
    actor = read_change_header(newest).actor
    # Vouch only for the first post: the later changes of that actor are not reachable from it.
    first = min((read_change_header(c) for c in content.changes if read_change_header(c).actor == actor),
                key=lambda h: h.seq)
    older = {actor: dataclasses.replace(heads[actor], seq=first.seq, hash=first.hash)}
    with pytest.raises(BundleRejected, match="not vouched for"):
        authenticated_changes(circle.state, older, content.changes)


def test_a_change_that_is_not_a_change_refuses_the_whole_bundle(sent):
    ben, circle, _, content, _, _ = sent
    heads = verified_heads(circle.state, circle.id, content.heads)
    with pytest.raises(BundleRejected, match="bundle refused"):
        authenticated_changes(circle.state, heads, (*content.changes, b"\x85o" + b"\x00" * 40))


def test_actions_that_do_not_decode_are_refused(sent):
    content = sent[3]
    broken = BundleContent(actions=(*content.actions, b"{not an action"), changes=(), heads=())
    with pytest.raises(BundleRejected, match="bundle refused"):
        decode_actions(broken)


def test_an_action_of_a_kind_from_a_newer_version_refuses_the_bundle_saying_to_update(sent):
    identity = sent[0].profile.identity
    raw = canonical({"v": 1, "circle": sent[1].id, "kind": "hold_vote", "author": identity.public.sign_pub.hex(),
                     "parents": [next(iter(sent[1].actions))], "at": 1, "body": {}})
    future = BundleContent(actions=(*sent[3].actions, identity.sign(raw) + raw), changes=(), heads=())
    with pytest.raises(BundleRejected, match="bundle refused: .*'hold_vote'.*update circle"):
        decode_actions(future)
