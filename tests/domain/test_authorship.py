"""Authorship comes from the Automerge op's actor id, bound to the device key, never from a field.

Every circle here is real: real device keys, a real signed governance log
(genesis, invites, admissions) that binds each admitted device's actor
(derived from the circle id and its signing key) to its member, one Automerge
replica per device, changes exchanged with `apply_changes`. Attacks are
written with automerge directly, as a member with a modified client would:
raw `tx.put` under the attacker's own actor. Each forgery test also checks the
forged value is in the raw document, so a passing test means the view filtered
it out, not that the write never happened.

Out of scope here: a change written under someone else's actor id. The views
trust actor ids; such changes are refused before they reach the document,
because every change must be vouched for by a head its device signed
(service/exchange.py).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import automerge.core as am
import pytest
from cryptography.hazmat.primitives import serialization

from circle.crypto.identity import DeviceIdentity, actor_id_for
from circle.crypto.invite_code import invite_key
from circle.domain import views
from circle.domain.document import CircleDocument, to_millis
from circle.domain.governance.actions import Action, admit_proof_message, sign_action
from circle.domain.governance.resolver import resolve
from circle.domain.opids import op_actor

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)
ROOT = am.ROOT
STR, INT, BOOL = am.ScalarType.Str, am.ScalarType.Int, am.ScalarType.Boolean
MAP = am.ObjType.Map
RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _device(identity: DeviceIdentity) -> dict:
    return {"sign": identity.public.sign_pub.hex(), "dh": identity.public.dh_pub.hex()}


@dataclass
class Peer:
    """One member's device: its key and its own replica, writing as its own actor."""

    name: str
    identity: DeviceIdentity
    doc: CircleDocument
    actor: bytes = b""

    def __post_init__(self) -> None:
        # Read once: automerge refuses get_actor() inside an open transaction.
        self.actor = self.doc.doc.get_actor()

    @property
    def id(self) -> str:
        return self.identity.device_id


@dataclass
class Circle:
    """A circle founded by Ana: its governance log and every device's replica."""

    circle_id: str
    founder: DeviceIdentity
    actions: list[Action]
    peers: dict[str, Peer] = field(default_factory=dict)

    @classmethod
    def found(cls, name: str = "Tuesday Walkers") -> "Circle":
        ana = DeviceIdentity.generate()
        genesis = sign_action(ana, None, "create", [], to_millis(T0),
                              {"name": name, "nonce": secrets.token_hex(16), "device": _device(ana)})
        circle_id = genesis.id[:32]
        doc, _ = CircleDocument.create(circle_id, ana.actor_id(circle_id), name=name, purpose="walk",
                                       created_at=T0)
        circle = cls(circle_id, ana, [genesis])
        circle.peers["Ana"] = Peer("Ana", ana, doc)
        doc.introduce(ana.device_id, "Ana", T0)
        return circle

    def govern(self, author: DeviceIdentity, kind: str, body: dict) -> Action:
        """Sign an action on top of the log's heads; it must count."""
        action = sign_action(author, self.circle_id, kind, list(self.state().heads), to_millis(at(1)), body)
        self.actions.append(action)
        entry = next(e for e in self.state().log if e.action.id == action.id)
        assert entry.valid, entry.reason
        return action

    def admit(self, identity: DeviceIdentity) -> None:
        """Ana invites and admits `identity` exactly as a real join does (invite key proof)."""
        secret, invite_id = secrets.token_bytes(32), secrets.token_hex(8)
        key = invite_key(secret, self.circle_id, invite_id)
        expires = int((T0 + timedelta(days=7)).timestamp())
        public = key.public_key().public_bytes(*RAW).hex()
        self.govern(self.founder, "invite",
                    {"invite": invite_id, "key": public, "uses": 1, "expires": expires})
        device = _device(identity)
        proof = key.sign(admit_proof_message(self.circle_id, invite_id, device)).hex()
        self.govern(self.founder, "admit", {"invite": invite_id, "member": identity.device_id,
                                            "device": device, "proof": proof, "lockboxes": {}})

    def share(self, changes: list[bytes]) -> None:
        for peer in self.peers.values():
            peer.doc.apply_changes(changes)

    def device(
        self, name: str, identity: DeviceIdentity | None = None, *, actor: bytes | None = None
    ) -> Peer:
        """A replica for a new device (admitted or not), caught up with Ana's."""
        identity = identity or DeviceIdentity.generate()
        actor = actor if actor is not None else identity.actor_id(self.circle_id)
        peer = Peer(name, identity, self.peers["Ana"].doc.fork_as(actor))
        self.peers[name] = peer
        return peer

    def join(self, name: str) -> Peer:
        peer = self.device(name)
        self.admit(peer.identity)
        self.share(peer.doc.introduce(peer.id, name, at(1)))
        return peer

    def forge(self, name: str, write) -> None:
        """`name` writes with automerge directly (its own actor), bypassing CircleDocument."""
        raw = self.peers[name].doc.doc
        before = raw.get_heads()
        with raw.transaction() as tx:
            write(tx, raw)
        self.share(self.peers[name].doc.changes_since(before))

    def state(self):
        return resolve(self.circle_id, self.actions)

    def seen_by(self, name: str) -> "Seen":
        return Seen.of(self.peers[name].doc, self.state())


