"""Every peer computes the same governance state from the same set of actions.

Hypothesis generates histories across four devices: invites and admissions,
role changes, removals, leaves, rotations, moderation, private notes under
one-time keys, warnings, folding and dismissing reported posts, the report
policy, guidelines and their acceptance, with devices acting on stale views
(only partly synced, or deliberately signing against old parents), so the log
is full of concurrent branches and of actions the rules refuse.
The union of everything signed is then delivered to `resolve` in many orders,
with duplicates and another circle's actions mixed in, and as a subset first
then the rest: the log order, every verdict and the whole resulting state must
be identical every time.

Keys and signatures are real. Identities, invite secrets and epoch ids are
derived from fixed seeds so a failing example replays exactly; lockbox and
key-wrap values, like the boxes of sealed notes, are fixed placeholders because
the resolver never opens them (keyring and note tests open real ones).

CIRCLE_GOVERNANCE_EXAMPLES raises the number of examples (default 200).
"""

from __future__ import annotations

import hashlib
import os
import random

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from circle.crypto.identity import DeviceIdentity, actor_id_for
from circle.crypto.invite_code import invite_key
from circle.domain.governance.actions import ROLES, Action, admit_proof_message, sign_action
from circle.domain.governance.resolver import resolve
from circle.domain.governance.state import GovernanceState

EXAMPLES = int(os.environ.get("CIRCLE_GOVERNANCE_EXAMPLES", "200"))
T0 = 1_700_000_000_000
FAR = 4_000_000_000
POSTS = ("p0", "p1", "p2")
GUIDELINES = ("Listen first.", "Be kind.", "What is said here stays here.", "")


def _h(*parts: object) -> bytes:
    return hashlib.sha256("/".join(map(str, parts)).encode()).digest()


def _identity(seed: str) -> DeviceIdentity:
    return DeviceIdentity.from_secret_bytes(_h(seed, "sign") + _h(seed, "dh"))


DEVICES = [_identity(f"device-{i}") for i in range(4)]
OUTSIDER = _identity("outsider")


def _device(identity: DeviceIdentity) -> dict:
    return {"sign": identity.public.sign_pub.hex(), "dh": identity.public.dh_pub.hex()}


def _genesis(founder: DeviceIdentity, nonce: str) -> Action:
    return sign_action(founder, None, "create", [], T0, {"name": "Walkers", "nonce": nonce, "device": _device(founder)})


GENESIS = _genesis(DEVICES[0], "00" * 16)
CID = GENESIS.id[:32]
_OTHER = _genesis(OUTSIDER, "11" * 16)
FOREIGN = [_OTHER, sign_action(OUTSIDER, _OTHER.id[:32], "set_guidelines", [_OTHER.id], T0 + 1, {"text": "other"})]


