"""Restoring an older copy of a profile directory, then writing again.

The restored device's Automerge actor starts again from an older sequence
number, so its next change reuses a seq the peers already hold with other
content. Peers must refuse that change alone (one line, naming the device) and
go on; the restored device must notice, drop what it wrote since the restore
and not write until it holds its own earlier changes again.
"""

from __future__ import annotations

import shutil

import pytest

from tests.helpers.cli import PASSPHRASE
from tests.helpers.in_process import Net
from tests.helpers.served import group

from circle.service import Service
from circle.errors import NotAllowed
from circle.sync.folder import BundleFolder
from circle.sync.messages import State


def _reopen(service: Service) -> Service:
    home = service.whoami().home
    service.close()
    return Service.unlock(home, PASSPHRASE)


def _backup(service: Service, dest) -> Service:
    """Copy the profile directory aside with the profile closed, then reopen it."""
    home = service.whoami().home
    service.close()
    shutil.copytree(home, dest)
    return Service.unlock(home, PASSPHRASE)


def _restore(service: Service, backup) -> Service:
    """Close the profile and copy the backup back over its directory."""
    home = service.whoami().home
    service.close()
    shutil.rmtree(home)
    shutil.copytree(backup, home)
    return Service.unlock(home, PASSPHRASE)


@pytest.fixture
def restored(tmp_path):
    """Ana posts, backs up, posts again (Ben gets both), then restores the backup."""
    net = Net(tmp_path)
    ana, ben = net.profile("ana"), net.profile("ben")
    net.cid = ana.create_circle("Walkers")
    net.join(ana, ben)
    ana.post(net.cid, "before the backup")
    net.send(ana, ben)
    ana = _backup(ana, tmp_path / "backup")
    ana.post(net.cid, "after the backup")
    net.send(ana, ben)
    ana = _restore(ana, tmp_path / "backup")
    assert "after the backup" not in net.bodies(ana)
    services = {"ana": ana, "ben": ben}
    yield net, services
    for service in services.values():
        service.close()


def test_a_peer_refuses_only_the_clashing_change_names_the_device_and_keeps_going(restored):
    net, s = restored
    ana, ben = s["ana"], s["ben"]
    ana.post(net.cid, "after the restore")  # the same seq as "after the backup"
    ana.invite(net.cid)  # a governance action in the same bundle
    result = net.send(ana, ben)  # raised "duplicate seq" from Automerge before
    assert len(result.notes) == 1
    assert "ana's device " + net.dev(ana)[:8] in result.notes[0]
    assert "\n" not in result.notes[0]
    assert result.actions_added == 1  # the rest of the bundle went in
    assert len(ben.invites(net.cid)) == len(ana.invites(net.cid))
    assert set(net.bodies(ben)) == {"before the backup", "after the backup"}
    again = net.send(ana, ben)  # and later runs do not crash either
    assert len(again.notes) == 1
    s["ben"] = ben = _reopen(ben)
    net.send(ana, ben)
    assert set(net.bodies(ben)) == {"before the backup", "after the backup"}


def test_the_restored_device_catches_up_before_writing_and_then_writes_safely(restored):
    net, s = restored
    ana, ben = s["ana"], s["ben"]
    result = net.send(ben, ana)  # its own "after the backup" comes back
    assert result.notes == ()
    assert "after the backup" in net.bodies(ana)
    ana.post(net.cid, "after catching up")
    assert net.send(ana, ben).notes == ()
    assert set(net.bodies(ben)) == set(net.bodies(ana)) == {
        "before the backup", "after the backup", "after catching up"}


def test_the_restored_device_refuses_to_write_while_peers_hold_more_of_its_own(restored):
    net, s = restored
    ana, ben = s["ana"], s["ben"]
    ben.post(net.cid, "from ben")
    # Ben takes Ana to hold all she wrote (as after a folder run that read her
    # bundles): only his post and the signed heads go.
    claimed = ana.sync_state(net.cid)
    vector = dict(claimed.vector)
    actor = next(a for a, seq in ben.sync_state(net.cid).vector.items() if seq > vector.get(a, 0))
    vector[actor] = ben.sync_state(net.cid).vector[actor]
    result = ana.receive_bundle(ben.bundle_for(net.cid, net.dev(ana), State(net.cid, b"", vector,
                                                                           claimed.action_ids)))
    assert result.notes == ()
    with pytest.raises(NotAllowed, match="restored from an older backup: it must catch up"):
        ana.post(net.cid, "too early")
    s["ana"] = ana = _reopen(ana)  # the mark is stored, not only in memory
    with pytest.raises(NotAllowed, match="restored"):
        ana.react(net.cid, net.bodies(ana) and ana.feed(net.cid)[0].id, "heart")
    net.send(ben, ana)
    ana.post(net.cid, "now")
    assert net.send(ana, ben).notes == ()
    assert "now" in net.bodies(ben) and "too early" not in net.bodies(ben)


