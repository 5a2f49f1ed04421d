"""Attacks on the safety tools: reports, warnings, reach-outs, folding, the
moderation log and guideline acceptance.

Every peer is a real profile (SQLite under tmp_path). An attacker is a real
member running a modified client: it signs actions its role does not allow, or
seals notes by hand, stores them as its own client would and ships them in its
own real bundle, so each victim takes them in through `receive_bundle` exactly
as it would from the network.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from circle.crypto.identity import DeviceIdentity, DevicePublic
from circle.crypto.lockbox import seal_to
from circle.crypto.note_box import _box_info, open_for, seal_for
from circle.domain.governance.actions import MAX_PARENTS, Action, ActionError, canonical, sign_action
from circle.domain.governance.notes import NoteError, _context, open_note, seal_note
from circle.domain.governance.state import DEFAULT_COLLAPSE_AFTER
from circle.errors import NotAllowed
from circle.profile import Profile
from circle.service import BundleRejected, Service
from circle.store.database import DB_FILENAME
from circle.sync.bundle import DELTA, BundleContent, seal_bundle
from tests.helpers.cli import PASSPHRASE, Cli
from tests.helpers.in_process import Net, join, stored

MODERATING = ("organizer", "moderator")


@pytest.fixture
def net(tmp_path: Path) -> Net:
    """org organizes, mod moderates; ana, ben, cal and dan are members; all synced."""
    net = Net(tmp_path)
    net.org, net.mod, net.ana, net.ben, net.cal, net.dan = (
        net.profile(n) for n in ("org", "mod", "ana", "ben", "cal", "dan"))
    net.cid = net.org.create_circle("Walkers")
    net.join(net.org, net.mod, net.ana, net.ben, net.cal, net.dan)
    net.org.set_role(net.cid, net.mid(net.mod), "moderator")
    for peer in everyone_but(net, net.org):
        net.send(net.org, peer)
    return net


def everyone(net: Net) -> list[Service]:
    return [net.org, net.mod, net.ana, net.ben, net.cal, net.dan]


def everyone_but(net: Net, *left_out: Service) -> list[Service]:
    return [p for p in everyone(net) if p not in left_out]


def spread(net: Net, src: Service, *dsts: Service) -> None:
    for dst in dsts:
        net.send(src, dst)


def moderator_devices(service: Service, circle_id: str):
    state = service.open_circle(circle_id).state
    return [d for d in state.active_devices() if state.role_of(d.member) in MODERATING]


def devices_of(service: Service, circle_id: str, *members: str):
    return [d for d in service.open_circle(circle_id).state.active_devices() if d.member in members]


def sign_as(service: Service, circle_id: str, kind: str, body: dict, identity: DeviceIdentity | None = None) -> Action:
    """An action signed on `service`'s current heads, whatever the rules say."""
    circle = service.open_circle(circle_id)
    return sign_action(identity or service.profile.identity, circle_id, kind, list(circle.state.heads),
                       service.now_ms(), body)


def inject(service: Service, circle_id: str, *actions: Action) -> None:
    """A modified client stores actions as its own; they leave in its next bundle."""
    service.repo.persist(service.open_circle(circle_id), actions=list(actions))


def sealed_note(service: Service, circle_id: str, kind: str, body: dict, recipients, *,
                sender=None) -> Action:
    """A `sealed` action carrying a note sealed by hand (by `sender`, default
    the service's own device) in an envelope signed by a one-time key."""
    envelope = DeviceIdentity.generate()
    sealed = seal_note(sender or service.profile.identity, circle_id, envelope.public.sign_pub.hex(), kind,
                       service.now_ms(), body, [d.dh_pub for d in recipients])
    return sign_as(service, circle_id, "sealed", sealed, identity=envelope)


def actions_only_bundle(service: Service, circle_id: str, *wires: bytes) -> bytes:
    """A bundle sealed with `service`'s write key carrying only these actions."""
    circle = service.open_circle(circle_id)
    epoch = circle.state.write_epoch
    return seal_bundle(circle.keys[epoch], circle_id, epoch, DELTA, BundleContent(actions=tuple(wires)))


def modlog_status(service: Service, circle_id: str) -> dict[str, str]:
    return {e.id: e.status for e in service.modlog(circle_id)}


def post_in_feed(service: Service, circle_id: str, post_id: str):
    [post] = [p for p in service.feed(circle_id) if p.id == post_id]
    return post


@dataclass
class Impostor:
    """A sender that names someone else's key in its notes but can only sign with its own."""

    real: DeviceIdentity
    public: DevicePublic

    def sign(self, data: bytes) -> bytes:
        return self.real.sign(data)


