"""The governance rules (resolver.py docstring), one test per rule.

Resolver tests build signed logs directly: real device keys, real signatures
(`sign_action`), real invite proofs. Where a rule is about content or keys
(cutoffs, re-admission, rotations), whole profiles exchange real bundles.
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest

from circle.crypto.identity import DeviceIdentity
from circle.crypto.invite_code import invite_key
from circle.domain.governance.actions import Action, admit_proof_message, sign_action
from circle.domain.governance.keyring import epoch_keys, rotation_body
from circle.domain.governance.resolver import resolve
from circle.domain.governance.state import GovernanceState
from circle.errors import InvalidInput, NotAllowed, NotFound
from tests.helpers.in_process import Net

FAR = 4_000_000_000  # invite expiry, Unix seconds (2096)
FAR_MS = FAR * 1000

_IDENTITIES = [DeviceIdentity.generate() for _ in range(8)]


def device(identity: DeviceIdentity) -> dict:
    return {"sign": identity.public.sign_pub.hex(), "dh": identity.public.dh_pub.hex()}


class Log:
    """A circle's governance log, written action by action with real signatures."""

    def __init__(self, founder: DeviceIdentity, nonce: str = "00" * 16) -> None:
        self.t = 1_700_000_000_000
        self.actions: dict[str, Action] = {}
        self.secrets: dict[str, bytes] = {}
        self.genesis = sign_action(founder, None, "create", [], self.tick(),
                                   {"name": "Walkers", "nonce": nonce, "device": device(founder)})
        self.cid = self.genesis.id[:32]
        self.actions[self.genesis.id] = self.genesis

    def tick(self) -> int:
        self.t += 1000
        return self.t

    def heads(self) -> list[str]:
        parents = {p for a in self.actions.values() for p in a.parents}
        return [a for a in self.actions if a not in parents]

    def act(self, who: DeviceIdentity, kind: str, body: dict, after=None, at: int | None = None) -> Action:
        """Sign an action whose parents are `after` (actions or ids), by default the current heads."""
        parents = self.heads() if after is None else [p if isinstance(p, str) else p.id for p in after]
        action = sign_action(who, self.cid, kind, parents, at or self.tick(), body)
        self.actions[action.id] = action
        return action

    def invite(self, who: DeviceIdentity, uses: int = 10, expires: int = FAR, after=None,
               readmit: str | None = None) -> str:
        invite_id = hashlib.sha256(f"{self.cid}/{len(self.secrets)}".encode()).hexdigest()[:16]
        secret = hashlib.sha256(invite_id.encode()).digest()
        self.secrets[invite_id] = secret
        public = invite_key(secret, self.cid, invite_id).public_key().public_bytes_raw()
        if readmit is None:
            body = {"invite": invite_id, "key": public.hex(), "uses": uses, "expires": expires}
            self.act(who, "invite", body, after)
        else:
            body = {"invite": invite_id, "key": public.hex(), "member": readmit, "expires": expires}
            self.act(who, "readmit_invite", body, after)
        return invite_id

    def admit(self, who: DeviceIdentity, newcomer: DeviceIdentity, invite_id: str, after=None,
              member: str | None = None, lockboxes: dict | None = None, at: int | None = None) -> Action:
        dev = device(newcomer)
        proof = invite_key(self.secrets[invite_id], self.cid, invite_id).sign(
            admit_proof_message(self.cid, invite_id, dev))
        return self.act(who, "admit", {"invite": invite_id, "member": member or newcomer.device_id,
                                       "device": dev, "proof": proof.hex(), "lockboxes": lockboxes or {}},
                        after, at)

    def state(self, actions=None) -> GovernanceState:
        return resolve(self.cid, list(self.actions.values()) if actions is None else actions)

    def verdict(self, action: Action, state: GovernanceState | None = None) -> tuple[bool, str]:
        state = state or self.state()
        entries = [(e.valid, e.reason) for e in state.log if e.action.id == action.id]
        assert len(entries) == 1, "the action must be applied exactly once"
        return entries[0]


def summary(state: GovernanceState) -> dict:
    """Everything an action can change, comparable across resolves."""
    return {
        "members": {m.id: (m.role, m.status, m.rank) for m in state.members.values()},
        "devices": {d.id: (d.active, d.incarnation) for d in state.devices.values()},
        "invites": {i.id: (i.used, i.revoked) for i in state.invites.values()},
        "epochs": list(state.epoch_order),
        "hidden": sorted(state.hidden),
        "mutes": dict(state.mutes),
        "cutoffs": dict(state.cutoffs),
        "guidelines": state.guidelines,
        "resources": state.resources,
        "notes": list(state.notes),
        "collapsed": sorted(state.collapsed),
        "collapse_after": state.collapse_after,
        "quiet_after": state.quiet_after,
        "dismissed": dict(state.dismissed),
        "accepted": dict(state.accepted),
    }


def ids(*identities: DeviceIdentity) -> list[str]:
    return [i.device_id for i in identities]


@pytest.fixture
def people():
    a, b, c, d, e, f, g, h = _IDENTITIES
    return a, b, c, d, e, f, g, h


# -- genesis ------------------------------------------------------------------------


def test_genesis_makes_its_author_the_only_member_and_organizer(people) -> None:
    a, *_ = people
    log = Log(a)
    state = log.state()
    assert log.cid == log.genesis.id[:32]
    assert {m.id: (m.role, m.status, m.rank) for m in state.members.values()} == {
        a.device_id: ("organizer", "active", 0)}
    assert state.name == "Walkers" and state.log[0].valid