def test_a_restored_device_that_wrote_first_sets_that_aside_and_catches_up(restored):
    net, s = restored
    ana, ben = s["ana"], s["ben"]
    ana.post(net.cid, "after the restore")
    replay = ana.bundle_for(net.cid)  # what a member who took it might send back later
    ben.post(net.cid, "ben goes on")
    result = net.send(ben, ana)
    assert len(result.notes) == 1 and "set aside" in result.notes[0]
    assert set(net.bodies(ana)) == {"before the backup", "after the backup", "ben goes on"}
    s["ana"] = ana = _reopen(ana)  # the rewound document is what is stored
    assert set(net.bodies(ana)) == {"before the backup", "after the backup", "ben goes on"}
    assert ana.receive_bundle(replay).notes == ()  # no flipping back to what was set aside
    assert set(net.bodies(ana)) == {"before the backup", "after the backup", "ben goes on"}
    ana.post(net.cid, "ana again")
    assert net.send(ana, ben).notes == ()
    assert set(net.bodies(ben)) == set(net.bodies(ana))
    assert "ana again" in net.bodies(ben)


def _session_round(a: Service, b: Service, cid: str, net: Net) -> tuple:
    """One exchange as a TCP session makes it: each side sends what the other's
    State lacks."""
    to_b = a.delta_for(cid, net.dev(b), b.sync_state(cid))
    to_a = b.delta_for(cid, net.dev(a), a.sync_state(cid))
    got_b = b.receive_bundle(to_b[0]) if to_b else None
    got_a = a.receive_bundle(to_a[0]) if to_a else None
    return got_a, got_b


def test_by_state_exchange_a_device_that_wrote_twice_after_the_restore_gets_the_originals(restored):
    net, s = restored
    ana, ben = s["ana"], s["ben"]
    ana.post(net.cid, "after the restore")
    ana.post(net.cid, "and again")  # Ana's vector is now ahead of what Ben holds of her
    # Ben has nothing Ana lacks by count, yet their states differ: his signed
    # heads go anyway, and Ana learns she was restored.
    at_ana, at_ben = _session_round(ana, ben, net.cid, net)
    assert at_ben.changes_applied == 0 and "and again" not in net.bodies(ben)
    assert len(at_ana.notes) == 1 and "2 change(s) it wrote since were set aside" in at_ana.notes[0]
    with pytest.raises(NotAllowed, match="restored"):
        ana.post(net.cid, "too early")
    _session_round(ana, ben, net.cid, net)  # the next round brings her own back
    assert set(net.bodies(ana)) == {"before the backup", "after the backup"}
    ana.post(net.cid, "caught up")
    _session_round(ana, ben, net.cid, net)
    assert set(net.bodies(ben)) == set(net.bodies(ana)) == {"before the backup", "after the backup", "caught up"}
    assert ana.sync_state(net.cid).digest == ben.sync_state(net.cid).digest


def test_a_third_device_that_took_the_clashing_change_follows_once_its_author_goes_on(tmp_path):
    net = Net(tmp_path)
    ana, ben, cat = net.profile("ana"), net.profile("ben"), net.profile("cat")
    net.cid = ana.create_circle("Walkers")
    net.join(ana, ben, cat)
    ana = _backup(ana, tmp_path / "backup")
    ana.post(net.cid, "after the backup")
    net.send(ana, ben)
    ana = _restore(ana, tmp_path / "backup")
    ana.post(net.cid, "after the restore")
    net.send(ana, cat)  # Cat takes the clashing version first
    net.send(ben, ana)  # Ana learns, sets hers aside and catches up
    ana.post(net.cid, "ana again")
    result = net.send(ana, cat)
    assert len(result.notes) == 1 and "ana's device " + net.dev(ana)[:8] + " went on" in result.notes[0]
    expected = set(net.bodies(ana))
    assert expected == {"after the backup", "ana again"}
    assert set(net.bodies(cat)) == expected
    net.send(cat, ben)
    net.send(ben, cat)
    assert set(net.bodies(ben)) == set(net.bodies(cat)) == expected
    for service in (ana, ben, cat):
        service.close()


