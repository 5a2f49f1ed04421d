"""Document schema versions: an existing circle gains a collection, concurrent
upgrades lose nothing, and older code never writes to or stores what it does not know."""

from __future__ import annotations

from pathlib import Path

import automerge.core as am
import pytest
from tests.helpers.cli import PASSPHRASE, Cli
from tests.helpers.in_process import stored

from circle.domain import schema, views
from circle.domain.change_ops import PUT, read_ops
from circle.domain.document import CircleDocument
from circle.domain.schema import Migration, NewerSchema, NotUpgraded
from circle.service import BundleRejected, Service

OLD_DOCUMENT = Path(__file__).parents[1] / "data" / "schema1_document.automerge"
TODAY = schema.MIGRATIONS
WITH_NOTES = (*TODAY, Migration(3, ("notes",)))  # code one version newer than today's


@pytest.fixture
def newer_code(monkeypatch):
    """Switch this process between today's code and code that knows version 3 (notes)."""

    class Code:
        def knows_notes(self):
            monkeypatch.setattr(schema, "MIGRATIONS", WITH_NOTES)

        def today(self):
            monkeypatch.setattr(schema, "MIGRATIONS", TODAY)

    return Code()


def _send(src: Service, dst: Service, circle: str):
    return dst.receive_bundle(src.bundle_for(circle, dst.whoami().device_id))


def _reopen(service: Service) -> Service:
    home = service.whoami().home
    service.close()
    return Service.unlock(home, PASSPHRASE)


def _note(service: Service, circle: str, note_id: str, text: str) -> None:
    service.repo.write(circle, lambda document: document.add_item("notes", note_id, {"text": text}))


def _notes(service: Service, circle: str) -> dict[str, tuple[str, object]]:
    opened = service.open_circle(circle)
    return {i.id: (i.author_id, i.fields.get("text")) for i in views.read_items(opened.document, "notes", opened.roster())}


def _mark_writers(service: Service, circle: str) -> set[bytes]:
    """The actors whose changes put the version 3 mark."""
    writers = set()
    for change in service.open_circle(circle).document.changes_since([]):
        actor, ops = read_ops(change)
        if any(op.obj is None and op.action == PUT and op.key == "schema/3" for op in ops):
            writers.add(actor)
    return writers


@pytest.fixture
def trio(tmp_path, newer_code):
    """Ana and Bo (both organizers) and Cy (a member), in sync, all on today's code."""
    newer_code.today()
    ana, bo, cy = (Service.create_profile(tmp_path / n, n, PASSPHRASE) for n in ("ana", "bo", "cy"))
    circle = ana.create_circle("Walkers")
    code = ana.invite(circle, uses=2)
    for newcomer in (bo, cy):
        newcomer.accept_welcome(code, ana.admit_request(newcomer.join_request(code)))
        _send(newcomer, ana, circle)
    ana.set_role(circle, bo.whoami().member_id, "organizer")
    ana.post(circle, "Made it round the lake.")
    for member in (bo, cy):
        _send(ana, member, circle)
    services = [ana, bo, cy]
    yield services, circle
    for service in services:
        service.close()


def test_a_version_1_document_from_old_code_loads_as_version_1_and_upgrades(newer_code):
    document = CircleDocument.load("ab" * 16, bytes(16), OLD_DOCUMENT.read_bytes())
    assert schema.document_version(document.doc) == 1
    newer_code.knows_notes()
    assert schema.pending_versions(document.doc) == [2, 3]
    with pytest.raises(NotUpgraded, match="does not hold notes yet"):
        document.add_item("notes", "n1", {"text": "x"})
    assert document.upgrade()
    assert schema.document_version(document.doc) == 3 and document.upgrade() == []
    document.add_item("notes", "n1", {"text": "bring water"})
    assert document.doc.get(am.ROOT, "notes/n1") is not None
    # What version 1 held is untouched.
    assert set(document.doc.keys(am.ROOT)) == {"circle", "members", "posts", "checkins", "events",
                                                "schema/2", "schema/3", "notes/n1"}