@dataclass(frozen=True)
class Seen:
    """Everything the views show of one replica, given the governance state (as the service does)."""

    roster: views.Roster
    info: views.CircleInfo
    names: dict
    posts: dict
    checkins: dict
    events: dict

    @classmethod
    def of(cls, document: CircleDocument, state) -> "Seen":
        roster = views.Roster(state.actor_bindings(), dict(state.cutoffs))
        organizers = frozenset(m.id for m in state.organizers())
        return cls(
            roster,
            views.read_info(document, roster, organizers),
            {member: name for member, (name, _) in views.read_names(document, roster).items()},
            {p.id: p for p in views.read_posts(document, roster)},
            {c.id: c for c in views.read_checkins(document, roster)},
            {e.id: e for e in views.read_events(document, roster)},
        )


def obj(doc: am.Document, *path: str | int) -> bytes:
    node = ROOT
    for key in path:
        found = doc.get(node, key)
        assert found is not None and isinstance(found[0], am.ObjType), path
        node = found[1]
    return node


def raw_value(doc: am.Document, *path: str | int):
    """(value, writer actor) of the scalar at `path`, read straight from automerge."""
    (_, value), op_id = doc.get(obj(doc, *path[:-1]), path[-1])
    return value, op_actor(op_id)


@pytest.fixture
def circle() -> Circle:
    """Ana founds the circle (organizer); Bo and Cy are admitted. Ana has written one of everything."""
    c = Circle.found()
    ana = c.peers["Ana"]
    c.join("Bo")
    c.join("Cy")
    c.share(ana.doc.add_post("p-ana", "Made it round the lake.", at(2)))
    c.share(ana.doc.add_checkin("c-ana", 4, at(3), note="good walk", tags=["outside"]))
    c.share(ana.doc.add_event("e-ana", "Tuesday walk", at(60 * 24), at(4), repeat="weekly"))
    c.share(ana.doc.set_reaction("p-ana", "hug", ana.id, True))
    return c


# -- positive controls ----------------------------------------------------------


