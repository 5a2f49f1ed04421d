"""A member cannot shadow others' content: changes that overwrite, delete or write
into what another member owns are refused at ingestion (domain/ownership.py)."""

from __future__ import annotations

import automerge.core as am
import pytest

from circle.domain.change_ops import MAKE_MAP, PUT, read_ops
from circle.service import BundleRejected, Service
from tests.helpers.in_process import join

PASS = "passphrase-ownership"


@pytest.fixture
def trio(tmp_path):
    """Ana (organizer) with a post, Bo and Cy admitted and in sync."""
    ana = Service.create_profile(tmp_path / "ana", "Ana", PASS)
    bo = Service.create_profile(tmp_path / "bo", "Bo", PASS)
    cy = Service.create_profile(tmp_path / "cy", "Cy", PASS)
    circle = ana.create_circle("Walkers")
    code = ana.invite(circle, uses=2)
    for newcomer in (bo, cy):
        join(sponsor=ana, newcomer=newcomer, code=code)
        ana.receive_bundle(newcomer.bundle_for(circle, ana.whoami().device_id))
    post = ana.post(circle, "Made it round the lake.", content_warning=None).id
    for member in (bo, cy):
        member.receive_bundle(ana.bundle_for(circle, member.whoami().device_id))
    yield ana, bo, cy, circle, post
    for service in (ana, bo, cy):
        service.close()


def _forge(service: Service, circle: str, write) -> None:
    """Write raw automerge ops as `service`'s own actor, stored and signed as its
    client would: only the ownership rules can stop them."""

    def change(document):
        before = document.heads()
        with document.doc.transaction() as tx:
            write(tx, document)
        return document.changes_since(before)

    service.repo.write(circle, change)


def _obj(document, *path):
    obj = am.ROOT
    for key in path:
        obj = document.doc.get(obj, key)[1]
    return obj


def _table(service: Service) -> int:
    return len(service.profile.store.changes_after(service.profile.store.circle_ids()[0], 0))


def _refused(attacker: Service, victim: Service, circle: str) -> str:
    before = (_table(victim), [p.body for p in victim.feed(circle)])
    with pytest.raises(BundleRejected) as refused:
        victim.receive_bundle(attacker.bundle_for(circle, victim.whoami().device_id))
    assert (_table(victim), [p.body for p in victim.feed(circle)]) == before
    return str(refused.value)


def test_overwriting_another_members_post_body_is_refused(trio):
    ana, bo, cy, circle, post = trio
    _forge(bo, circle, lambda tx, d: tx.put(_obj(d, "posts", post), "body", am.ScalarType.Str, "forged"))
    assert "another member's content" in _refused(bo, cy, circle)
    assert [p.body for p in cy.feed(circle)] == ["Made it round the lake."]


def test_deleting_another_members_post_is_refused(trio):
    ana, bo, cy, circle, post = trio
    _forge(bo, circle, lambda tx, d: tx.delete(_obj(d, "posts"), post))
    assert "may only add new items to posts" in _refused(bo, cy, circle)


def test_overwriting_a_value_written_by_someone_else_is_refused_even_in_a_shared_map(trio):
    """Bo re-sets the reaction entry Cy wrote under Cy's own key: the pred is Cy's."""
    ana, bo, cy, circle, post = trio
    cy.react(circle, post, "hug")
    bo.receive_bundle(cy.bundle_for(circle, bo.whoami().device_id))
    cy_id = cy.whoami().member_id
    _forge(bo, circle, lambda tx, d: tx.delete(_obj(d, "posts", post, "reactions"), f"{cy_id}:hug"))
    assert "another member's name" in _refused(bo, ana, circle)


def test_replacing_another_members_post_map_is_refused(trio):
    ana, bo, cy, circle, post = trio

    def replace(tx, d):
        fake = tx.put_object(_obj(d, "posts"), post, am.ObjType.Map)
        tx.put(fake, "body", am.ScalarType.Str, "words put in Ana's place")

    _forge(bo, circle, replace)
    _refused(bo, cy, circle)


def test_replacing_the_whole_posts_map_is_refused(trio):
    ana, bo, cy, circle, post = trio
    _forge(bo, circle, lambda tx, d: tx.put_object(am.ROOT, "posts", am.ObjType.Map))
    _refused(bo, cy, circle)
    assert len(cy.feed(circle)) == 1


def test_adding_a_field_to_another_members_post_is_refused(trio):
    """Even a key the author never set (no overwrite) is not the attacker's to add."""
    ana, bo, cy, circle, post = trio
    _forge(bo, circle, lambda tx, d: tx.put(_obj(d, "posts", post), "content_warning", am.ScalarType.Str, "x"))
    assert "another member's content" in _refused(bo, cy, circle)


def test_reacting_in_another_members_name_is_refused(trio):
    ana, bo, cy, circle, post = trio
    cy_id = cy.whoami().member_id
    _forge(bo, circle, lambda tx, d: tx.put(_obj(d, "posts", post, "reactions"), f"{cy_id}:hug",
                                            am.ScalarType.Boolean, True))
    assert "another member's name" in _refused(bo, cy, circle)


def test_a_non_organizer_renaming_the_circle_is_refused(trio):
    ana, bo, cy, circle, post = trio
    _forge(bo, circle, lambda tx, d: tx.put(_obj(d, "circle"), "name", am.ScalarType.Str, "Bo's circle"))
    assert "organizers" in _refused(bo, cy, circle)


def test_legitimate_posts_replies_and_reactions_pass(trio):
    ana, bo, cy, circle, post = trio
    reply = bo.post(circle, "Well done!", reply_to=post)
    bo.react(circle, post, "hug")
    bo.edit(circle, reply.id, "Well done, Ana!")
    result = cy.receive_bundle(bo.bundle_for(circle, cy.whoami().device_id))
    assert result.changes_applied == 3
    feed = {p.id: p for p in cy.feed(circle)}
    assert feed[reply.id].body == "Well done, Ana!"
    assert feed[post].reactions == {"hug": frozenset({bo.whoami().member_id})}


def test_the_op_decoder_reads_what_automerge_wrote():
    doc = am.Document(actor_id=b"\xaa" * 16)
    with doc.transaction() as tx:
        posts = tx.put_object(am.ROOT, "posts", am.ObjType.Map)
        tx.put(posts, "k", am.ScalarType.Str, "v" * 300)  # long enough to be compressed
    other = doc.fork()
    other.set_actor(b"\xbb" * 16)
    with other.transaction() as tx:
        tx.put(posts, "k", am.ScalarType.Str, "w")
    first, second = other.get_changes([])
    for chunk in (first.bytes, first.raw_bytes):
        actor, ops = read_ops(chunk)
        assert actor == b"\xaa" * 16
        assert [(op.action, op.key, op.preds) for op in ops] == [(MAKE_MAP, "posts", ()), (PUT, "k", ())]
    _, (overwrite,) = read_ops(second.raw_bytes)
    assert overwrite.obj.actor == b"\xaa" * 16 and overwrite.obj.counter == 1
    assert [(p.counter, p.actor) for p in overwrite.preds] == [(2, b"\xaa" * 16)]