# -- 1. moderation by those without the role ------------------------------------------------


def test_moderation_by_a_member_and_policy_by_a_moderator_are_refused_by_every_peer(net) -> None:
    cid, ben, cal = net.cid, net.ben, net.cal
    net.org.set_report_policy(cid, 1)
    spread(net, net.org, *everyone_but(net, net.org))
    reported = cal.post(cid, "a post someone reported")
    other = cal.post(cid, "a post nobody reported")
    spread(net, cal, *everyone_but(net, cal))
    report = net.ana.report(cid, reported.id, "please look")  # folds it at once on a moderator's device
    net.send(net.ana, net.mod)
    spread(net, net.mod, *everyone_but(net, net.mod))
    assert reported.id in net.org.open_circle(cid).state.collapsed

    warning = seal_note(ben.profile.identity, cid, ben.profile.identity.public.sign_pub.hex(), "warn",
                        ben.now_ms(), {"member": net.mid(cal), "reason": "FORGED warning"},
                        [d.dh_pub for d in devices_of(ben, cid, net.mid(cal), net.mid(ben))])
    forged = {
        "warn": sign_as(ben, cid, "warn", warning),
        "collapse": sign_as(ben, cid, "collapse", {"post": other.id, "reports": [report.id]}),
        "dismiss": sign_as(ben, cid, "dismiss", {"post": reported.id, "reports": [report.id], "reason": "x"}),
        "hide": sign_as(ben, cid, "hide", {"post": other.id, "reason": "FORGED"}),
        "mute": sign_as(ben, cid, "mute", {"member": net.mid(cal), "until": ben.now_ms() + 3_600_000,
                                           "reason": "FORGED"}),
        "set_policy": sign_as(ben, cid, "set_policy", {"collapse_after": 0}),
    }
    inject(ben, cid, *forged.values())
    by_moderator = sign_as(net.mod, cid, "set_policy", {"collapse_after": 9})
    inject(net.mod, cid, by_moderator)
    spread(net, ben, net.org, cal)
    spread(net, net.mod, net.org, cal)

    why = {a.id: "a member may not " + kind.replace("_", " ") for kind, a in forged.items()}
    why[by_moderator.id] = "a moderator may not set policy"
    held = {ben: {a.id for a in forged.values()}, net.mod: {by_moderator.id}}  # the others hold all of them
    for peer in (net.org, cal, ben, net.mod):
        ids = held.get(peer, set(why))
        state = peer.open_circle(cid).state
        verdicts = {e.action.id: (e.valid, e.reason) for e in state.log}
        assert {i: verdicts[i] for i in ids} == {i: (False, why[i]) for i in ids}
        statuses = modlog_status(peer, cid)
        assert {i: statuses[i] for i in ids} == {i: "refused" for i in ids}
        assert state.hidden == {} and state.mutes == {}
        assert set(state.collapsed) == {reported.id}  # the genuine fold stays, the forged one is not there
        assert state.dismissed == {} and state.collapse_after == 1
        assert forged["warn"].id not in state.notes
        shown = post_in_feed(peer, cid, other.id)
        assert (shown.hidden, shown.collapsed_reason, shown.body) == (False, None, "a post nobody reported")
        assert post_in_feed(peer, cid, reported.id).collapsed_reason is not None
    assert cal.inbox(cid) == []
    assert cal.muted(cid) == {}
    cal.post(cid, "not muted")  # the forged mute does not stop her


# -- 2. what a report reveals, and to whom -------------------------------------------------


def test_a_report_is_readable_by_moderators_alone_and_does_not_reveal_the_reporter(net) -> None:
    cid, marker = net.cid, "MARKER-5f1c9e-he-keeps-messaging-me"
    post = net.ben.post(net.cid, "an ordinary post")
    spread(net, net.ben, *everyone_but(net, net.ben))
    report = net.ana.report(cid, post.id, marker)
    for peer in (net.mod, net.org, net.ben, net.cal):
        net.send(net.ana, peer)

    action = net.cal.open_circle(cid).actions[report.id]
    assert action.kind == "sealed" and marker.encode() not in action.wire
    signing_keys = {d.sign_pub.hex() for d in net.org.open_circle(cid).state.devices.values()}
    assert action.author_sign not in signing_keys  # the envelope does not name the reporter
    for outsider in (net.ben, net.cal):  # the author of the post, and a bystander
        circle = outsider.open_circle(cid)
        assert report.id in circle.state.notes
        assert open_note(outsider.profile.identity.dh_key, circle.actions[report.id]) is None
        for held in circle.actions.values():
            assert marker.encode() not in held.wire
        assert outsider.reports(cid) == []
    for moderator in (net.mod, net.org):
        [seen] = moderator.reports(cid)
        assert (seen.id, seen.reporter_id, seen.reason, seen.post_id) == (report.id, net.mid(net.ana), marker,
                                                                          post.id)
        note = open_note(moderator.profile.identity.dh_key, moderator.open_circle(cid).actions[report.id])
        assert note is not None and note.body["reason"] == marker
    [own] = net.ana.reports(cid)  # the reporter sees her own
    assert own.reason == marker
    for peer in everyone(net):  # nowhere on any disk in the clear
        for path in peer.profile.home.rglob("*"):
            if path.is_file():
                assert marker.encode() not in path.read_bytes(), path