def test_every_member_sees_everyones_legitimate_writes(circle: Circle):
    """Control: what an admitted member writes under their own actor shows up, for every peer alike."""
    ana, bo, cy = (circle.peers[n] for n in ("Ana", "Bo", "Cy"))
    circle.share(bo.doc.add_post("p-bo", "Welcome!", at(5), reply_to="p-ana"))
    circle.share(bo.doc.set_reaction("p-ana", "hug", bo.id, True))
    circle.share(cy.doc.set_reaction("p-ana", "heart", cy.id, True))
    circle.share(cy.doc.set_rsvp("e-ana", cy.id, "yes"))
    circle.share(bo.doc.add_checkin("c-bo", 2, at(6), note="tired"))

    seen = circle.seen_by("Cy")
    assert seen == circle.seen_by("Ana") == circle.seen_by("Bo")
    assert set(seen.roster.member_by_actor.values()) == {ana.id, bo.id, cy.id}
    assert seen.info.name == "Tuesday Walkers" and seen.info.purpose == "walk"
    assert seen.info.organizer_ids == {ana.id}
    assert seen.names == {ana.id: "Ana", bo.id: "Bo", cy.id: "Cy"}
    assert seen.posts["p-ana"].author_id == ana.id
    assert seen.posts["p-ana"].reactions == {"hug": {ana.id, bo.id}, "heart": {cy.id}}
    assert seen.posts["p-bo"].author_id == bo.id and seen.posts["p-bo"].reply_to == "p-ana"
    assert seen.checkins["c-ana"].note == "good walk" and seen.checkins["c-ana"].tags == ("outside",)
    assert seen.checkins["c-bo"].author_id == bo.id
    assert seen.events["e-ana"].rsvps == {cy.id: "yes"}


def test_authors_own_edit_delete_and_unreact_show_up(circle: Circle):
    """Control: the author changing their own post is honoured (same actor as the creator)."""
    ana = circle.peers["Ana"]
    circle.share(ana.doc.edit_post("p-ana", "Made it round the lake twice.", at(10)))
    post = circle.seen_by("Bo").posts["p-ana"]
    assert post.body == "Made it round the lake twice." and post.edited_at == at(10)

    circle.share(ana.doc.set_reaction("p-ana", "hug", ana.id, False))
    circle.share(ana.doc.delete_post("p-ana", at(11)))
    post = circle.seen_by("Cy").posts["p-ana"]
    assert post.deleted and post.body == "" and post.reactions == {}


def test_settings_count_once_governance_makes_the_writer_an_organizer(circle: Circle):
    """Control: a circle name written by Bo counts only while the signed log says he organizes."""
    bo = circle.peers["Bo"]
    circle.share(bo.doc.set_circle_field("name", "Walkers"))
    assert circle.seen_by("Cy").info.name == ""
    circle.govern(circle.founder, "set_role", {"member": bo.id, "role": "organizer"})
    info = circle.seen_by("Cy").info
    assert info.name == "Walkers" and info.organizer_ids == {circle.peers["Ana"].id, bo.id}


# -- posts ------------------------------------------------------------------------


def test_forged_body_in_someone_elses_post_is_never_shown(circle: Circle):
    """Bo overwrites Ana's post body. The view drops the whole post rather than show
    Bo's words under Ana's name; Ana re-editing (a later op by her) restores it."""
    circle.forge("Bo", lambda tx, d: tx.put(obj(d, "posts", "p-ana"), "body", STR, "Ana: I quit"))
    for name in ("Ana", "Bo", "Cy"):
        doc = circle.peers[name].doc.doc
        assert raw_value(doc, "posts", "p-ana", "body") == ("Ana: I quit", circle.peers["Bo"].actor)
        seen = circle.seen_by(name)
        assert "p-ana" not in seen.posts
        assert all("I quit" not in p.body for p in seen.posts.values())

    circle.share(circle.peers["Ana"].doc.edit_post("p-ana", "Still here.", at(20)))
    assert circle.seen_by("Cy").posts["p-ana"].body == "Still here."


@pytest.mark.parametrize(
    "key, kind, forged",
    [
        ("content_warning", STR, "forged warning"),
        ("reply_to", STR, "p-elsewhere"),
        ("edited_at", INT, 1),
        ("deleted", BOOL, True),
    ],
)
def test_forged_post_field_is_ignored_and_the_authors_body_stays(circle: Circle, key, kind, forged):
    """A field of Ana's post written by Bo is treated as absent; the post stays Ana's."""
    circle.forge("Bo", lambda tx, d: tx.put(obj(d, "posts", "p-ana"), key, kind, forged))
    assert raw_value(circle.peers["Cy"].doc.doc, "posts", "p-ana", key) == (forged, circle.peers["Bo"].actor)
    post = circle.seen_by("Cy").posts["p-ana"]
    assert post.author_id == circle.peers["Ana"].id and post.body == "Made it round the lake."
    # An overwritten warning keeps the post collapsed rather than showing it unwarned.
    expected_warning = views.UNVERIFIED_WARNING if key == "content_warning" else None
    assert (post.content_warning, post.reply_to, post.edited_at, post.deleted) == (expected_warning, None, None, False)


