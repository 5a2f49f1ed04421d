"""CircleRepository: the one part that turns circles into sealed store rows and
back. Real profiles on real SQLite files; "another process" is a second Service
unlocked on the same home, as the app and `circle serve` are."""

from __future__ import annotations

import pytest

from circle.domain.document import DocumentWriteFailed
from circle.errors import InternalError, NotAllowed
from circle.service import COMPACT_AFTER_CHANGES, Service
from tests.helpers.cli import PASSPHRASE
from tests.helpers.in_process import Net


def _disk(home) -> bytes:
    """Everything SQLite has on disk for a profile (the database and its WAL)."""
    return b"".join(path.read_bytes() for path in sorted(home.glob("circle.db*")))


def _post(body: str, post_id: str, service: Service):
    return lambda d: d.add_post(post_id, body, service.clock())


@pytest.fixture
def ana(tmp_path):
    net = Net(tmp_path)
    ana = net.profile("Ana")
    ana.cid = ana.create_circle("Circle")
    return ana


def test_a_write_is_durable_sealed_on_disk_and_tells_subscribers_until_they_leave(ana, tmp_path):
    heard: list[str] = []
    unsubscribe = ana.repo.subscribe(heard.append)
    changes = ana.repo.write(ana.cid, _post("a sentence only the circle reads", "p1", ana))
    assert len(changes) == 1 and heard == [ana.cid]
    unsubscribe()
    ana.repo.write(ana.cid, _post("another", "p2", ana))
    assert heard == [ana.cid]
    ana.close()
    assert b"a sentence only the circle reads" not in _disk(tmp_path / "Ana")
    reopened = Service.unlock(tmp_path / "Ana", PASSPHRASE)
    assert [p.body for p in reopened.feed(ana.cid)] == ["a sentence only the circle reads", "another"]


def test_a_write_that_fails_part_way_leaves_nothing_in_memory_or_on_disk(ana, tmp_path):
    def broken(document):
        raise DocumentWriteFailed("the second write broke")

    with pytest.raises(InternalError, match="nothing was stored"):
        ana.repo.write(ana.cid, _post("half of a pair", "p1", ana), broken)
    assert ana.feed(ana.cid) == []  # the in-memory circle was dropped and reloaded
    assert Service.unlock(tmp_path / "Ana", PASSPHRASE).feed(ana.cid) == []
    ana.repo.write(ana.cid, _post("whole", "p2", ana))  # and the next write is fine
    assert [p.body for p in ana.feed(ana.cid)] == ["whole"]


def test_only_an_active_member_writes(tmp_path):
    net = Net(tmp_path)
    ana, ben = net.profile("Ana"), net.profile("Ben")
    net.cid = ana.create_circle("Circle")
    net.join(ana, ben)
    ben.leave(net.cid)
    with pytest.raises(NotAllowed, match="no longer a member"):
        ben.repo.write(net.cid, _post("after leaving", "p1", ben))
    with pytest.raises(NotAllowed, match="no longer a member"):
        with ben.repo.writing(net.cid, as_member=True):
            pass
    assert all(p.body != "after leaving" for p in ben.feed(net.cid))


def test_another_processs_writes_are_folded_in_before_ours(ana, tmp_path):
    other = Service.unlock(tmp_path / "Ana", PASSPHRASE)
    other.post(ana.cid, "from the other process")
    assert ana.repo.refresh_all() == [ana.cid]
    assert [p.body for p in ana.feed(ana.cid)] == ["from the other process"]
    # Both keep writing as the same actor: each write builds on the other's.
    ana.post(ana.cid, "from this one")
    other.post(ana.cid, "the other again")
    ana.repo.refresh(ana.cid)
    other.repo.refresh(ana.cid)
    bodies = ["from the other process", "from this one", "the other again"]
    assert [p.body for p in ana.feed(ana.cid)] == [p.body for p in other.feed(ana.cid)] == bodies


def test_compaction_folds_changes_into_a_snapshot_and_other_processes_reload_from_it(ana, tmp_path):
    other = Service.unlock(tmp_path / "Ana", PASSPHRASE)
    other.feed(ana.cid)  # holds the circle open from before the compaction
    seq = ana.profile.store.snapshot_seq(ana.cid)
    ana.repo.write(ana.cid, *(_post(f"post {i}", f"p{i:04}", ana) for i in range(COMPACT_AFTER_CHANGES)))
    assert ana.profile.store.snapshot_seq(ana.cid) == seq + 1
    assert ana.open_circle(ana.cid).changes_since_snapshot == 0
    assert other.repo.refresh(ana.cid)
    assert len(other.feed(ana.cid)) == COMPACT_AFTER_CHANGES


def test_private_records_are_sealed_per_circle_kind_and_item(ana, tmp_path):
    ana.repo.put_private_record(ana.cid, "notes-to-self", "a", {"text": "only on this device"})
    ana.repo.put_private_record(ana.cid, "notes-to-self", "b", [1, 2])
    ana.repo.put_private_record("", "notes-to-self", "a", "profile-wide")
    assert dict(ana.repo.private_records(ana.cid, "notes-to-self")) == {"a": {"text": "only on this device"},
                                                                       "b": [1, 2]}
    assert ana.repo.private_record(ana.cid, "notes-to-self", "b") == [1, 2]
    assert ana.repo.private_record(ana.cid, "notes-to-self", "missing") is None
    assert ana.repo.private_record("", "notes-to-self", "a") == "profile-wide"
    ana.close()
    assert b"only on this device" not in _disk(tmp_path / "Ana")