def test_a_second_genesis_and_other_circles_actions_are_not_part_of_the_circle(people) -> None:
    a, b, *_ = people
    log, other = Log(a), Log(b, nonce="11" * 16)
    foreign = other.act(b, "set_guidelines", {"text": "not yours"})
    state = log.state([*log.actions.values(), *other.actions.values()])
    assert [e.action.id for e in state.log] == [log.genesis.id]
    assert state.guidelines == "" and b.device_id not in state.members
    assert foreign.id not in state.pending


def test_a_genesis_naming_another_device_founds_nothing(people) -> None:
    a, b, *_ = people
    bad = sign_action(a, None, "create", [], 1, {"name": "X", "nonce": "22" * 16, "device": device(b)})
    cid = bad.id[:32]
    later = sign_action(a, cid, "set_guidelines", [bad.id], 2, {"text": "mine"})
    state = resolve(cid, [bad, later])
    assert not state.members and not state.log[0].valid
    assert state.log[1].reason == "no genesis"


def test_an_action_waits_until_all_its_ancestors_arrive(people) -> None:
    a, b, *_ = people
    log = Log(a)
    inv = log.invite(a)
    admit = log.admit(a, b, inv)
    guide = log.act(b, "leave", {"cutoffs": {}})
    without_admit = [x for x in log.actions.values() if x.id != admit.id]
    state = log.state(without_admit)
    assert state.pending == (guide.id,)
    assert b.device_id not in state.members
    assert log.state().pending == ()


# -- who may do what ------------------------------------------------------------------

ALL_ROLES = {"organizer", "moderator", "member"}
ALLOWED = {
    "invite": {"organizer"},
    "revoke_invite": {"organizer"},
    "set_role": {"organizer"},
    "remove": {"organizer"},
    "rotate": {"organizer"},
    "set_guidelines": {"organizer"},
    "set_resources": {"organizer"},
    "hide": {"organizer", "moderator"},
    "unhide": {"organizer", "moderator"},
    "mute": {"organizer", "moderator"},
    "warn": {"organizer", "moderator"},
    "collapse": {"organizer", "moderator"},
    "dismiss": {"organizer", "moderator"},
    "set_policy": {"organizer"},
    "set_quiet_after": {"organizer"},
    "admit": ALL_ROLES,
    "leave": ALL_ROLES,
    "accept_guidelines": ALL_ROLES,
}
SEALED_BODY = {"boxes": ["ab" * 80], "content": "cd" * 60}  # shape only: the resolver never opens it


def role_world(people):
    """Founder A; O a second organizer, M a moderator, U and T plain members;
    an open invite; post p0 hidden by A; guidelines by A; a sealed report."""
    a, o, m, u, t, newcomer, *_ = people
    log = Log(a)
    inv = log.invite(a)
    for who in (o, m, u, t):
        log.admit(a, who, inv)
    log.act(a, "set_role", {"member": o.device_id, "role": "organizer"})
    log.act(a, "set_role", {"member": m.device_id, "role": "moderator"})
    log.act(a, "hide", {"post": "p0", "reason": "off topic"})
    log.guidelines = log.act(a, "set_guidelines", {"text": "Be kind."}).id
    log.report = log.act(DeviceIdentity.generate(), "sealed", SEALED_BODY).id
    return log, inv, {"organizer": o, "moderator": m, "member": u}, t, newcomer


@pytest.mark.parametrize("role", ["organizer", "moderator", "member"])
@pytest.mark.parametrize("kind", sorted(ALLOWED))
def test_only_the_roles_a_kind_needs_may_take_it(people, kind: str, role: str) -> None:
    log, inv, actors, target, newcomer = role_world(people)
    who = actors[role]
    before = log.state()
    if kind == "invite":
        log.invite(who)
        action = list(log.actions.values())[-1]
    elif kind == "admit":
        action = log.admit(who, newcomer, inv)
    else:
        body = {
            "revoke_invite": {"invite": inv},
            "set_role": {"member": target.device_id, "role": "moderator"},
            "remove": {"member": target.device_id, "cutoffs": {}, "reason": ""},
            "rotate": rotation_body(before, {})[0],
            "set_guidelines": {"text": "Listen first."},
            "set_resources": {"resources": [{"name": "Line", "contact": "116 123", "region": "", "hours": ""}]},
            "hide": {"post": "p1", "reason": "spam"},
            "unhide": {"post": "p0"},
            "mute": {"member": target.device_id, "until": FAR_MS, "reason": ""},
            "leave": {"cutoffs": {}},
            "warn": SEALED_BODY,
            "collapse": {"post": "p1", "reports": [log.report]},
            "dismiss": {"post": "p1", "reports": [log.report], "reason": ""},
            "set_policy": {"collapse_after": 5},
            "set_quiet_after": {"hours": 3},
            "accept_guidelines": {"version": log.guidelines},
        }[kind]
        action = log.act(who, kind, body)
    after = log.state()
    valid, reason = log.verdict(action, after)
    assert valid == (role in ALLOWED[kind]), reason
    if valid:
        assert summary(after) != summary(before), f"a valid {kind} must take effect"
    else:
        assert reason == f"a {role} may not {kind.replace('_', ' ')}"
        assert summary(after) == summary(before), f"a refused {kind} must change nothing"