# -- 3. forged reporters and re-sealed notes --------------------------------------------------


def test_a_report_naming_another_members_key_is_ignored_and_does_not_count(net) -> None:
    cid, cal = net.cid, net.cal
    net.org.set_report_policy(cid, 2)
    spread(net, net.org, *everyone_but(net, net.org))
    post = net.ben.post(cid, "a post cal wants gone")
    spread(net, net.ben, *everyone_but(net, net.ben))
    genuine = cal.report(cid, post.id, "I do not like it")
    as_ana = Impostor(cal.profile.identity, net.ana.profile.identity.public)
    body = {"post": post.id, "reason": "ana agrees", "body": post.body,
            "heads": [h.hex() for h in cal.open_circle(cid).document.heads()]}
    forged = sealed_note(cal, cid, "report", body, moderator_devices(cal, cid), sender=as_ana)
    inject(cal, cid, forged)
    spread(net, cal, net.mod, net.org)

    for moderator in (net.mod, net.org):
        assert forged.id in moderator.open_circle(cid).state.notes  # it arrived
        with pytest.raises(NoteError, match="signature"):
            open_note(moderator.profile.identity.dh_key, moderator.open_circle(cid).actions[forged.id])
        assert [(r.id, r.reporter_id) for r in moderator.reports(cid)] == [(genuine.id, net.mid(cal))]
        assert moderator.open_circle(cid).state.collapsed == {}
        assert post_in_feed(moderator, cid, post.id).collapsed_reason is None


def test_a_moderator_cannot_reseal_someone_elses_report_into_a_new_envelope(net) -> None:
    cid, mod, org = net.cid, net.mod, net.org
    post = net.ben.post(cid, "something")
    spread(net, net.ben, *everyone_but(net, net.ben))
    report = net.ana.report(cid, post.id, "for the moderators")
    spread(net, net.ana, mod, org)
    original = mod.open_circle(cid).actions[report.id]
    wire = open_for(mod.profile.identity.dh_key, [bytes.fromhex(b) for b in original.body["boxes"]],
                    bytes.fromhex(original.body["content"]), _context(cid, original.author_sign))
    assert wire is not None and json.loads(wire[64:])["from"] == net.ana.profile.identity.public.sign_pub.hex()
    envelope = DeviceIdentity.generate()
    boxes, content = seal_for([org.profile.identity.public.dh_pub], wire,
                              _context(cid, envelope.public.sign_pub.hex()))
    resealed = sign_as(mod, cid, "sealed", {"boxes": [b.hex() for b in boxes], "content": content.hex()},
                       identity=envelope)
    inject(mod, cid, resealed)
    net.send(mod, org)

    assert resealed.id in org.open_circle(cid).state.notes
    with pytest.raises(NoteError, match="another circle or envelope"):
        open_note(org.profile.identity.dh_key, org.open_circle(cid).actions[resealed.id])
    assert [(r.id, r.reporter_id) for r in org.reports(cid)] == [(report.id, net.mid(net.ana))]


# -- 4. warnings must be signed by the moderator --------------------------------------------


def test_a_warning_in_an_anonymous_envelope_is_not_a_warning(net) -> None:
    cid, ben = net.cid, net.ben
    for sender in (net.mod, net.cal):  # a moderator hiding behind a one-time key, or a member posing as one
        body = {"member": net.mid(ben), "reason": f"ANONYMOUS warning from {sender.whoami().name}"}
        recipients = devices_of(sender, cid, net.mid(ben)) + moderator_devices(sender, cid)
        envelope = DeviceIdentity.generate()
        sealed = seal_note(sender.profile.identity, cid, envelope.public.sign_pub.hex(), "warn", sender.now_ms(),
                           body, [d.dh_pub for d in recipients])
        inject(sender, cid, sign_as(sender, cid, "sealed", sealed, identity=envelope))
        net.send(sender, ben)
    assert len(ben.open_circle(cid).state.notes) == 2
    assert ben.inbox(cid) == []
    assert [e for e in ben.modlog(cid) if e.kind == "warn"] == []
    net.mod.warn(cid, net.mid(ben), "a real warning")  # the signed kind does arrive
    net.send(net.mod, ben)
    assert [(i.kind, i.sender_id, i.text) for i in ben.inbox(cid)] == [("warning", net.mid(net.mod),
                                                                         "a real warning")]


