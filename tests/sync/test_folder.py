"""The folder transport: devices exchange a circle through a shared directory, each
only ever adding immutable, content-addressed files; the usual checks apply."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time

import pytest
from tests.helpers.cli import Cli

from circle.service import Service
from circle.sync.bundle import DELTA, BundleContent, seal_bundle
from circle.sync.folder import MARKER, SUFFIX, BundleFolder
from tests.helpers.in_process import join

PASS = "passphrase-folder"


@pytest.fixture
def circle_of_three(tmp_path):
    ana = Service.create_profile(tmp_path / "ana", "Ana", PASS)
    ben = Service.create_profile(tmp_path / "ben", "Ben", PASS)
    cat = Service.create_profile(tmp_path / "cat", "Cat", PASS)
    circle = ana.create_circle("Walkers")
    code = ana.invite(circle, uses=2)
    for newcomer in (ben, cat):
        join(sponsor=ana, newcomer=newcomer, code=code)
    shared = tmp_path / "shared"
    shared.mkdir()
    yield ana, ben, cat, circle, BundleFolder(shared)
    for service in (ana, ben, cat):
        service.close()


def _snapshot(folder: BundleFolder) -> dict[str, tuple[int, bytes]]:
    return {
        name: (os.stat(folder.root / name).st_mtime_ns, (folder.root / name).read_bytes())
        for name in os.listdir(folder.root)
    }


def _bodies(service: Service, circle: str) -> set[str]:
    return {p.body for p in service.feed(circle)}


def test_three_devices_converge_through_a_folder_without_rewriting_any_file(circle_of_three):
    ana, ben, cat, circle, folder = circle_of_three
    ana.post(circle, "from Ana")
    ben.post(circle, "from Ben")
    cat.post(circle, "from Cat")
    seen: dict[str, tuple[int, bytes]] = {}
    for _ in range(2):
        for service in (ana, ben, cat):
            service.sync_folder(folder)
            now = _snapshot(folder)
            for name, stamp in seen.items():
                assert now[name] == stamp, f"{name} was rewritten or removed"
            seen = now
    assert _bodies(ana, circle) == _bodies(ben, circle) == _bodies(cat, circle) == {"from Ana", "from Ben", "from Cat"}
    assert MARKER in seen  # written once, never rewritten (checked above)
    for name, (_, data) in seen.items():
        if name == MARKER:
            continue
        assert name.endswith(SUFFIX) and name == hashlib.sha256(data).hexdigest() + SUFFIX
    # Nothing new: a further round writes nothing.
    reports = [s.sync_folder(folder) for s in (ana, ben, cat)]
    assert [r.written for r in reports] == [0, 0, 0], reports


def test_bundles_in_the_folder_are_ciphertext(circle_of_three):
    ana, ben, cat, circle, folder = circle_of_three
    ana.post(circle, "a marker no file may show 7c1f")
    ana.sync_folder(folder)
    for name in os.listdir(folder.root):
        assert b"7c1f" not in (folder.root / name).read_bytes()


def test_a_tampered_or_misnamed_file_is_not_applied(circle_of_three):
    ana, ben, cat, circle, folder = circle_of_three
    ana.post(circle, "genuine")
    ana.sync_folder(folder)
    (name,) = [n for n in folder.names()][:1] or [None]
    data = bytearray((folder.root / name).read_bytes())
    data[-5] ^= 0x01
    forged = bytes(data)
    # Renamed to match its new content, so only the bundle's own checks can stop it.
    (folder.root / name).unlink()
    (folder.root / (hashlib.sha256(forged).hexdigest() + SUFFIX)).write_bytes(forged)
    (folder.root / ("0" * 64 + SUFFIX)).write_bytes(b"not even a bundle")
    report = ben.sync_folder(folder)
    assert report.refused >= 1
    assert "genuine" not in _bodies(ben, circle)


def test_a_device_that_missed_a_rotation_catches_up_from_the_folder(circle_of_three):
    """Ana removes Cat (rotating the key) while Ben is away; Ben's next folder sync
    still opens everything written under the new key, and Cat opens none of it."""
    ana, ben, cat, circle, folder = circle_of_three
    ana.receive_bundle(cat.bundle_for(circle, ana.whoami().device_id))
    ana.remove(circle, "Cat")
    ana.post(circle, "after the rotation")
    ana.sync_folder(folder)
    ben.sync_folder(folder)
    assert "after the rotation" in _bodies(ben, circle)
    cat.sync_folder(folder)
    assert "after the rotation" not in _bodies(cat, circle)


def _posts_one_bundle_each(service: Service, circle: str, folder: BundleFolder, bodies) -> list[set[str]]:
    """Post each body and sync after each; the files each run added, in order."""
    runs = []
    for body in bodies:
        before = set(folder.names())
        service.post(circle, body)
        service.sync_folder(folder)
        runs.append(set(folder.names()) - before)
    return runs


def test_bundles_arriving_newest_first_are_all_applied_across_restarts(circle_of_three, tmp_path):
    """Syncthing copies files in any order: a bundle whose dependencies are not
    here yet is read again later (also after a restart) instead of being lost."""
    ana, ben, cat, circle, folder = circle_of_three
    bodies = ["first walk", "second walk", "third walk"]
    runs = _posts_one_bundle_each(ana, circle, folder, bodies)
    assert all(runs)
    (tmp_path / "bens-copy").mkdir()
    bens_folder = BundleFolder(tmp_path / "bens-copy")
    home = tmp_path / "ben"
    ben.close()
    for names in reversed(runs):
        for name in names:
            (bens_folder.root / name).write_bytes((folder.root / name).read_bytes())
        ben = Service.unlock(home, PASS)
        try:
            ben.sync_folder(bens_folder)
        finally:
            ben.close()
    ben = Service.unlock(home, PASS)
    try:
        assert set(bodies) <= _bodies(ben, circle)
    finally:
        ben.close()


def _reader_sees(reader: Service, circle: str, folder: BundleFolder) -> set[str]:
    reader.sync_folder(folder)
    return _bodies(reader, circle)


def test_what_was_written_is_remembered_per_folder(circle_of_three, tmp_path):
    """A second folder (a USB stick) used once does not make the first one miss
    posts: each folder gets everything it does not hold yet."""
    ana, ben, cat, circle, home_folder = circle_of_three
    (tmp_path / "stick").mkdir()
    stick = BundleFolder(tmp_path / "stick")
    ana.post(circle, "before the trip")
    ana.sync_folder(home_folder)
    ana.post(circle, "on the trip")
    ana.sync_folder(stick)
    ana.post(circle, "back home")
    ana.sync_folder(home_folder)
    # Ben only ever reads the home folder, Cat only the stick.
    assert {"before the trip", "on the trip", "back home"} <= _reader_sees(ben, circle, home_folder)
    ana.post(circle, "second trip")
    ana.sync_folder(stick)
    assert {"before the trip", "on the trip", "back home", "second trip"} <= _reader_sees(cat, circle, stick)


def test_a_folder_carrying_a_copied_marker_but_not_the_bundles_gets_everything(circle_of_three, tmp_path):
    """The marker names a folder, but what was written is only trusted while the
    files of the last write are still there (a wiped stick, a copied marker)."""
    ana, ben, cat, circle, folder = circle_of_three
    ana.post(circle, "only in the first folder")
    ana.sync_folder(folder)
    (tmp_path / "fresh").mkdir()
    (tmp_path / "fresh" / MARKER).write_bytes((folder.root / MARKER).read_bytes())
    fresh = BundleFolder(tmp_path / "fresh")
    assert ana.sync_folder(fresh).written >= 1
    assert "only in the first folder" in _reader_sees(ben, circle, fresh)


# What Syncthing never copies (lib/fs/tempname.go IsTemporary, lib/fs/filesystem.go IsInternal).
def _carrier_copies(name: str) -> bool:
    return not name.startswith((".syncthing.", "~syncthing~")) and name not in (".stfolder", ".stignore", ".stversions")


_CRASH_BETWEEN_WRITE_AND_RENAME = """
import json, os, sys
from pathlib import Path
from circle.service import Service
from circle.sync.folder import BundleFolder