def test_mute_reaches_only_lower_roles(people) -> None:
    log, inv, actors, target, _ = role_world(people)
    org, mod = actors["organizer"], actors["moderator"]
    founder = people[0]
    cases = [
        (mod, target, True),      # moderator mutes a member
        (mod, org, False),        # ...not an organizer
        (org, mod, True),         # organizer mutes a moderator
        (org, founder, False),    # nobody mutes an organizer
    ]
    for author, whom, expected in cases:
        action = log.act(author, "mute", {"member": whom.device_id, "until": FAR_MS, "reason": ""})
        assert log.verdict(action)[0] == expected, (author.device_id[:6], whom.device_id[:6])
    # the moderator was muted but stays a moderator; muting does not take their role
    assert log.state().role_of(mod.device_id) == "moderator"


def test_a_sealed_note_counts_from_any_key_and_changes_nothing_but_the_notes(people) -> None:
    log, *_ = role_world(people)
    before = summary(log.state())
    note = log.act(DeviceIdentity.generate(), "sealed", SEALED_BODY)
    after = log.state()
    assert log.verdict(note, after)[0]
    assert after.notes[-1] == note.id
    assert {k: v for k, v in summary(after).items() if k != "notes"} == {
        k: v for k, v in before.items() if k != "notes"}


def test_new_guidelines_need_everyone_but_their_author_to_accept_again(people) -> None:
    log, inv, actors, target, _ = role_world(people)
    a, member = people[0], actors["member"]
    first = log.guidelines
    assert log.state().must_accept_guidelines(member.device_id)
    assert not log.state().must_accept_guidelines(a.device_id)  # who writes them accepts them
    log.act(member, "accept_guidelines", {"version": first})
    assert not log.state().must_accept_guidelines(member.device_id)
    second = log.act(a, "set_guidelines", {"text": "Be kind. Listen first."})
    state = log.state()
    assert state.guidelines_id == second.id and state.guidelines_version == 2
    assert state.must_accept_guidelines(member.device_id)
    assert not state.must_accept_guidelines(a.device_id)


def test_accepting_guidelines_one_has_not_seen_is_refused(people) -> None:
    log, inv, actors, target, _ = role_world(people)
    member = actors["member"]
    blind = log.act(member, "accept_guidelines", {"version": log.guidelines},
                    after=[a for a in log.actions if a != log.guidelines and a != log.report][-1:])
    assert log.verdict(blind) == (False, "accepts guidelines its author had not seen")
    stranger = log.act(member, "accept_guidelines", {"version": "ab" * 32})
    assert not log.verdict(stranger)[0]


def test_a_stale_device_accepting_older_guidelines_does_not_undo_a_newer_acceptance(people) -> None:
    log, inv, actors, target, _ = role_world(people)
    a, member = people[0], actors["member"]
    first = log.guidelines
    before_second = log.heads()
    second = log.act(a, "set_guidelines", {"text": "Be kind. Listen first."})
    newer = log.act(member, "accept_guidelines", {"version": second.id})
    stale = log.act(member, "accept_guidelines", {"version": first}, after=before_second)
    assert log.verdict(newer)[0] and log.verdict(stale)[0]
    assert log.state().accepted[member.device_id] == second.id
    assert not log.state().must_accept_guidelines(member.device_id)


def test_an_unmute_ends_the_window_but_keeps_its_start(people) -> None:
    log, inv, actors, target, _ = role_world(people)
    mod = actors["moderator"]
    muted = log.act(mod, "mute", {"member": target.device_id, "until": FAR_MS, "reason": "cool off"})
    unmuted = log.act(mod, "mute", {"member": target.device_id, "until": 0, "reason": ""})
    assert log.state().mutes[target.device_id] == (muted.at, unmuted.at)  # posts made meanwhile stay hidden


def test_a_hidden_post_is_not_folded_and_hiding_a_folded_post_ends_the_fold(people) -> None:
    log, inv, actors, target, _ = role_world(people)
    mod = actors["moderator"]
    assert log.verdict(log.act(mod, "collapse", {"post": "p0", "reports": [log.report]})) == (False, "post is already hidden")
    log.act(mod, "collapse", {"post": "p1", "reports": [log.report]})
    assert "p1" in log.state().collapsed
    log.act(mod, "hide", {"post": "p1", "reason": "cruel"})
    assert "p1" not in log.state().collapsed and "p1" in log.state().hidden


def test_dismissing_reports_needs_them_in_the_past_and_unfolds_the_post(people) -> None:
    log, inv, actors, target, _ = role_world(people)
    mod = actors["moderator"]
    log.act(mod, "collapse", {"post": "p1", "reports": [log.report]})
    unseen = "ef" * 32
    assert log.verdict(log.act(mod, "dismiss", {"post": "p1", "reports": [unseen], "reason": ""}))[0] is False
    assert "p1" in log.state().collapsed
    dismissal = log.act(mod, "dismiss", {"post": "p1", "reports": [log.report], "reason": "fine"})
    state = log.state()
    assert state.dismissed == {log.report: dismissal.id}
    assert "p1" not in state.collapsed


def test_nobody_acts_on_an_admission_they_have_not_seen(people) -> None:
    a, b, *_ = people
    log = Log(a)
    inv = log.invite(a)
    log.admit(a, b, inv)
    blind = log.act(b, "leave", {"cutoffs": {}}, after=[log.genesis])  # parents miss b's own admission
    assert log.verdict(blind) == (False, "author acted before seeing their own admission")
    assert log.state().role_of(b.device_id) == "member"