# -- 5. the fold threshold ----------------------------------------------------------------------


def test_posts_fold_after_reports_from_distinct_active_members_and_dismissal_resets_the_count(net) -> None:
    cid, mod, org, ana, ben, cal, dan = net.cid, net.mod, net.org, net.ana, net.ben, net.cal, net.dan
    org.set_report_policy(cid, 2)
    spread(net, org, *everyone_but(net, org))
    post = ben.post(cid, "borderline")
    spread(net, ben, *everyone_but(net, ben))

    def folded_on(peer: Service) -> str | None:
        return post_in_feed(peer, cid, post.id).collapsed_reason

    ana.report(cid, post.id, "first")
    ana.report(cid, post.id, "second, same reporter")
    net.send(ana, mod)
    assert len(mod.reports(cid)) == 2 and folded_on(mod) is None

    by_dan = dan.report(cid, post.id, "before his removal")
    net.send(dan, org)  # org moderates too: one reporter is not enough
    assert folded_on(org) is None
    org.remove(cid, net.mid(dan))
    net.send(org, mod)
    assert by_dan.id in mod.open_circle(cid).state.notes  # it arrived, but dan is gone
    assert folded_on(mod) is None and mod.open_circle(cid).state.collapsed == {}

    cal.report(cid, post.id, "me too")
    net.send(cal, mod)
    assert mod.open_circle(cid).state.collapsed[post.id].reports == 2
    assert folded_on(mod) == "pending moderator review (2 reports)"
    for peer in (org, ana, ben, cal):
        assert folded_on(peer) is None
        net.send(mod, peer)
        assert folded_on(peer) == "pending moderator review (2 reports)"

    dismissed = mod.dismiss(cid, cal.reports(cid)[0].id, "within the guidelines")
    assert {r.id for r in mod.reports(cid)} == set(dismissed)
    assert folded_on(mod) is None and mod.review_reports(cid) == []
    for peer in (org, ana, ben, cal):
        net.send(mod, peer)
        assert folded_on(peer) is None
    assert {r.status for r in mod.reports(cid)} == {"dismissed"}

    ana.report(cid, post.id, "it is still not fine")
    net.send(ana, mod)
    assert folded_on(mod) is None
    cal.report(cid, post.id, "agreed")
    net.send(cal, mod)
    assert mod.open_circle(cid).state.collapsed[post.id].reports == 2
    for peer in (org, ana, ben):
        net.send(mod, peer)
        assert folded_on(peer) == "pending moderator review (2 reports)"


# -- 6. what the moderator is shown as evidence ---------------------------------------------


def test_report_evidence_comes_from_the_moderators_own_copy_of_the_post(net) -> None:
    cid, mod, ana, ben = net.cid, net.mod, net.ana, net.ben
    post = ben.post(cid, "what ben really wrote")
    spread(net, ben, *everyone_but(net, ben))

    lie = {"post": post.id, "reason": "look what he said", "body": "something ben never wrote",
           "heads": [h.hex() for h in ana.open_circle(cid).document.heads()]}
    lying = sealed_note(ana, cid, "report", lie, moderator_devices(ana, cid))
    inject(ana, cid, lying)
    honest = ana.report(cid, post.id, "honest report")
    net.send(ana, mod)
    evidence = {r.id: (r.reported_body, r.author_id, r.evidence) for r in mod.reports(cid)}
    assert evidence[lying.id] == ("what ben really wrote", net.mid(ben), "mismatch")
    assert evidence[honest.id] == ("what ben really wrote", net.mid(ben), "verified")

    ben.edit(cid, post.id, "edited to look harmless")
    net.send(ben, mod)
    assert post_in_feed(mod, cid, post.id).body == "edited to look harmless"
    [seen] = [r for r in mod.reports(cid) if r.id == honest.id]
    assert (seen.reported_body, seen.evidence) == ("what ben really wrote", "verified")
    ben.delete(cid, post.id)
    net.send(ben, mod)
    assert post_in_feed(mod, cid, post.id).deleted
    [seen] = [r for r in mod.reports(cid) if r.id == honest.id]
    assert (seen.reported_body, seen.author_id, seen.evidence) == ("what ben really wrote", net.mid(ben),
                                                                    "verified")