def test_reaction_written_in_another_members_name_is_ignored(circle: Circle):
    """Bo sets reactions under Cy's member id, in the document's own layout: none counts."""
    cy = circle.peers["Cy"]
    before = circle.peers["Bo"].doc.heads()
    circle.share(circle.peers["Bo"].doc.set_reaction("p-ana", "hug", cy.id, True))
    circle.share(circle.peers["Bo"].doc.set_reaction("p-ana", "angry", cy.id, True))
    forged = circle.peers["Bo"].doc.changes_since(before)
    assert len(forged) == 2
    reactions = obj(cy.doc.doc, "posts", "p-ana", "reactions")
    writers = {op_actor(op_id) for _, op_id in cy.doc.doc.values(reactions)}
    assert circle.peers["Bo"].actor in writers
    assert circle.seen_by("Ana").posts["p-ana"].reactions == {"hug": {circle.peers["Ana"].id}}


def test_post_from_a_device_never_admitted_is_dropped(circle: Circle):
    """An actor no admission binds speaks for nobody; once the log admits its device, it counts."""
    ghost = circle.device("Ghost")
    circle.share(ghost.doc.introduce(ghost.id, "Ghost", at(7)))
    circle.share(ghost.doc.add_post("p-ghost", "who am I?", at(7)))
    circle.share(ghost.doc.set_reaction("p-ana", "hug", ghost.id, True))
    assert raw_value(ghost.doc.doc, "posts", "p-ghost", "body") == ("who am I?", ghost.actor)
    seen = circle.seen_by("Ana")
    assert "p-ghost" not in seen.posts and ghost.id not in seen.names
    assert ghost.id not in seen.posts["p-ana"].reactions["hug"]

    circle.admit(ghost.identity)
    seen = circle.seen_by("Ana")
    assert seen.posts["p-ghost"].author_id == ghost.id and ghost.id in seen.posts["p-ana"].reactions["hug"]


@pytest.mark.parametrize("which", ["other circle", "next incarnation", "random"])
def test_actor_not_derived_from_an_admitted_key_for_this_circle_is_ignored(circle: Circle, which):
    """Bo's key, but an actor derived for another circle or a later incarnation (or no key
    at all): only actor_id_for(this circle, admitted key, current incarnation) is Bo."""
    bo = circle.peers["Bo"]
    actor = {
        "other circle": actor_id_for(secrets.token_hex(16), bo.identity.public.sign_pub),
        "next incarnation": actor_id_for(circle.circle_id, bo.identity.public.sign_pub, 1),
        "random": secrets.token_bytes(16),
    }[which]
    stray = circle.device("Stray", bo.identity, actor=actor)
    circle.share(stray.doc.add_post("p-stray", "it's me, Bo", at(9)))
    circle.share(stray.doc.set_rsvp("e-ana", bo.id, "no"))
    assert raw_value(bo.doc.doc, "posts", "p-stray", "body") == ("it's me, Bo", actor)
    seen = circle.seen_by("Cy")
    assert seen.roster.member_of_op(obj(bo.doc.doc, "posts", "p-stray")) is None
    assert "p-stray" not in seen.posts and seen.events["e-ana"].rsvps == {}