def test_a_removed_member_cannot_act_again(people) -> None:
    a, b, c, *_ = people
    log = two_organizers_and_a_member(a, b, c)
    log.act(a, "remove", {"member": b.device_id, "cutoffs": {}, "reason": ""})
    late = log.act(b, "remove", {"member": c.device_id, "cutoffs": {}, "reason": ""})
    assert log.verdict(late) == (False, "author device is not admitted")
    assert log.state().role_of(c.device_id) == "member"


def test_an_admission_needs_proof_of_the_invite_secret(people) -> None:
    a, b, c, *_ = people
    log = Log(a)
    inv = log.invite(a)
    log.secrets[inv] = b"\x00" * 32  # the admitter does not hold the secret
    admit = log.admit(a, b, inv)
    assert log.verdict(admit) == (False, "newcomer did not prove they hold the invite")
    assert b.device_id not in log.state().members


def test_invites_count_uses_and_honour_revocation_and_expiry(people) -> None:
    a, b, c, d, e, *_ = people
    log = Log(a)
    once = log.invite(a, uses=1)
    assert log.verdict(log.admit(a, b, once))[0]
    assert log.verdict(log.admit(a, c, once)) == (False, "invite is used up")
    revoked = log.invite(a)
    log.act(a, "revoke_invite", {"invite": revoked})
    assert log.verdict(log.admit(a, c, revoked)) == (False, "invite was revoked")
    short = log.invite(a, expires=log.t // 1000 + 60)
    assert log.verdict(log.admit(a, d, short, at=log.t + 120_000)) == (False, "invite had expired")
    assert log.verdict(log.admit(a, e, short))[0]


def test_two_concurrent_admissions_cannot_overdraw_a_single_use_invite(people) -> None:
    a, b, c, d, *_ = people
    log = Log(a)
    once = log.invite(a, uses=1)
    base = log.heads()
    first = log.admit(a, b, once, after=base)
    second = log.admit(a, c, once, after=base)
    state = log.state()
    assert sorted([log.verdict(first, state)[0], log.verdict(second, state)[0]]) == [False, True]
    assert state.invites[once].used == 1


# -- the last organizer -------------------------------------------------------------------


def test_the_last_organizer_cannot_be_demoted(people) -> None:
    a, b, *_ = people
    log = Log(a)
    log.admit(a, b, log.invite(a))
    demote = log.act(a, "set_role", {"member": a.device_id, "role": "member"})
    assert log.verdict(demote) == (False, "the last organizer cannot be demoted")
    log.act(a, "set_role", {"member": b.device_id, "role": "organizer"})
    assert log.verdict(log.act(a, "set_role", {"member": a.device_id, "role": "moderator"}))[0]
    assert [m.id for m in log.state().organizers()] == [b.device_id]


def test_two_organizers_stepping_down_at_once_leave_one_organizer(people) -> None:
    a, b, c, *_ = people
    log = two_organizers_and_a_member(a, b, c)
    base = log.heads()
    log.act(a, "set_role", {"member": a.device_id, "role": "member"}, after=base)
    log.act(b, "set_role", {"member": b.device_id, "role": "member"}, after=base)
    log.act(a, "set_role", {"member": b.device_id, "role": "member"}, after=base)
    log.act(b, "set_role", {"member": a.device_id, "role": "member"}, after=base)
    assert len(log.state().organizers()) == 1


def test_the_last_organizer_leaving_promotes_the_most_senior_member(people) -> None:
    a, b, c, d, *_ = people
    log = Log(a)
    inv = log.invite(a)
    for who in (b, c, d):
        log.admit(a, who, inv)
    log.act(a, "set_role", {"member": d.device_id, "role": "moderator"})
    log.act(b, "leave", {"cutoffs": {}})  # the most senior member leaves first
    log.act(a, "leave", {"cutoffs": {}})
    state = log.state()
    assert state.role_of(a.device_id) is None
    assert [m.id for m in state.organizers()] == [c.device_id]  # c was admitted before d
    assert state.role_of(d.device_id) == "moderator"


def test_an_organizer_leaving_while_another_remains_promotes_nobody(people) -> None:
    a, b, c, *_ = people
    log = Log(a)
    inv = log.invite(a)
    log.admit(a, b, inv)
    log.admit(a, c, inv)
    log.act(a, "set_role", {"member": c.device_id, "role": "organizer"})
    log.act(a, "leave", {"cutoffs": {}})
    state = log.state()
    assert [m.id for m in state.organizers()] == [c.device_id]
    assert state.role_of(b.device_id) == "member"


# -- concurrent conflicts --------------------------------------------------------------------


def orders(actions: list[Action], count: int = 40, seed: int = 7):
    rng = random.Random(seed)
    yield list(actions)
    yield list(reversed(actions))
    for _ in range(count):
        shuffled = list(actions)
        rng.shuffle(shuffled)
        yield shuffled


def two_organizers_and_a_member(a, b, c) -> "Log":
    """a founded the circle; b is a second (junior) organizer; c a member."""
    log = Log(a)
    inv = log.invite(a)
    log.admit(a, b, inv)
    log.admit(a, c, inv)
    log.act(a, "set_role", {"member": b.device_id, "role": "organizer"})
    return log


def test_mutual_removal_senior_organizer_wins_whatever_the_delivery_order(people) -> None:
    a, b, c, *_ = people
    log = two_organizers_and_a_member(a, b, c)
    base = log.heads()
    junior = log.act(b, "remove", {"member": a.device_id, "cutoffs": {}, "reason": ""}, after=base)
    senior = log.act(a, "remove", {"member": b.device_id, "cutoffs": {}, "reason": ""}, after=base)
    # before the senior removal arrives, the junior one counts
    partial = log.state([x for x in log.actions.values() if x.id != senior.id])
    assert partial.members[a.device_id].status == "removed"
    expected = None
    for order in orders(list(log.actions.values())):
        state = log.state(order)
        assert state.members[a.device_id].status == "active"
        assert state.members[b.device_id].status == "removed"
        assert log.verdict(senior, state) == (True, "")
        assert log.verdict(junior, state) == (False, "lost a concurrent mutual removal to a more senior organizer")
        log_order = [(e.action.id, e.valid, e.reason) for e in state.log]
        assert expected is None or log_order == expected
        expected = log_order


def test_mutual_removal_senior_wins_even_when_a_junior_members_action_precedes_theirs(people) -> None:
    """The senior organizer's removal had seen a plain member's action; the
    junior organizer's had not. The documented rule ("the senior organizer's
    removal applies first and the junior's then fails") must still hold."""
    a, b, c, *_ = people
    log = two_organizers_and_a_member(a, b, c)
    base = log.heads()
    member_leaves = log.act(c, "leave", {"cutoffs": {}}, after=base)
    senior = log.act(a, "remove", {"member": b.device_id, "cutoffs": {}, "reason": ""}, after=[member_leaves])
    junior = log.act(b, "remove", {"member": a.device_id, "cutoffs": {}, "reason": ""}, after=base)
    state = log.state()
    assert log.verdict(junior, state)[0] is False
    assert log.verdict(senior, state) == (True, "")
    assert state.members[a.device_id].status == "active"


def test_a_role_change_concurrent_with_the_targets_removal_does_not_keep_them(people) -> None:
    a, b, c, *_ = people
    log = two_organizers_and_a_member(a, b, c)
    base = log.heads()
    removal = log.act(a, "remove", {"member": c.device_id, "cutoffs": {}, "reason": ""}, after=base)
    promote = log.act(b, "set_role", {"member": c.device_id, "role": "moderator"}, after=base)
    for order in orders(list(log.actions.values()), 10):
        state = log.state(order)
        assert state.members[c.device_id].status == "removed"
        assert log.verdict(removal, state)[0]
        assert log.verdict(promote, state) == (False, "target is not an active member")


def test_a_role_change_concurrent_with_its_authors_removal_counts_only_if_the_author_is_senior(people) -> None:
    a, b, c, d, e, *_ = people
    log = Log(a)
    inv = log.invite(a)
    for who in (b, c, d, e):
        log.admit(a, who, inv)
    log.act(a, "set_role", {"member": b.device_id, "role": "organizer"})
    log.act(a, "set_role", {"member": c.device_id, "role": "organizer"})
    base = log.heads()
    # b is senior to c: b's concurrent promotion counts, then c's removal of b
    by_b = log.act(b, "set_role", {"member": d.device_id, "role": "moderator"}, after=base)
    c_removes_b = log.act(c, "remove", {"member": b.device_id, "cutoffs": {}, "reason": ""}, after=base)
    # a is senior to c: c's concurrent promotion of e does not count
    base2 = [by_b.id, c_removes_b.id]
    by_c = log.act(c, "set_role", {"member": e.device_id, "role": "moderator"}, after=base2)
    a_removes_c = log.act(a, "remove", {"member": c.device_id, "cutoffs": {}, "reason": ""}, after=base2)
    for order in orders(list(log.actions.values()), 10):
        state = log.state(order)
        assert log.verdict(by_b, state)[0] and log.verdict(c_removes_b, state)[0]
        assert state.role_of(d.device_id) == "moderator" and state.role_of(b.device_id) is None
        assert log.verdict(a_removes_c, state)[0]
        assert not log.verdict(by_c, state)[0]
        assert state.role_of(e.device_id) == "member"


# -- re-admission (resolver) ----------------------------------------------------------------


def test_readmission_needs_a_readmit_invite_made_after_the_removal(people) -> None:
    a, b, *_ = people
    log = Log(a)
    inv = log.invite(a)
    first = log.admit(a, b, inv)
    base = log.heads()
    removal = log.act(a, "remove", {"member": b.device_id, "cutoffs": {}, "reason": ""}, after=base)
    concurrent = log.admit(a, b, inv, after=base)
    state = log.state()
    assert log.verdict(removal, state)[0]
    assert not log.verdict(concurrent, state)[0]
    assert state.members[b.device_id].status == "removed"
    assert log.verdict(log.admit(a, b, inv), log.state()) == (False, "invite was closed by a removal")
    fresh = log.invite(a)  # made after the removal: open for newcomers, not for b
    assert log.verdict(log.admit(a, b, fresh), log.state()) == (
        False, "a removed member comes back only through a readmit invite made for them")
    back = log.invite(a, readmit=b.device_id)
    later = log.admit(a, b, back)
    state = log.state()
    assert log.verdict(later, state) == (True, "")
    member, dev = state.members[b.device_id], state.devices[b.device_id]
    assert (member.status, member.role, dev.incarnation, dev.admitted_by) == ("active", "member", 1, later.id)
    assert member.rank > state.members[a.device_id].rank and member.rank > 1  # seniority starts over
    old_actor, new_actor = b.actor_id(log.cid, 0), b.actor_id(log.cid, 1)
    assert old_actor in state.cutoffs and new_actor not in state.cutoffs
    assert state.actor_bindings()[new_actor] == b.device_id
    assert first.id != later.id


def test_a_readmit_invite_needs_an_organizer_and_the_removal_in_its_past(people) -> None:
    a, b, c, *_ = people
    log = Log(a)
    inv = log.invite(a)
    log.admit(a, b, inv)
    log.admit(a, c, inv)
    base = log.heads()
    log.act(a, "remove", {"member": b.device_id, "cutoffs": {}, "reason": ""}, after=base)
    early = log.invite(a, readmit=b.device_id, after=base)  # concurrent with the removal
    by_member = log.invite(c, readmit=b.device_id)
    state = log.state()
    assert not state.invites.get(early) and not state.invites.get(by_member)
    assert not log.verdict(log.admit(a, b, early), log.state())[0]
    assert log.verdict(log.admit(c, b, by_member), log.state()) == (False, "unknown invite")


def test_a_readmit_invite_brings_back_only_the_member_it_names(people) -> None:
    a, b, c, d, *_ = people
    log = Log(a)
    inv = log.invite(a)
    log.admit(a, b, inv)
    log.admit(a, c, inv)
    log.act(a, "remove", {"member": b.device_id, "cutoffs": {}, "reason": ""})
    log.act(a, "remove", {"member": c.device_id, "cutoffs": {}, "reason": ""})
    for_b = log.invite(a, readmit=b.device_id)
    assert log.verdict(log.admit(a, c, for_b), log.state()) == (False, "that readmit invite is for another member")
    stranger = log.admit(a, d, for_b)  # a newcomer's own id: still the wrong member
    assert log.verdict(stranger, log.state()) == (False, "that readmit invite is for another member")
    on_new_device = log.admit(a, d, for_b, member=b.device_id)  # b lost the old device
    state = log.state()
    assert log.verdict(on_new_device, state) == (True, "")
    assert state.members[b.device_id].status == "active" and state.devices[d.device_id].member == b.device_id
    assert state.members[c.device_id].status == "removed"


def test_a_removal_closes_the_invites_its_author_had_seen_in_every_order(people) -> None:
    """Whatever order peers learn them in: codes b might know stay shut, a code
    made concurrently (its maker had not seen the removal) stays open."""
    a, b, c, d, e, *_ = people
    log = Log(a)
    group = log.invite(a)
    log.admit(a, b, group)
    log.act(a, "set_role", {"member": b.device_id, "role": "organizer"})
    base = log.heads()
    removal = log.act(a, "remove", {"member": b.device_id, "cutoffs": {}, "reason": ""}, after=base)
    concurrent = log.invite(a, after=base)
    by_removed = log.admit(b, d, group, after=base)  # b lets a friend in concurrently
    for order in orders(list(log.actions.values()), 10):
        state = log.state(order)
        assert log.verdict(removal, state)[0]
        assert state.invites[group].closed_by == b.device_id
        assert state.invites[concurrent].closed_by is None
        assert not log.verdict(by_removed, state)[0]
    assert log.verdict(log.admit(a, e, concurrent), log.state()) == (True, "")
    assert log.verdict(log.admit(a, c, group), log.state()) == (False, "invite was closed by a removal")


# -- profiles exchanging bundles ----------------------------------------------------------


@pytest.fixture
def net(tmp_path: Path) -> Net:
    return Net(tmp_path)


def test_a_post_concurrent_with_its_authors_removal_shows_on_no_peer(net: Net) -> None:
    ana, ben, cara = net.profile("ana"), net.profile("ben"), net.profile("cara")
    net.cid = ana.create_circle("Walkers")
    net.join(ana, ben, cara)
    ben.post(net.cid, "before")
    net.send(ben, ana)
    net.send(ben, cara)
    ana.remove(net.cid, ben.whoami().member_id)
    ben.post(net.cid, "concurrent")  # ben has not heard of his removal
    net.send(ben, cara)  # cara gets the post before the removal...
    assert net.bodies(cara) == ["before", "concurrent"]
    received = net.send(ben, ana)  # ...ana after it
    assert received.changes_dropped >= 1
    net.send(ana, cara)
    assert net.bodies(ana) == ["before"]
    assert net.bodies(cara) == ["before"]
    assert [m.status for m in cara.members(net.cid, include_departed=True) if m.id == ben.whoami().member_id] \
        == ["removed"]


def test_a_member_who_saw_a_post_past_the_cutoff_still_syncs_with_peers_who_dropped_it(net: Net) -> None:
    """cara applied ben's post before hearing of his removal; everything cara
    writes afterwards depends on it. A peer that dropped ben's post must still
    get cara's later posts."""
    ana, ben, cara = net.profile("ana"), net.profile("ben"), net.profile("cara")
    net.cid = ana.create_circle("Walkers")
    net.join(ana, ben, cara)
    ana.remove(net.cid, ben.whoami().member_id)
    ben.post(net.cid, "concurrent")
    net.send(ben, cara)
    net.send(ben, ana)
    net.send(ana, cara)
    cara.post(net.cid, "cara after the removal")
    net.send(cara, ana)
    assert net.bodies(ana) == ["cara after the removal"]
    assert net.bodies(cara) == ["cara after the removal"]


def test_a_readmitted_device_writes_as_a_new_actor_whose_posts_show(net: Net) -> None:
    ana, ben, cara = net.profile("ana"), net.profile("ben"), net.profile("cara")
    net.cid = ana.create_circle("Walkers")
    net.join(ana, ben, cara)
    ben.post(net.cid, "before")
    net.send(ben, ana)
    old_actor = ben.open_circle(net.cid).document.doc.get_actor()
    ana.remove(net.cid, ben.whoami().member_id)
    code = ana.invite(net.cid, readmit="ben")
    ana.admit_request(ben.join_request(code))
    net.send(ana, ben)
    circle = ben.open_circle(net.cid)
    assert ben.my_role(net.cid) == "member" and circle.my_device.incarnation == 1
    new_actor = circle.document.doc.get_actor()
    assert new_actor != old_actor and new_actor == ben.profile.identity.actor_id(net.cid, 1)
    ben.post(net.cid, "back again")
    assert net.send(ben, ana).changes_applied >= 1
    net.send(ana, cara)
    for peer in (ana, cara):
        assert net.bodies(peer) == ["before", "back again"]
        authors = {p.body: p.author_id for p in peer.feed(net.cid)}
        assert authors["back again"] == ben.whoami().member_id


def test_a_readmitted_device_keeps_its_old_cutoff_and_still_syncs(net: Net) -> None:
    ana, ben = net.profile("ana"), net.profile("ben")
    net.cid = ana.create_circle("Walkers")
    net.join(ana, ben)
    ana.remove(net.cid, ben.whoami().member_id)
    ben.post(net.cid, "while removed")  # past the cutoff on the old actor
    net.send(ben, ana)
    code = ana.invite(net.cid, readmit=ben.whoami().member_id)
    ana.admit_request(ben.join_request(code))
    net.send(ana, ben)
    ben.post(net.cid, "back again")
    net.send(ben, ana)
    assert net.bodies(ana) == ["back again"]
    assert net.bodies(ben) == ["back again"]


def test_a_removed_member_cannot_readmit_themselves_with_any_code_they_know(net: Net) -> None:
    """The attack: ben is removed, then redeems the code he joined with, a group
    code an organizer posted, or a code made after the removal that a friend
    passes him. None lets him back in; only the code made to readmit him does."""
    ana, ben, cara = net.profile("ana"), net.profile("ben"), net.profile("cara")
    net.cid = ana.create_circle("Walkers")
    group = ana.invite(net.cid, uses=10)
    for joiner in (ben, cara):
        assert joiner.accept_welcome(group, ana.admit_request(joiner.join_request(group))) == net.cid
    net.send(ben, ana)  # ben's name
    net.send(ana, cara)
    assert ana.remove(net.cid, "ben") == 1  # the group code is closed
    net.send(ana, cara)
    for sponsor in (ana, cara):  # whoever's device answers the request
        with pytest.raises(NotAllowed, match="closed when a member was removed"):
            sponsor.admit_request(ben.join_request(group))
    later = ana.invite(net.cid, uses=5)
    net.send(ana, cara)
    for sponsor in (ana, cara):
        with pytest.raises(NotAllowed, match="readmit invite made for them"):
            sponsor.admit_request(ben.join_request(later))
    assert [m.status for m in ana.members(net.cid, include_departed=True) if m.name == "ben"] == ["removed"]
    back = ana.invite(net.cid, readmit="ben")
    assert ben.accept_welcome(back, ana.admit_request(ben.join_request(back))) == net.cid
    assert ben.my_role(net.cid) == "member"
    assert "invited ben back after their removal" in [e.summary for e in ana.modlog(net.cid)]


def test_readmit_codes_are_for_removed_members_only(net: Net) -> None:
    ana, ben = net.profile("ana"), net.profile("ben")
    net.cid = ana.create_circle("Walkers")
    with pytest.raises(NotFound, match="no member of this circle has been removed"):
        ana.invite(net.cid, readmit="ben")
    net.join(ana, ben)
    with pytest.raises(NotFound):
        ana.invite(net.cid, readmit="ben")
    ana.remove(net.cid, "ben")
    with pytest.raises(InvalidInput, match="used once"):
        ana.invite(net.cid, readmit="ben", uses=2)
    assert [i.readmit for i in ana.invites(net.cid) if i.readmit] == []
    ana.invite(net.cid, readmit="ben")
    assert [i.readmit for i in ana.invites(net.cid) if i.readmit] == [ben.whoami().member_id]


def test_concurrent_removals_need_a_rekey_and_never_write_with_a_departed_devices_key(net: Net) -> None:
    ana, ben, cara, dan = (net.profile(n) for n in ("ana", "ben", "cara", "dan"))
    net.cid = ana.create_circle("Walkers")
    net.join(ana, ben, cara, dan)
    ana.set_role(net.cid, ben.whoami().member_id, "organizer")
    net.send(ana, ben)
    ana.remove(net.cid, cara.whoami().member_id)  # each rotates, concurrently
    ben.remove(net.cid, dan.whoami().member_id)
    merged = resolve(net.cid, [*ana.open_circle(net.cid).actions.values(),
                               *ben.open_circle(net.cid).actions.values()])
    departed = {net.dev(cara), net.dev(dan)}
    assert merged.needs_rekey
    assert merged.write_epoch is None or not merged.holders(merged.write_epoch) & departed
    net.send(ben, ana)  # ana heals on receipt
    net.send(ana, ben)
    for peer in (ana, ben):
        state = peer.open_circle(net.cid).state
        assert not state.needs_rekey and not peer.heal_keys(net.cid)
        assert state.holders(state.write_epoch) == {net.dev(ana), net.dev(ben)}
    assert ana.open_circle(net.cid).state.write_epoch == ben.open_circle(net.cid).state.write_epoch
    write_epoch = ana.open_circle(net.cid).state.write_epoch
    full = ana.open_circle(net.cid).state
    for gone in (cara, dan):
        assert write_epoch not in epoch_keys(full, gone.profile.identity)
    ana.post(net.cid, "after both removals")
    net.send(ana, ben)
    assert net.bodies(ben) == ["after both removals"]


def test_concurrent_plain_rotations_leave_two_key_chains_until_healed(net: Net) -> None:
    ana, ben = net.profile("ana"), net.profile("ben")
    net.cid = ana.create_circle("Walkers")
    net.join(ana, ben)
    ana.set_role(net.cid, ben.whoami().member_id, "organizer")
    net.send(ana, ben)
    ana.rotate_key(net.cid)
    ben.rotate_key(net.cid)
    merged = resolve(net.cid, [*ana.open_circle(net.cid).actions.values(),
                               *ben.open_circle(net.cid).actions.values()])
    assert merged.needs_rekey  # neither new key wraps the other
    net.send(ben, ana)
    state = ana.open_circle(net.cid).state
    assert not state.needs_rekey
    keys = epoch_keys(state, ana.profile.identity)
    assert set(keys) == set(state.epoch_order)


def test_two_organizers_healing_at_the_same_time_settle_on_one_key(net: Net) -> None:
    """Both organizers see the two chains and heal at once, their bundles
    crossing; within a few rounds they must stop rotating."""
    ana, ben = net.profile("ana"), net.profile("ben")
    net.cid = ana.create_circle("Walkers")
    net.join(ana, ben)
    ana.set_role(net.cid, ben.whoami().member_id, "organizer")
    net.send(ana, ben)
    ana.rotate_key(net.cid)
    ben.rotate_key(net.cid)
    sizes = []
    for _ in range(5):
        to_ben, to_ana = ana.bundle_for(net.cid, net.dev(ben)), ben.bundle_for(net.cid, net.dev(ana))
        ana.receive_bundle(to_ana)
        ben.receive_bundle(to_ben)
        sizes.append(len(ana.open_circle(net.cid).state.epoch_order))
    assert sizes[-1] == sizes[-2] == sizes[-3], f"epochs keep growing: {sizes}"


def test_a_member_admitted_later_recovers_every_earlier_epoch_key(net: Net) -> None:
    ana, ben, cara = net.profile("ana"), net.profile("ben"), net.profile("cara")
    net.cid = ana.create_circle("Walkers")
    ana.post(net.cid, "at the first epoch")
    sealed_at_first = ana.bundle_for(net.cid, None)  # for anyone holding that key (folder transport)
    net.join(ana, ben)
    ana.remove(net.cid, ben.whoami().member_id)
    ana.rotate_key(net.cid)
    net.join(ana, cara)
    state = cara.open_circle(net.cid).state
    assert len(state.epoch_order) == 3
    assert cara.open_circle(net.cid).keys == ana.open_circle(net.cid).keys
    assert set(epoch_keys(state, cara.profile.identity)) == set(state.epoch_order)
    cara.receive_bundle(sealed_at_first)  # opens with a key cara got only through the chain
    assert net.bodies(cara) == ["at the first epoch"]


def test_a_device_offline_during_rotations_catches_up(net: Net) -> None:
    ana, ben = net.profile("ana"), net.profile("ben")
    net.cid = ana.create_circle("Walkers")
    net.join(ana, ben)
    ana.rotate_key(net.cid)
    ana.rotate_key(net.cid)
    ana.post(net.cid, "while ben was away")
    assert len(ben.open_circle(net.cid).keys) == 1
    net.send(ana, ben)
    assert ben.open_circle(net.cid).keys == ana.open_circle(net.cid).keys
    assert len(ben.open_circle(net.cid).keys) == 3
    assert net.bodies(ben) == ["while ben was away"]
    ana.post(net.cid, "for anyone with the key")
    ben.receive_bundle(ana.bundle_for(net.cid, None))
    assert net.bodies(ben)[-1] == "for anyone with the key"


def test_a_member_links_a_second_device_that_speaks_as_the_same_member(net: Net) -> None:
    """One person, two devices: the link code admits the new device as the same
    member; its posts are theirs, and removing the member cuts off both devices."""
    ana, ben, ben_laptop = net.profile("ana"), net.profile("ben"), net.profile("ben-laptop")
    net.cid = ana.create_circle("Walkers")
    net.join(ana, ben)
    link = ben.invite(net.cid, device=True)
    ben_laptop.accept_welcome(link, ben.admit_request(ben_laptop.join_request(link)))
    ben_id = ben.whoami().member_id
    assert ben_laptop.open_circle(net.cid).my_member_id == ben_id
    post = ben_laptop.post(net.cid, "from my laptop")
    net.send(ben_laptop, ben)
    net.send(ben, ana)
    assert {p.id: p.author_id for p in ana.feed(net.cid)}[post.id] == ben_id
    assert [m.id for m in ana.members(net.cid)].count(ben_id) == 1
    # A second use of the link code, or using it for someone else, is refused.
    stranger = net.profile("stranger")
    with pytest.raises(NotAllowed):
        ben.admit_request(stranger.join_request(link))
    ana.remove(net.cid, ben_id)
    state = ana.open_circle(net.cid).state
    assert not any(d.active for d in state.devices.values() if d.member == ben_id)


def test_only_a_members_own_device_may_make_a_link_code_for_them(people) -> None:
    """The link invite records its maker as the member; an admit naming anyone
    else through it does not count."""
    a, b, c, *_ = people
    log = Log(a)
    inv = log.invite(a)
    log.admit(a, b, inv)
    link = log.act(b, "link_invite", {"invite": "ab" * 8, "key": "00" * 32, "expires": FAR})
    state = log.state()
    assert state.invites["ab" * 8].for_member == b.device_id
    assert log.verdict(link, state) == (True, "")