def test_report_evidence_is_pending_until_the_moderator_holds_the_reporters_document(net) -> None:
    cid, mod, ana, ben = net.cid, net.mod, net.ana, net.ben
    post = ben.post(cid, "seen by ana first")
    net.send(ben, ana)
    report = ana.report(cid, post.id, "please check")
    # the report reaches the moderator before the post does (relayed without the document)
    mod.receive_bundle(actions_only_bundle(ana, cid, ana.open_circle(cid).actions[report.id].wire))
    [seen] = mod.reports(cid)
    assert (seen.id, seen.reported_body, seen.author_id, seen.evidence) == (report.id, None, None, "pending")
    net.send(ben, mod)
    [seen] = mod.reports(cid)
    assert (seen.reported_body, seen.author_id, seen.evidence) == ("seen by ana first", net.mid(ben), "verified")


# -- 7. tampered log entries -----------------------------------------------------------------


def tamper_stored_action(home: Path, circle_id: str, action_id: str, edit) -> bytes:
    """What someone holding the profile's key could do: open a stored action,
    change its payload (signature kept), re-seal it under the same row. Returns
    the altered wire."""
    profile = Profile.unlock(home, PASSPHRASE)
    try:
        db = sqlite3.connect(home / DB_FILENAME)
        try:
            (blob,) = db.execute("SELECT blob FROM actions WHERE circle_id = ? AND action_id = ?",
                                 (circle_id, action_id)).fetchone()
            wire = profile.open(blob, "action", circle_id, action_id)
            payload = json.loads(wire[64:])
            edit(payload)
            altered = wire[:64] + canonical(payload)
            with db:
                db.execute("UPDATE actions SET blob = ? WHERE circle_id = ? AND action_id = ?",
                           (profile.seal(altered, "action", circle_id, action_id), circle_id, action_id))
        finally:
            db.close()
    finally:
        profile.close()
    return altered


@pytest.fixture
def hidden_then_muted(net):
    """mod hides one of ben's posts, then (building on it) mutes ben; cal has both."""
    post = net.ben.post(net.cid, "something rude")
    spread(net, net.ben, net.mod, net.cal)
    net.mod.hide(net.cid, post.id, "rude")
    net.mod.mute(net.cid, net.mid(net.ben), timedelta(hours=2), "cool off")
    actions = net.mod.open_circle(net.cid).actions.values()
    [hide] = [a for a in actions if a.kind == "hide"]
    [mute] = [a for a in actions if a.kind == "mute"]
    assert hide.id in mute.parents
    net.send(net.mod, net.cal)
    assert post.id in net.cal.open_circle(net.cid).state.hidden
    return post, hide, mute


def test_an_altered_stored_entry_is_shown_tampered_and_no_longer_applies(net, hidden_then_muted) -> None:
    post, hide, mute = hidden_then_muted
    home, cid = net.root / "cal", net.cid
    net.cal.close()
    tamper_stored_action(home, cid, hide.id, lambda p: p["body"].update(reason="the moderator hates you"))

    cal = Service.unlock(home, PASSPHRASE)
    statuses = modlog_status(cal, cid)
    assert statuses[hide.id] == "tampered" and statuses[mute.id] == "waiting"
    assert all(e.reason != "the moderator hates you" for e in cal.modlog(cid))
    state = cal.open_circle(cid).state
    assert post.id not in state.hidden and state.mutes == {}
    assert mute.id in state.pending and hide.id not in cal.open_circle(cid).actions
    shown = post_in_feed(cal, cid, post.id)
    assert not shown.hidden and shown.body == "something rude"
    cal.close()

    printed = {r["id"]: r for r in Cli(home).ok("modlog", cid, "--json").json()}
    assert printed[hide.id]["status"] == "tampered" and printed[mute.id]["status"] == "waiting"
    assert printed[hide.id]["actor_id"] is None


def test_an_altered_entry_arriving_from_a_peer_is_refused_and_nothing_is_stored(net, hidden_then_muted) -> None:
    post, hide, _ = hidden_then_muted
    payload = json.loads(hide.wire[64:])
    payload["body"]["reason"] = "the moderator hates you"
    altered = hide.wire[:64] + canonical(payload)
    before = stored(net.ana, net.cid)
    with pytest.raises(BundleRejected):
        net.ana.receive_bundle(actions_only_bundle(net.cal, net.cid, altered))
    assert stored(net.ana, net.cid) == before
    assert net.ana.open_circle(net.cid).state.hidden == {}
    net.ana.receive_bundle(actions_only_bundle(net.cal, net.cid, hide.wire))  # the genuine bytes go in
    assert net.ana.open_circle(net.cid).state.hidden[post.id].reason == "rude"