def test_ops_of_a_removed_member_past_the_cutoff_are_ignored(circle: Circle):
    """Removal records the last op of Bo's seen; his later writes, even under his
    still-bound actor, are not his any more. What he wrote before stays."""
    bo = circle.peers["Bo"]
    circle.share(bo.doc.add_post("p-bo-1", "before", at(5)))
    cutoff = max(c.max_op for c in bo.doc.doc.get_changes([]) if c.actor_id == bo.actor)
    circle.govern(circle.founder, "remove", {"member": bo.id, "cutoffs": {bo.actor.hex(): cutoff}, "reason": ""})
    circle.share(bo.doc.add_post("p-bo-2", "after", at(6)))
    circle.share(bo.doc.set_reaction("p-ana", "hug", bo.id, True))
    seen = circle.seen_by("Ana")
    assert seen.posts["p-bo-1"].body == "before"
    assert "p-bo-2" not in seen.posts and bo.id not in seen.posts["p-ana"].reactions["hug"]


# -- check-ins and events -----------------------------------------------------------


def test_checkin_mood_overwritten_by_someone_else_hides_the_checkin(circle: Circle):
    """A mood Ana did not write is no mood of hers: the check-in is not shown with it."""
    circle.forge("Bo", lambda tx, d: tx.put(obj(d, "checkins", "c-ana"), "mood", INT, 1))
    assert raw_value(circle.peers["Cy"].doc.doc, "checkins", "c-ana", "mood") == (1, circle.peers["Bo"].actor)
    assert "c-ana" not in circle.seen_by("Cy").checkins


def test_checkin_note_and_tags_written_by_someone_else_are_ignored(circle: Circle):
    """Bo's note and tag on Ana's check-in never appear; her mood and own tag do."""

    def write(tx, d):
        tx.put(obj(d, "checkins", "c-ana"), "note", STR, "I want to hurt myself")
        tx.insert(obj(d, "checkins", "c-ana", "tags"), 1, STR, "crisis")

    circle.forge("Bo", write)
    doc = circle.peers["Cy"].doc.doc
    assert raw_value(doc, "checkins", "c-ana", "note")[0] == "I want to hurt myself"
    assert raw_value(doc, "checkins", "c-ana", "tags", 1) == ("crisis", circle.peers["Bo"].actor)
    checkin = circle.seen_by("Cy").checkins["c-ana"]
    assert (checkin.mood, checkin.note, checkin.tags) == (4, "", ("outside",))


def test_rsvp_written_in_another_members_name_is_ignored(circle: Circle):
    """Bo answers 'no' for Cy and for Ana: only Bo's own answer counts."""
    bo, cy = circle.peers["Bo"], circle.peers["Cy"]

    def write(tx, d):
        rsvps = obj(d, "events", "e-ana", "rsvps")
        tx.put(rsvps, cy.id, STR, "no")
        tx.put(rsvps, circle.peers["Ana"].id, STR, "no")
        tx.put(rsvps, bo.id, STR, "maybe")

    circle.forge("Bo", write)
    assert raw_value(cy.doc.doc, "events", "e-ana", "rsvps", cy.id) == ("no", bo.actor)
    assert circle.seen_by("Cy").events["e-ana"].rsvps == {bo.id: "maybe"}


def test_event_fields_written_by_someone_else_are_ignored(circle: Circle):
    """Bo moves Ana's walk somewhere else: the place never shows, the event stays hers."""
    circle.forge("Bo", lambda tx, d: tx.put(obj(d, "events", "e-ana"), "where", STR, "my van"))
    assert raw_value(circle.peers["Ana"].doc.doc, "events", "e-ana", "where")[0] == "my van"
    event = circle.seen_by("Ana").events["e-ana"]
    assert event.where == "" and event.author_id == circle.peers["Ana"].id


# -- circle settings --------------------------------------------------------------


@pytest.mark.parametrize("key", ["name", "purpose"])
def test_non_organizer_cannot_change_circle_settings(circle: Circle, key):
    """Only an organizer's (per the signed log) writes to the circle settings count."""
    circle.forge("Bo", lambda tx, d: tx.put(obj(d, "circle"), key, STR, "Bo rules"))
    assert raw_value(circle.peers["Cy"].doc.doc, "circle", key) == ("Bo rules", circle.peers["Bo"].actor)
    info = circle.seen_by("Cy").info
    assert "Bo rules" not in (info.name, info.purpose)
    assert info.organizer_ids == {circle.peers["Ana"].id}