def test_by_state_exchange_a_device_behind_on_its_own_chain_finds_where_it_parted(tmp_path):
    net = Net(tmp_path)
    ana, ben = net.profile("ana"), net.profile("ben")
    net.cid = ana.create_circle("Walkers")
    net.join(ana, ben)
    ana = _backup(ana, tmp_path / "backup")
    for n in range(3):
        ana.post(net.cid, f"after the backup {n}")
    net.send(ana, ben)
    ana = _restore(ana, tmp_path / "backup")
    ana.post(net.cid, "after the restore")  # Ben holds more of Ana than she now does
    notes = []
    for _ in range(3):
        got_a, got_b = _session_round(ana, ben, net.cid, net)
        notes += [*(got_a.notes if got_a else ()), *(got_b.notes if got_b else ())]
    assert any("1 change(s) it wrote since were set aside" in note for note in notes), notes
    assert {f"after the backup {n}" for n in range(3)} <= set(net.bodies(ana))
    ana.post(net.cid, "caught up")
    _session_round(ana, ben, net.cid, net)
    assert set(net.bodies(ben)) == set(net.bodies(ana))
    assert ana.sync_state(net.cid).digest == ben.sync_state(net.cid).digest
    ana.close()
    ben.close()


def test_over_a_folder_the_fork_is_refused_the_rest_applied_and_ana_recovers(restored, tmp_path):
    net, s = restored
    ana, ben = s["ana"], s["ben"]
    ana.post(net.cid, "after the restore")
    (tmp_path / "shared").mkdir()
    folder = BundleFolder(tmp_path / "shared")
    ana.invite(net.cid)
    ana.sync_folder(folder)  # carries the clashing change and the invite
    ben.post(net.cid, "from ben")
    report = ben.sync_folder(folder)
    assert len(report.notes) == 1 and net.dev(ana)[:8] in report.notes[0]
    assert report.applied == 1 and "after the restore" not in net.bodies(ben)
    assert ben.sync_folder(folder).notes == ()  # a later run: no crash, nothing re-read
    mine = ana.sync_folder(folder)
    assert any("set aside" in note for note in mine.notes)
    assert {"after the backup", "from ben"} <= set(net.bodies(ana))
    assert "after the restore" not in net.bodies(ana)
    ana.post(net.cid, "ana again")
    ana.sync_folder(folder)
    assert ben.sync_folder(folder).notes == ()
    assert set(net.bodies(ben)) == set(net.bodies(ana))
    assert "ana again" in net.bodies(ben)


def test_cli_restore_by_copy_a_peer_folder_sync_and_the_restored_device_recover(tmp_path, serve):
    g = group(tmp_path, serve, ("Ben",))
    ben = g.members["Ben"]
    ben.ok("post", g.circle, "before the backup")
    ben.ok("sync", g.served_a.address)
    shutil.copytree(ben.home, tmp_path / "backup")  # no circle process runs on Ben's profile
    ben.ok("post", g.circle, "after the backup")
    ben.ok("sync", g.served_a.address)
    shutil.rmtree(ben.home)
    shutil.copytree(tmp_path / "backup", ben.home)
    ben.ok("post", g.circle, "after the restore")
    folder = tmp_path / "shared"
    folder.mkdir()
    ben.ok("sync", "--folder", str(folder))
    first = g.a.run("sync", "--folder", str(folder))  # crashed with a traceback before
    assert first.returncode == 0, first.stderr
    assert first.stderr.startswith("circle: refused 1 change(s) from Ben's device "), first.stderr
    assert first.stderr.count("\n") == 1 and "Traceback" not in first.stderr
    again = g.a.run("sync", "--folder", str(folder))
    assert again.returncode == 0 and again.stderr == "", again.stderr
    # Over TCP Ben learns from Ana's signed heads that it was restored, sets the
    # clash aside and gets its own later post back in the same session.
    mine = ben.ok("sync", g.served_a.address)
    assert "restored from an older backup: 1 change(s) it wrote since were set aside" in mine.stderr
    assert mine.stderr.count("\n") == 1
    ben_feed = {p["body"] for p in ben.ok("feed", g.circle, "--json").json()}
    assert {"before the backup", "after the backup"} <= ben_feed and "after the restore" not in ben_feed
    ben.ok("post", g.circle, "caught up")
    ben.ok("sync", g.served_a.address)
    bodies = {p["body"] for p in g.a.ok("feed", g.circle, "--json").json()}
    assert {"before the backup", "after the backup", "caught up"} <= bodies
    assert "after the restore" not in bodies
    assert g.served_a.alive(), g.served_a.stderr()