def test_a_genuine_copy_of_a_tampered_entry_is_kept_as_durably_as_it_is_shown(net, hidden_then_muted) -> None:
    """Whatever receive_bundle makes of a genuine copy of an entry this device
    holds tampered, the profile reopened must show the same: a returned write is
    durable."""
    post, hide, mute = hidden_then_muted
    home, cid = net.root / "cal", net.cid
    net.cal.close()
    tamper_stored_action(home, cid, hide.id, lambda p: p["body"].update(reason="altered"))
    cal = Service.unlock(home, PASSPHRASE)
    cal.receive_bundle(net.mod.bundle_for(cid, net.dev(cal)))
    shown = (post.id in cal.open_circle(cid).state.hidden, modlog_status(cal, cid))
    cal.close()
    reopened = Service.unlock(home, PASSPHRASE)
    assert (post.id in reopened.open_circle(cid).state.hidden, modlog_status(reopened, cid)) == shown
    reopened.close()


# -- 8. guidelines must be accepted before posting ------------------------------------------


def test_new_guidelines_block_posting_until_accepted(net) -> None:
    cid, org, ben = net.cid, net.org, net.ben
    org.set_guidelines(cid, "Be kind.")
    net.send(org, ben)
    assert ben.guidelines_pending(cid)
    ben.accept_guidelines(cid)
    mine = ben.post(cid, "hello under version 1")
    net.send(ben, org)

    org.set_guidelines(cid, "Be kind. No advice unless asked.")
    assert not org.guidelines_pending(cid)
    org.post(cid, "the organizer who wrote them is not blocked")
    net.send(org, ben)
    assert ben.guidelines_pending(cid)
    before = stored(ben, cid), ben.open_circle(cid).document.heads()
    attempts = {
        "post": lambda: ben.post(cid, "blocked"),
        "reply": lambda: ben.post(cid, "blocked reply", reply_to=mine.id),
        "edit": lambda: ben.edit(cid, mine.id, "blocked edit"),
    }
    for what, attempt in attempts.items():
        with pytest.raises(NotAllowed, match="guidelines"):
            attempt()
        assert (stored(ben, cid), ben.open_circle(cid).document.heads()) == before, what
    ben.checkin(cid, 3, note="still checking in")
    ben.reach_out(cid, [net.mid(org)], "can we talk about the new rules?")

    ben.accept_guidelines(cid)
    assert not ben.guidelines_pending(cid)
    ben.post(cid, "agreed, and posting again")
    ben.edit(cid, mine.id, "edited after accepting")
    net.send(ben, org)
    assert org.guideline_acceptance(cid)[net.mid(ben)] is True
    assert "agreed, and posting again" in net.bodies(org)


def test_accepting_guidelines_one_has_not_seen_is_refused(net) -> None:
    cid, org, cal = net.cid, net.org, net.cal
    org.set_guidelines(cid, "Version 1")
    spread(net, org, cal)
    cal.accept_guidelines(cid)
    net.send(cal, org)
    org.set_guidelines(cid, "Version 2")
    version2 = org.open_circle(cid).state.guidelines_id
    blind = sign_as(cal, cid, "accept_guidelines", {"version": version2})  # id heard of, text never synced
    assert version2 not in blind.parents
    inject(cal, cid, blind)
    net.send(cal, org)
    verdict = [(e.valid, e.reason) for e in org.open_circle(cid).state.log if e.action.id == blind.id]
    assert verdict == [(False, "accepts guidelines its author had not seen")]
    assert org.guideline_acceptance(cid)[net.mid(cal)] is False
    net.send(org, cal)
    assert cal.guidelines_pending(cid)
    with pytest.raises(NotAllowed, match="guidelines"):
        cal.post(cid, "still blocked")


def test_the_cli_refuses_a_post_until_the_guidelines_are_accepted(net) -> None:
    net.org.set_guidelines(net.cid, "Listen first.")
    net.send(net.org, net.ben)
    net.ben.close()
    cli = Cli(net.root / "ben")
    before = cli.ok("feed", net.cid, "--json").stdout
    refused = cli.run("post", net.cid, "too soon")
    assert refused.returncode != 0 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1 and refused.stderr.startswith("circle: ")
    assert "guidelines" in refused.stderr
    assert cli.ok("feed", net.cid, "--json").stdout == before
    cli.ok("guidelines", net.cid, "--accept")
    post_id = cli.ok("post", net.cid, "now it goes through").stdout.strip()
    assert [p["body"] for p in cli.ok("feed", net.cid, "--json").json() if p["id"] == post_id] == [
        "now it goes through"]


# -- 9. reach-outs ------------------------------------------------------------------------------