def test_replacing_the_circle_settings_map_makes_no_one_organizer(circle: Circle):
    """Bo replaces the whole `circle` map with one he created. Organizers come from the
    signed log, so his name and purpose are ignored and he stays a member."""
    bo = circle.peers["Bo"]

    def write(tx, d):
        settings = tx.put_object(ROOT, "circle", MAP)
        tx.put(settings, "name", STR, "Bo's circle")
        tx.put(settings, "purpose", STR, "Obey Bo.")

    circle.forge("Bo", write)
    assert raw_value(circle.peers["Cy"].doc.doc, "circle", "name") == ("Bo's circle", bo.actor)
    info = circle.seen_by("Cy").info
    assert info.organizer_ids == {circle.peers["Ana"].id}
    assert (info.name, info.purpose) == ("", "")


# -- display names ----------------------------------------------------------------


def test_display_name_change_of_another_member_is_ignored(circle: Circle):
    """Bo renames Ana and writes a name for Cy: neither forged name is shown."""
    ana, cy = circle.peers["Ana"], circle.peers["Cy"]

    def write(tx, d):
        tx.put(obj(d, "members", ana.id), "name", STR, "Ana (fake)")
        tx.put(obj(d, "members", cy.id), "name", STR, "Cy (fake)")

    circle.forge("Bo", write)
    assert raw_value(cy.doc.doc, "members", ana.id, "name") == ("Ana (fake)", circle.peers["Bo"].actor)
    names = circle.seen_by("Cy").names
    assert "Ana (fake)" not in names.values() and "Cy (fake)" not in names.values()
    assert names[circle.peers["Bo"].id] == "Bo"


def test_member_entry_created_by_someone_else_is_ignored(circle: Circle):
    """Bo creates the whole members entry for Dee (admitted, not yet named): not her name."""
    dee = circle.device("Dee")
    circle.admit(dee.identity)

    def write(tx, d):
        entry = tx.put_object(obj(d, "members"), dee.id, MAP)
        tx.put(entry, "name", STR, "Dee the snitch")

    circle.forge("Bo", write)
    assert raw_value(dee.doc.doc, "members", dee.id, "name")[0] == "Dee the snitch"
    assert dee.id not in circle.seen_by("Ana").names


# -- the filter, not the write ------------------------------------------------------


def test_forged_values_are_present_in_the_raw_document_yet_absent_from_every_view(circle: Circle):
    """All forgeries at once: automerge holds and syncs them (the writes worked), and
    every peer's views agree they are absent."""
    ana, bo, cy = (circle.peers[n] for n in ("Ana", "Bo", "Cy"))
    forged = "FORGED-BY-BO"

    def write(tx, d):
        tx.put(obj(d, "posts", "p-ana"), "body", STR, forged)
        tx.put(obj(d, "checkins", "c-ana"), "note", STR, forged)
        tx.put(obj(d, "events", "e-ana", "rsvps"), cy.id, STR, "yes")
        tx.put(obj(d, "events", "e-ana"), "notes", STR, forged)
        tx.put(obj(d, "circle"), "purpose", STR, forged)
        tx.put(obj(d, "members", ana.id), "name", STR, forged)

    circle.forge("Bo", write)
    for peer in circle.peers.values():
        doc = peer.doc.doc
        for path in (
            ("posts", "p-ana", "body"),
            ("checkins", "c-ana", "note"),
            ("events", "e-ana", "notes"),
            ("circle", "purpose"),
            ("members", ana.id, "name"),
        ):
            assert raw_value(doc, *path) == (forged, bo.actor)
        assert raw_value(doc, "events", "e-ana", "rsvps", cy.id) == ("yes", bo.actor)

    seen = circle.seen_by("Ana")
    assert seen == circle.seen_by("Bo") == circle.seen_by("Cy")
    assert forged not in repr(seen)
    assert seen.events["e-ana"].rsvps == {}
    assert seen.checkins["c-ana"].mood == 4