class History:
    """Four devices, each with the actions it has seen, signing on its own view."""

    def __init__(self) -> None:
        self.known: list[dict[str, Action]] = [{GENESIS.id: GENESIS}, {}, {}, {}]
        self.order: list[list[str]] = [[GENESIS.id], [], [], []]  # arrival order, for backdating
        self.t = T0
        self.count = 0
        self.invites: list[tuple[str, bytes]] = []
        self.notes: list[str] = []  # every sealed note and warning signed, seen or not
        self.guidelines: list[str] = []  # every set_guidelines signed, seen or not

    def learn(self, dev: int, actions) -> None:
        for action in actions:
            if action.id not in self.known[dev]:
                self.known[dev][action.id] = action
                self.order[dev].append(action.id)

    def state(self, dev: int) -> GovernanceState:
        return resolve(CID, self.known[dev].values())

    def sign(self, dev: int, kind: str, body: dict, back: int, signer: DeviceIdentity | None = None) -> Action | None:
        """`dev` signs on its own view (as `signer`, if given: a one-time key)."""
        known = self.known[dev]
        if not known:
            return None  # has never seen the circle
        if back:
            parents = [self.order[dev][-1 - back % len(self.order[dev])]]
        else:
            has_child = {p for a in known.values() for p in a.parents}
            parents = [a for a in known if a not in has_child]
        self.t += 1000
        action = sign_action(signer or DEVICES[dev], CID, kind, parents, self.t, body)
        self.learn(dev, [action])
        return action

    def fresh(self, what: str) -> str:
        self.count += 1
        return _h(what, self.count).hex()

    # -- steps ---------------------------------------------------------------------

    def step(self, step: tuple) -> None:
        kind, dev, *args, back = step
        if kind == "sync":
            self.learn(args[0], list(self.known[dev].values()))
            return
        getattr(self, "_" + kind)(dev, back, *args)

    def _invite(self, dev: int, back: int, uses: int, short: bool) -> None:
        invite_id = self.fresh("invite")[:16]
        secret = _h("secret", invite_id)
        public = invite_key(secret, CID, invite_id).public_key().public_bytes_raw()
        expires = self.t // 1000 + 4 if short else FAR
        if self.sign(dev, "invite", {"invite": invite_id, "key": public.hex(), "uses": uses, "expires": expires},
                     back):
            self.invites.append((invite_id, secret))

    def _admit(self, dev: int, back: int, newcomer: int, which: int) -> None:
        if not self.invites or not self.known[dev]:
            return
        invite_id, secret = self.invites[which % len(self.invites)]
        device = _device(DEVICES[newcomer])
        proof = invite_key(secret, CID, invite_id).sign(admit_proof_message(CID, invite_id, device))
        epoch = self.state(dev).write_epoch
        lockboxes = {epoch: _h("admit-box", epoch, newcomer).hex()} if epoch else {}
        admit = self.sign(dev, "admit", {"invite": invite_id, "member": DEVICES[newcomer].device_id,
                                          "device": device, "proof": proof.hex(), "lockboxes": lockboxes}, back)
        if admit:
            self.learn(newcomer, list(self.known[dev].values()))  # the welcome

    def _rejoin(self, dev: int, back: int, target: int, which: int) -> None:
        """`target` leaves, `dev` hears of it and admits them again."""
        self._leave(target, 0)
        self.learn(dev, list(self.known[target].values()))
        self._admit(dev, back, target, which)

    def _readmit(self, dev: int, back: int, target: int) -> None:
        """`dev` makes a code to bring `target` back after a removal, and admits them with it."""
        if not self.known[dev]:
            return
        invite_id = self.fresh("readmit")[:16]
        secret = _h("secret", invite_id)
        public = invite_key(secret, CID, invite_id).public_key().public_bytes_raw()
        body = {"invite": invite_id, "key": public.hex(), "member": DEVICES[target].device_id, "expires": FAR}
        if self.sign(dev, "readmit_invite", body, back):
            self.invites.append((invite_id, secret))
            self._admit(dev, 0, target, len(self.invites) - 1)

    def _role(self, dev: int, back: int, target: int, role: str) -> None:
        self.sign(dev, "set_role", {"member": DEVICES[target].device_id, "role": role}, back)

    def _remove(self, dev: int, back: int, target: int, cutoff: int) -> None:
        if not self.known[dev]:
            return
        incarnation = getattr(self.state(dev).devices.get(DEVICES[target].device_id), "incarnation", 0)
        actor = actor_id_for(CID, DEVICES[target].public.sign_pub, incarnation).hex()
        self.sign(dev, "remove", {"member": DEVICES[target].device_id, "cutoffs": {actor: cutoff}, "reason": ""}, back)

    def _leave(self, dev: int, back: int) -> None:
        self.sign(dev, "leave", {"cutoffs": {}}, back)

    def _rotate(self, dev: int, back: int) -> None:
        if not self.known[dev]:
            return
        state = self.state(dev)
        epoch = self.fresh("epoch")[:32]
        wrapped = {old for e in state.epochs.values() for old in e.wraps}
        body = {
            "epoch": epoch,
            "lockboxes": {d.id: _h("box", epoch, d.id).hex() for d in state.active_devices()},
            "wraps": {old: _h("wrap", epoch, old).hex() for old in state.epoch_order if old not in wrapped},
        }
        self.sign(dev, "rotate", body, back)

    def _hide(self, dev: int, back: int, post: int) -> None:
        self.sign(dev, "hide", {"post": POSTS[post], "reason": "off topic"}, back)

    def _unhide(self, dev: int, back: int, post: int) -> None:
        self.sign(dev, "unhide", {"post": POSTS[post]}, back)

    def _mute(self, dev: int, back: int, target: int) -> None:
        self.sign(dev, "mute", {"member": DEVICES[target].device_id, "until": self.t + 3_600_000, "reason": ""}, back)

    def _revoke(self, dev: int, back: int, which: int) -> None:
        if self.invites:
            self.sign(dev, "revoke_invite", {"invite": self.invites[which % len(self.invites)][0]}, back)

    def _guidelines(self, dev: int, back: int, which: int) -> None:
        action = self.sign(dev, "set_guidelines", {"text": GUIDELINES[which] or "Be gentle."}, back)
        if action:
            self.guidelines.append(action.id)

    def _seen_or_not(self, dev: int, ids: list[str], which: int, seen: bool) -> str | None:
        """One of `ids`: among those `dev` has seen, or among all of them."""
        pool = [i for i in ids if i in self.known[dev]] if seen else ids
        return pool[which % len(pool)] if pool else None

    def _accept(self, dev: int, back: int, which: int, seen: bool) -> None:
        version = self._seen_or_not(dev, self.guidelines, which, seen)
        if version:
            self.sign(dev, "accept_guidelines", {"version": version}, back)

    def _sealed_body(self) -> dict:
        n = self.fresh("note")
        return {"boxes": [_h("box", n).hex(), _h("decoy", n).hex()], "content": _h("content", n).hex()}

    def _note(self, dev: int, back: int) -> None:
        """A report or reach-out: signed by a one-time key, on `dev`'s view."""
        action = self.sign(dev, "sealed", self._sealed_body(), back, signer=_identity(self.fresh("envelope")))
        if action:
            self.notes.append(action.id)

    def _warn(self, dev: int, back: int) -> None:
        action = self.sign(dev, "warn", self._sealed_body(), back)
        if action:
            self.notes.append(action.id)

    def _collapse(self, dev: int, back: int, post: int, which: int) -> None:
        """Fold on the notes this device has seen (or one it has not: refused everywhere)."""
        picked = self._seen_or_not(dev, self.notes, which, which % 2 == 0)
        if picked:
            self.sign(dev, "collapse", {"post": POSTS[post], "reports": [picked]}, back)

    def _dismiss(self, dev: int, back: int, post: int, which: int, seen: bool) -> None:
        picked = self._seen_or_not(dev, self.notes, which, seen)
        if picked:
            reports = sorted({picked, self._seen_or_not(dev, self.notes, which + 1, seen)})
            self.sign(dev, "dismiss", {"post": POSTS[post], "reports": reports, "reason": ""}, back)

    def _policy(self, dev: int, back: int, after: int) -> None:
        self.sign(dev, "set_policy", {"collapse_after": after}, back)

    def everything(self) -> list[Action]:
        union: dict[str, Action] = {}
        for known in self.known:
            union.update(known)
        return sorted(union.values(), key=lambda a: a.id)