root = Path(sys.argv[2])

def crash(src, dst):
    # The bundle sits whole and fsynced under its temporary name; the process dies
    # before the rename, as on a power cut.
    print(json.dumps(sorted(os.listdir(root))), flush=True)
    os._exit(9)

os.replace = crash
Service.unlock(Path(sys.argv[1]), sys.argv[3]).sync_folder(BundleFolder(root))
"""


def test_a_write_cut_short_leaves_only_a_name_carriers_ignore_and_is_cleaned_later(circle_of_three, tmp_path):
    ana, ben, cat, circle, folder = circle_of_three
    ana.post(circle, "written through a crash")
    crashed = subprocess.run([sys.executable, "-c", _CRASH_BETWEEN_WRITE_AND_RENAME, str(tmp_path / "ana"),
                              str(folder.root), PASS], capture_output=True, text=True, timeout=60)
    assert crashed.returncode == 9, crashed.stderr
    at_rename = json.loads(crashed.stdout)
    assert [n for n in at_rename if _carrier_copies(n)] == [MARKER]
    (leftover,) = [n for n in os.listdir(folder.root) if not _carrier_copies(n)]
    # Syncthing's own partial download of some file: not ours to remove.
    theirs = folder.root / (".syncthing." + "a" * 64 + ".cbundle.tmp")
    theirs.write_bytes(b"partial")
    ana.sync_folder(folder)  # a fresh leftover may be another writer's: kept
    assert (folder.root / leftover).exists()
    assert "written through a crash" in _reader_sees(ben, circle, folder)
    hours_ago = time.time() - 2 * 3600
    for path in (folder.root / leftover, theirs):
        os.utime(path, (hours_ago, hours_ago))
    ana.sync_folder(folder)
    assert not (folder.root / leftover).exists()
    assert theirs.exists()
    assert all(n == MARKER or n.endswith(SUFFIX) for n in os.listdir(folder.root) if _carrier_copies(n))


def _place(folder: BundleFolder, data: bytes) -> str:
    """Put bytes in the folder under the name of their own hash, as a carrier would."""
    name = hashlib.sha256(data).hexdigest() + SUFFIX
    (folder.root / name).write_bytes(data)
    return name


def test_bad_files_are_each_reported_and_never_stop_the_rest_from_applying(circle_of_three, tmp_path):
    ana, ben, cat, circle, folder = circle_of_three
    ana.post(circle, "good from Ana")
    ana.sync_folder(folder)
    runners = ana.create_circle("Runners")  # Ben is not in it: its bundle is not his to read
    ana.post(runners, "for the runners")
    cat.post(circle, "good from Cat")
    cat.sync_folder(folder)
    ana.sync_folder(folder)
    genuine = (folder.root / folder.names()[0]).read_bytes()
    opened = ana.open_circle(circle)
    epoch = opened.state.write_epoch
    # Opens with the circle's key, but no signed head vouches for its change.
    unvouched = seal_bundle(opened.keys[epoch], circle, epoch, DELTA,
                            BundleContent(changes=tuple(opened.document.changes_since([]))), b"")
    never_remembered = {"0" * 64 + SUFFIX, "1" * 64 + SUFFIX, "2" * 64 + SUFFIX}
    (folder.root / ("0" * 64 + SUFFIX)).write_bytes(b"garbage under a name it does not match")
    (folder.root / ("1" * 64 + SUFFIX)).mkdir()
    os.symlink("2" * 64 + SUFFIX, folder.root / ("2" * 64 + SUFFIX))  # a loop: unreadable for anyone
    refused_once = {_place(folder, b"garbage named after itself"), _place(folder, genuine[: len(genuine) // 2]),
                    _place(folder, unvouched)}
    ben_cli = Cli(tmp_path / "ben", PASS)
    ben.close()  # Ben's CLI runs as its own process from here

    first = ben_cli.run("sync", "--folder", str(folder.root))
    assert first.returncode == 1, first.stderr
    lines = first.stderr.splitlines()
    assert len(lines) == 6 and all(line.startswith("circle: ") for line in lines), lines
    assert {line.split()[1].rstrip(":") for line in lines} == never_remembered | refused_once
    assert "Traceback" not in first.stderr
    assert "refused 6 bad files" in first.stdout
    reader = Service.unlock(tmp_path / "ben", PASS)
    try:
        assert {"good from Ana", "good from Cat"} <= _bodies(reader, circle)
    finally:
        reader.close()
    # Refused content never changes under its name: it is not reported again.
    again = ben_cli.run("sync", "--folder", str(folder.root))
    assert again.returncode == 1
    assert {line.split()[1].rstrip(":") for line in again.stderr.splitlines()} == never_remembered


def test_a_damaged_marker_is_reported_and_the_folder_is_still_synced_once_per_change(circle_of_three):
    ana, ben, cat, circle, folder = circle_of_three
    (folder.root / MARKER).write_bytes(b"not a marker")
    ana.post(circle, "despite the marker")
    first = ana.sync_folder(folder)
    assert first.written >= 1 and any(p.startswith(MARKER) for p in first.problems)
    again = ana.sync_folder(folder)
    assert again.written == 0, "nothing changed, yet everything was written again"
    assert "despite the marker" in _reader_sees(ben, circle, folder)
    assert (folder.root / MARKER).read_bytes() == b"not a marker"