def test_a_reach_out_is_readable_only_by_the_chosen_members_and_the_senders_devices(net) -> None:
    cid, ana, ben, cal = net.cid, net.ana, net.ben, net.cal
    phone = net.profile("ana-phone")
    link = ana.invite(cid, device=True)
    join(sponsor=ana, newcomer=phone, code=link)
    for peer in everyone_but(net, ana):
        net.send(ana, peer)
    note_id = ana.reach_out(cid, [net.mid(ben)], "PRIVATE: I had a rough night")
    for peer in (phone, *everyone_but(net, ana)):
        net.send(ana, peer)

    action = cal.open_circle(cid).actions[note_id]
    signing_keys = {d.sign_pub.hex() for d in ana.open_circle(cid).state.devices.values()}
    assert action.kind == "sealed" and action.author_sign not in signing_keys
    [item] = ben.inbox(cid)
    assert (item.kind, item.sender_id, item.text) == ("reach_out", net.mid(ana), "PRIVATE: I had a rough night")
    for reader in (ben, phone, ana):
        note = open_note(reader.profile.identity.dh_key, reader.open_circle(cid).actions[note_id])
        assert note is not None and note.body["to"] == [net.mid(ben)]
    assert b"PRIVATE" not in action.wire
    for unchosen in (cal, net.dan, net.mod, net.org):
        assert open_note(unchosen.profile.identity.dh_key, unchosen.open_circle(cid).actions[note_id]) is None
        assert unchosen.inbox(cid) == []


def test_a_removed_member_cannot_keep_reaching_into_members_inboxes(net) -> None:
    """cal is removed; still holding the old key, her client keeps sending
    "reach out to me" requests. Content of hers past the removal is dropped by
    every peer; her notes must be too."""
    cid, ben, cal = net.cid, net.ben, net.cal
    net.org.remove(cid, net.mid(cal), "harassment")
    net.send(net.org, ben)
    assert ben.open_circle(cid).state.role_of(net.mid(cal)) is None
    note_id = cal.reach_out(cid, [net.mid(ben)], "why did you block me? answer me")
    cal.post(cid, "a post after my removal")
    ben.receive_bundle(cal.bundle_for(cid, None))  # sealed with the old key, which ben still accepts
    assert note_id in ben.open_circle(cid).state.notes
    assert "a post after my removal" not in net.bodies(ben)
    assert ben.inbox(cid) == []


# -- malformed notes sealed to a victim --------------------------------------------------------


def _broken_box_note(attacker: Service, victim: Service, circle_id: str) -> Action:
    """A box that opens for the victim but holds 5 bytes where a key belongs."""
    envelope = DeviceIdentity.generate()
    context = _context(circle_id, envelope.public.sign_pub.hex())
    box = seal_to(victim.profile.identity.public.dh_pub, b"short", _box_info(context))
    return sign_as(attacker, circle_id, "sealed", {"boxes": [box.hex()], "content": "00" * 40}, identity=envelope)


def _odd_kind_note(attacker: Service, victim: Service, circle_id: str) -> Action:
    """A properly sealed, properly signed note whose kind is not a string."""
    envelope = DeviceIdentity.generate()
    key = envelope.public.sign_pub.hex()
    identity = attacker.profile.identity
    payload = canonical({"v": 1, "circle": circle_id, "envelope": key, "kind": ["report"],
                         "from": identity.public.sign_pub.hex(), "at": attacker.now_ms(), "body": {}})
    boxes, content = seal_for([victim.profile.identity.public.dh_pub], identity.sign(payload) + payload,
                              _context(circle_id, key))
    return sign_as(attacker, circle_id, "sealed", {"boxes": [b.hex() for b in boxes], "content": content.hex()},
                   identity=envelope)


@pytest.mark.parametrize("make", [_broken_box_note, _odd_kind_note], ids=["short-key-box", "list-kind"])
def test_a_malformed_note_sealed_to_a_moderator_does_not_break_their_tools(net, make) -> None:
    cid, mod, cal = net.cid, net.mod, net.cal
    post = net.ben.post(cid, "reported for real")
    spread(net, net.ben, net.ana, cal)
    report = net.ana.report(cid, post.id, "a real report")
    net.send(net.ana, cal)
    inject(cal, cid, make(cal, mod, cid))
    net.send(cal, mod)  # must not raise: the bundle itself is sound
    assert [r.id for r in mod.reports(cid)] == [report.id]
    assert mod.inbox(cid) == []
    assert [(e.kind, e.status) for e in mod.modlog(cid)] == [("set_role", "valid")]
    assert mod.report_policy(cid) == DEFAULT_COLLAPSE_AFTER


# -- found in review ---------------------------------------------------------------------------