def prelude(history: History, level: int) -> None:
    """0: the founder alone; 1: everyone admitted; 2: also a second organizer and a moderator."""
    if level == 0:
        return
    history.step(("invite", 0, 10, False, 0))
    for newcomer in (1, 2, 3):
        history.step(("admit", 0, newcomer, 0, 0))
    if level == 2:
        history.step(("role", 0, 1, "organizer", 0))
        history.step(("role", 0, 2, "moderator", 0))
    for dev in (1, 2, 3):
        history.step(("sync", 0, dev, 0))


dev = st.integers(0, 3)
back = st.sampled_from([0, 0, 0, 0, 0, 1, 2, 4, 9])  # mostly current heads, sometimes an old point
steps = st.one_of(
    st.tuples(st.just("sync"), dev, dev, st.just(0)),
    st.tuples(st.just("sync"), dev, dev, st.just(0)),
    st.tuples(st.just("invite"), dev, st.integers(1, 2), st.booleans(), back),
    st.tuples(st.just("admit"), dev, dev, st.integers(0, 5), back),
    st.tuples(st.just("rejoin"), dev, dev, st.integers(0, 5), back),
    st.tuples(st.just("readmit"), dev, dev, back),
    st.tuples(st.just("role"), dev, dev, st.sampled_from(ROLES), back),
    st.tuples(st.just("remove"), dev, dev, st.integers(0, 40), back),
    st.tuples(st.just("leave"), dev, back),
    st.tuples(st.just("rotate"), dev, back),
    st.tuples(st.just("hide"), dev, st.integers(0, 2), back),
    st.tuples(st.just("unhide"), dev, st.integers(0, 2), back),
    st.tuples(st.just("mute"), dev, dev, back),
    st.tuples(st.just("revoke"), dev, st.integers(0, 5), back),
    st.tuples(st.just("guidelines"), dev, st.integers(0, 3), back),
    st.tuples(st.just("guidelines"), dev, st.integers(0, 3), back),  # twice: acceptances need something to accept
    st.tuples(st.just("accept"), dev, st.integers(0, 5), st.sampled_from([True, True, False]), back),
    st.tuples(st.just("accept"), dev, st.integers(0, 5), st.sampled_from([True, True, False]), back),
    st.tuples(st.just("note"), dev, back),
    st.tuples(st.just("note"), dev, back),
    st.tuples(st.just("warn"), dev, back),
    st.tuples(st.just("collapse"), dev, st.integers(0, 2), st.integers(1, 4), back),
    st.tuples(st.just("dismiss"), dev, st.integers(0, 2), st.integers(0, 9), st.sampled_from([True, True, False]),
              back),
    st.tuples(st.just("policy"), dev, st.sampled_from([0, 1, 2, 3, 100]), back),
)
histories = st.tuples(st.sampled_from([2, 2, 2, 1, 0]), st.lists(steps, min_size=3, max_size=30))