def test_an_old_circle_opened_by_its_organizer_on_newer_code_is_upgraded_once(tmp_path, newer_code):
    newer_code.today()
    ana = Service.create_profile(tmp_path / "ana", "Ana", PASSPHRASE)
    circle = ana.create_circle("Walkers")
    ana.post(circle, "Made it round the lake.")
    rows_before = len(ana.profile.store.changes_after(circle, 0))
    newer_code.knows_notes()
    ana = _reopen(ana)
    assert [p.body for p in ana.feed(circle)] == ["Made it round the lake."]
    assert len(ana.profile.store.changes_after(circle, 0)) == rows_before + 1
    _note(ana, circle, "n1", "bring water")
    ana = _reopen(ana)  # stored: the upgrade and the note survive a restart, and nothing is marked twice
    assert len(ana.profile.store.changes_after(circle, 0)) == rows_before + 2
    assert _notes(ana, circle) == {"n1": (ana.whoami().member_id, "bring water")}
    ana.close()


def test_concurrent_upgrades_and_notes_on_three_replicas_converge_with_nothing_lost(trio, newer_code):
    (ana, bo, cy), circle = trio
    newer_code.knows_notes()
    ana, bo, cy = _reopen(ana), _reopen(bo), _reopen(cy)  # both organizers upgrade, apart
    with pytest.raises(NotUpgraded):  # a member waits for an organizer's mark
        _note(cy, circle, "c1", "from Cy, too early")
    _note(ana, circle, "a1", "from Ana")
    _note(bo, circle, "b1", "from Bo")
    _send(ana, bo, circle)
    _send(bo, ana, circle)
    _send(ana, cy, circle)
    _note(cy, circle, "c1", "from Cy")
    _note(bo, circle, "b2", "Bo again, after the merge")
    for src, dst in ((cy, ana), (bo, ana), (ana, bo), (ana, cy)):
        _send(src, dst, circle)
    ids = {s.whoami().member_id: s for s in (ana, bo, cy)}
    expected = {"a1": "from Ana", "b1": "from Bo", "b2": "Bo again, after the merge", "c1": "from Cy"}
    for service in (ana, bo, cy):
        notes = _notes(service, circle)
        assert {k: text for k, (_, text) in notes.items()} == expected
        assert {k: ids[author].whoami().name for k, (author, _) in notes.items()} == \
            {"a1": "ana", "b1": "bo", "b2": "bo", "c1": "cy"}
        assert [p.body for p in service.feed(circle)] == ["Made it round the lake."]
    assert ana.open_circle(circle).digest() == bo.open_circle(circle).digest() == cy.open_circle(circle).digest()
    # Both organizers really marked the document: the same key, written twice, concurrently.
    assert len(_mark_writers(ana, circle)) == 2
    for service in (ana, bo, cy):
        service.close()


def test_a_member_cannot_mark_the_schema_and_older_code_refuses_what_it_cannot_check(trio, newer_code):
    (ana, bo, cy), circle = trio
    newer_code.knows_notes()
    cy = _reopen(cy)  # a member on newer code: it does not upgrade the circle itself
    assert schema.document_version(cy.open_circle(circle).document.doc) == 2

    def forged_mark(document):
        before = document.heads()
        with document.doc.transaction() as tx:
            tx.put(am.ROOT, "schema/3", am.ScalarType.Boolean, True)
        return document.changes_since(before)

    cy.repo.write(circle, forged_mark)
    before = stored(ana, circle)
    with pytest.raises(BundleRejected, match="only organizers upgrade the circle's schema"):
        _send(cy, ana, circle)
    assert stored(ana, circle) == before
    # Ana upgrades and writes a note; Bo is still on today's code.
    ana = _reopen(ana)
    _note(ana, circle, "a1", "from Ana")
    newer_code.today()
    before = stored(bo, circle)
    with pytest.raises(BundleRejected, match="newer document schema than this version of circle knows"):
        _send(ana, bo, circle)
    assert stored(bo, circle) == before
    assert [p.body for p in bo.feed(circle)] == ["Made it round the lake."]
    for service in (ana, cy):
        service.close()