def test_a_note_dated_past_year_9999_is_ignored_and_breaks_no_ones_tools(net) -> None:
    cid, cal = net.cid, net.cal
    post = net.ana.post(cid, "hello")
    spread(net, net.ana, cal, net.org)
    envelope = DeviceIdentity.generate()
    far = seal_note(cal.profile.identity, cid, envelope.public.sign_pub.hex(), "report", 2**53,
                    {"post": post.id, "reason": "far", "body": "hello", "heads": []},
                    [d.dh_pub for d in moderator_devices(cal, cid)])
    inject(cal, cid, sign_as(cal, cid, "sealed", far, identity=envelope))
    net.send(cal, net.org)  # the moderator's device reviews reports on receipt: it must not fail
    assert net.org.reports(cid) == [] and net.org.inbox(cid) == []
    assert net.org.modlog(cid)  # the log still reads
    with pytest.raises(ActionError):  # nor can any action carry a date past year 9999
        sign_as(net.mod, cid, "mute", {"member": net.mid(cal), "until": 2**53, "reason": ""})


def test_more_concurrent_notes_than_one_action_may_name_do_not_freeze_the_log(net) -> None:
    cid, cal = net.cid, net.cal
    parents = list(cal.open_circle(cid).state.heads)
    notes = []
    for _ in range(MAX_PARENTS + 3):  # all naming the same parents: as many heads
        envelope = DeviceIdentity.generate()
        body = seal_note(cal.profile.identity, cid, envelope.public.sign_pub.hex(), "reach_out", cal.now_ms(),
                         {"note": "", "to": [net.mid(net.ana)]}, [d.dh_pub for d in devices_of(cal, cid, net.mid(net.ana))])
        notes.append(sign_action(envelope, cid, "sealed", parents, cal.now_ms(), body))
    inject(cal, cid, *notes)
    net.send(cal, net.org)
    assert len(net.org.open_circle(cid).state.heads) > MAX_PARENTS
    post = net.org.post(cid, "still here")
    net.org.hide(cid, post.id, "test")  # signs, names at most MAX_PARENTS heads
    net.org.report_policy(cid)
    net.send(net.org, net.ana)
    assert post_in_feed(net.ana, cid, post.id).hidden
    assert len(net.ana.inbox(cid)) == MAX_PARENTS + 3


def test_a_dismissal_concurrent_with_another_moderators_fold_leaves_the_post_unfolded(net) -> None:
    cid = net.cid
    net.org.set_report_policy(cid, 1)
    spread(net, net.org, *everyone_but(net, net.org))
    post = net.ben.post(cid, "blunt words")
    spread(net, net.ben, *everyone_but(net, net.ben))
    report = net.ana.report(cid, post.id, "unkind")
    net.send(net.ana, net.org)  # each moderator's device folds on its own: two concurrent folds
    net.send(net.ana, net.mod)
    assert post.id in net.org.open_circle(cid).state.collapsed
    assert post.id in net.mod.open_circle(cid).state.collapsed
    net.org.dismiss(cid, report.id, "fine in context")  # without having seen mod's fold
    net.send(net.org, net.mod)
    net.send(net.mod, net.org)
    for peer in (net.org, net.mod):
        assert post.id not in peer.open_circle(cid).state.collapsed
        assert post_in_feed(peer, cid, post.id).collapsed_reason is None
        assert [r.status for r in peer.reports(cid)] == ["dismissed"]


def test_hiding_then_unhiding_a_reported_post_counts_as_its_review(net) -> None:
    cid = net.cid
    net.org.set_report_policy(cid, 1)
    spread(net, net.org, *everyone_but(net, net.org))
    post = net.ben.post(cid, "blunt words")
    spread(net, net.ben, *everyone_but(net, net.ben))
    net.ana.report(cid, post.id, "unkind")
    net.send(net.ana, net.org)
    assert post.id in net.org.open_circle(cid).state.collapsed
    net.org.hide(cid, post.id, "looking into it")
    net.org.unhide(cid, post.id)
    net.send(net.ana, net.mod)
    net.send(net.org, net.mod)  # mod's device reviews the report again: it must not fold
    net.send(net.mod, net.org)
    for peer in (net.org, net.mod):
        assert post.id not in peer.open_circle(cid).state.collapsed
        assert [r.status for r in peer.reports(cid)] == ["dismissed"]
    later = net.cal.report(cid, post.id, "still unkind")  # a new report is a new matter
    net.send(net.cal, net.org)
    assert post.id in net.org.open_circle(cid).state.collapsed
    assert {r.id: r.status for r in net.org.reports(cid)}[later.id] == "collapsed"