def snapshot(state: GovernanceState) -> dict:
    """The whole state, comparable."""
    return {
        "log": [(e.action.id, e.valid, e.reason) for e in state.log],
        "members": {m.id: (m.role, m.status, m.rank, m.ended_by) for m in state.members.values()},
        "devices": {d.id: (d.member, d.active, d.incarnation, d.admitted_by) for d in state.devices.values()},
        "invites": {i.id: (i.uses, i.expires, i.used, i.revoked, i.created_by, i.closed_by, i.readmit)
                    for i in state.invites.values()},
        "epochs": [(e, state.epochs[e].action, sorted(state.epochs[e].lockboxes), sorted(state.epochs[e].wraps))
                   for e in state.epoch_order],
        "extra_lockboxes": sorted(state.extra_lockboxes),
        "cutoffs": sorted(state.cutoffs.items()),
        "hidden": {p: (h.reason, h.by, h.at) for p, h in state.hidden.items()},
        "mutes": dict(state.mutes),
        "guidelines": (state.guidelines, state.guidelines_version, state.guidelines_id,
                       tuple(state.guidelines_history)),
        "accepted": dict(state.accepted),
        "collapsed": {p: (c.reports, c.by, c.at) for p, c in state.collapsed.items()},
        "collapse_after": state.collapse_after,
        "notes": list(state.notes),
        "dismissed": dict(state.dismissed),
        "resources": state.resources,
        "heads": state.heads,
        "pending": state.pending,
        "write_epoch": state.write_epoch,
        "needs_rekey": state.needs_rekey,
        "next_rank": state.next_rank,
    }