def test_older_code_reads_a_newer_circle_but_refuses_to_write_to_it(trio, newer_code):
    (ana, bo, cy), circle = trio
    newer_code.knows_notes()
    ana = _reopen(ana)
    _note(ana, circle, "a1", "from Ana")
    ana.post(circle, "Same time next week?")
    _send(ana, bo, circle)
    bo_home = bo.whoami().home
    bo.close()
    newer_code.today()
    bo = Service.unlock(bo_home, PASSPHRASE)  # Bo went back to older code
    assert [p.body for p in bo.feed(circle)] == ["Made it round the lake.", "Same time next week?"]
    before = stored(bo, circle)
    with pytest.raises(NewerSchema, match="uses document schema 3, newer than this version of circle knows"):
        bo.post(circle, "hello from old code")
    assert stored(bo, circle) == before
    # Bo holds the mark already, so only the note's unknown collection is refused.
    newer_code.knows_notes()
    _note(ana, circle, "a2", "from Ana, later")
    newer_code.today()
    with pytest.raises(BundleRejected, match="newer document schema than this version of circle knows"):
        _send(ana, bo, circle)
    assert stored(bo, circle) == before
    bo.close()
    # The CLI is a fresh process, so it runs today's code for real: one line, no traceback.
    result = Cli(bo_home).run("post", circle, "hello from the old CLI")
    assert result.returncode == 1
    assert result.stderr.startswith("circle: this circle uses document schema 3, newer than")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    bo = Service.unlock(bo_home, PASSPHRASE)
    assert stored(bo, circle) == before
    for service in (ana, bo, cy):
        service.close()



FORGERIES = {
    "writes into another member's content": lambda tx, item: tx.put(item, "text", am.ScalarType.Str, "not Bo"),
    "may only add new items to notes": lambda tx, item: tx.put_object(am.ROOT, "notes/b1", am.ObjType.Map),
    "writes to the document root": lambda tx, item: tx.delete(am.ROOT, "schema/2"),
}


@pytest.mark.parametrize("refusal", list(FORGERIES))
def test_nobody_overwrites_or_writes_into_another_members_item_of_a_later_collection(trio, newer_code, refusal):
    (ana, bo, cy), circle = trio
    newer_code.knows_notes()
    ana, bo = _reopen(ana), _reopen(bo)
    _note(bo, circle, "b1", "from Bo")
    for src, dst in ((ana, bo), (bo, ana), (ana, cy)):
        _send(src, dst, circle)

    def forged(document):
        before = document.heads()
        with document.doc.transaction() as tx:
            FORGERIES[refusal](tx, document.doc.get(am.ROOT, "notes/b1")[1])
        return document.changes_since(before)

    cy.repo.write(circle, forged)  # stored and signed as Cy's client would: only the door can stop it
    before = stored(ana, circle)
    with pytest.raises(BundleRejected, match=refusal):
        _send(cy, ana, circle)
    assert stored(ana, circle) == before
    assert _notes(ana, circle)["b1"] == (bo.whoami().member_id, "from Bo")
    for service in (ana, bo):
        service.close()


def test_older_code_refuses_to_join_a_newer_circle_and_stores_nothing(tmp_path, newer_code):
    """Joining writes the newcomer's name, which older code may not do to a newer document:
    the welcome is refused with one reason before anything is stored, so the newcomer is not
    left holding a circle the join reported as failed."""
    newer_code.knows_notes()
    ana = Service.create_profile(tmp_path / "ana", "Ana", PASSPHRASE)
    circle = ana.create_circle("Walkers")
    assert schema.document_version(ana.open_circle(circle).document.doc) == 3
    code = ana.invite(circle)
    dan = Service.create_profile(tmp_path / "dan", "Dan", PASSPHRASE)
    request = dan.join_request(code)
    welcome = ana.admit_request(request)
    newer_code.today()
    with pytest.raises(NewerSchema, match="schema 3, newer than this version of circle knows: update circle"):
        dan.accept_welcome(code, welcome)
    assert dan.profile.store.circle_ids() == []
    newer_code.knows_notes()  # once Dan updates, the same welcome joins him
    assert dan.accept_welcome(code, welcome) == circle
    for service in (ana, dan):
        service.close()
