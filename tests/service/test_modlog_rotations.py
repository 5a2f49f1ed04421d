"""Key rotations in the moderation log: who rotated, which epoch, who was left out; never a key."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.in_process import Net


def _rotations(service, cid) -> list[tuple[str | None, str, str | None, str]]:
    return [(e.actor_id, e.summary, e.target, e.status) for e in service.modlog(cid) if e.kind == "rotate"]


def test_a_removal_rotation_and_a_plain_rotation_show_in_every_members_log(tmp_path: Path) -> None:
    net = Net(tmp_path)
    ana, ben, cy = (net.profile(n) for n in ("ana", "ben", "cy"))
    cid = net.cid = ana.create_circle("Walkers")
    net.join(ana, ben, cy)
    assert _rotations(ana, cid) == []  # the circle's first key is no change anyone made

    ana.remove(cid, net.mid(ben), "left the group chat in a mess")
    epoch = ana.rotate_key(cid)
    net.send(ana, cy)
    for reader in (ana, cy):
        assert _rotations(reader, cid) == [
            (net.mid(ana), "rotated the circle key (epoch 2), leaving out ben", net.mid(ben), "valid"),
            (net.mid(ana), "rotated the circle key (epoch 3)", None, "valid"),
        ]
    entries = [e for e in cy.modlog(cid) if e.kind == "rotate"]
    sealed = [box for e in entries for box in cy.open_circle(cid).actions[e.id].body["lockboxes"].values()]
    assert sealed and all(box not in repr(e) for e in entries for box in sealed)  # no key material shown
    assert epoch not in repr(entries)