def check_invariants(state: GovernanceState) -> None:
    active = state.active_members()
    if active:
        assert state.organizers(), "active members but no organizer"
    ranks = [m.rank for m in active]
    assert len(ranks) == len(set(ranks)), "two active members share a seniority rank"
    for invite in state.invites.values():
        assert invite.used <= invite.uses, "an invite was used more often than allowed"
    if state.write_epoch is not None:
        assert state.holders(state.write_epoch) <= {d.id for d in state.active_devices()}, \
            "new content would be sealed with a key a departed device holds"
    for device in state.devices.values():
        if device.active:
            assert state.members[device.member].status == "active"
    status: dict[str, str] = {}
    for entry in (e for e in state.log if e.valid):
        body = entry.action.body
        if entry.action.kind == "remove":
            status[body["member"]] = "removed"
        elif entry.action.kind == "admit":
            if status.get(body["member"]) == "removed":
                assert state.invites[body["invite"]].readmit == body["member"], \
                    "a removed member came back without a readmit invite made for them"
            status[body["member"]] = "active"
    counted_notes = [e.action.id for e in state.log if e.valid and e.action.kind in ("sealed", "warn")]
    assert state.notes == counted_notes, "notes are exactly the counted sealed notes and warnings, in log order"
    assert set(state.dismissed) <= set(state.notes), "a dismissed report that is not a note"
    assert not set(state.collapsed) & set(state.hidden), "a post both folded for review and hidden"
    assert 0 <= state.collapse_after <= 100
    assert state.guidelines_id == (state.guidelines_history[-1] if state.guidelines_history else None)
    assert set(state.accepted.values()) <= set(state.guidelines_history), "accepted guidelines never in force"
    assert set(state.accepted) <= set(state.members)


def build(program) -> History:
    level, program_steps = program
    history = History()
    prelude(history, level)
    for step in program_steps:
        history.step(step)
    return history


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories, st.randoms(use_true_random=False), st.data())
def test_any_delivery_order_gives_the_same_log_and_state(program, rng: random.Random, data) -> None:
    history = build(program)
    actions = history.everything()
    state = resolve(CID, actions)
    expected = snapshot(state)
    assert expected["pending"] == ()  # the union is causally closed
    check_invariants(state)
    for entry in state.log:  # what the history exercised (pytest --hypothesis-show-statistics)
        event(f"{entry.action.kind} {'counted' if entry.valid else 'refused'}")
    if any(d.incarnation for d in state.devices.values()):
        event("a device was re-admitted")
    if state.needs_rekey:
        event("needs rekey")

    orders = [list(reversed(actions)), data.draw(st.permutations(actions), label="order")]
    for _ in range(3):
        shuffled = actions + FOREIGN + rng.sample(actions, k=min(5, len(actions)))  # duplicates, another circle
        rng.shuffle(shuffled)
        orders.append(shuffled)
    for order in orders:
        assert snapshot(resolve(CID, order)) == expected


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories, st.randoms(use_true_random=False))
def test_a_subset_first_then_the_rest_converges_and_only_incomplete_actions_wait(program, rng: random.Random) -> None:
    history = build(program)
    actions = history.everything()
    expected = snapshot(resolve(CID, actions))
    subset = [a for a in actions if rng.random() < 0.5]
    rest = [a for a in actions if a not in subset]
    partial = resolve(CID, subset)
    present = {a.id for a in subset}
    by_id = {a.id: a for a in actions}

    def complete(action: Action) -> bool:
        stack, seen = [action.id], set()
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            if current not in present:
                return False
            seen.add(current)
            stack.extend(by_id[current].parents)
        return True

    assert set(partial.pending) == {a.id for a in subset if not complete(a)}
    assert {e.action.id for e in partial.log} == {a.id for a in subset if complete(a)}
    check_invariants(partial)
    rng.shuffle(rest)
    assert snapshot(resolve(CID, subset + rest)) == expected
    assert snapshot(resolve(CID, rest + subset)) == expected


@settings(max_examples=max(EXAMPLES // 2, 20), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories, st.randoms(use_true_random=False))
def test_every_device_agrees_with_itself_and_devices_with_the_same_actions_agree(program, rng) -> None:
    history = build(program)
    for dev in range(4):
        known = list(history.known[dev].values())
        if not known:
            continue
        shuffled = list(known)
        rng.shuffle(shuffled)
        state = resolve(CID, known)
        assert snapshot(resolve(CID, shuffled)) == snapshot(state)
        check_invariants(state)
    # after everyone syncs with everyone, all four devices compute one state
    everything = history.everything()
    for dev in range(4):
        history.learn(dev, everything)
    states = {repr(snapshot(history.state(dev))) for dev in range(4)}
    assert len(states) == 1
