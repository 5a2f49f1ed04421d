"""Governance actions fed arbitrary and near-valid input (hypothesis).

(a) Arbitrary bytes into decode_action raise only ActionError.
(b) Valid signed actions of every kind, their bodies mutated (fields dropped or
    added, values replaced by wrong types, odd or mis-sized hex, huge or
    negative numbers, nested junk, lone surrogates, long strings) and signed
    again with a real key: decode_action either raises ActionError, or the
    action can be applied to a real circle (a genesis, a key rotation, two
    joins, a report...) and everything that later reads the state works: the
    resolver refuses only through its own mechanism (the entry marked
    invalid), and key recovery, a new rotation, a join's lockboxes, the
    moderation log, invite listings and private notes all run.
(c) The same, deterministically: every field of every kind set in turn to each
    of a list of boundary values (odd hex, small-order keys, dates past 9999...).

Identities and the circle are fixed, so failures replay. Examples are kept
modest so the suite stays fast; CIRCLE_FUZZ=1 runs many more.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from circle import export
from circle.crypto.identity import DeviceIdentity
from circle.crypto.invite_code import invite_key
from circle.domain.document import from_millis
from circle.domain.governance.actions import KINDS, Action, ActionError, admit_proof_message, canonical, \
    decode_action, sign_action
from circle.domain.governance.keyring import admission_lockboxes, epoch_keys, rotation_body
from circle.domain.governance.modlog import moderation_log
from circle.domain.governance.notes import NoteError, open_note, seal_note
from circle.domain.governance.resolver import resolve
from circle.domain.governance.resources import resource_id
from circle.service.membership import InviteInfo, describe_expiry

HEAVY = os.environ.get("CIRCLE_FUZZ") == "1"
FUZZ = settings(max_examples=5000 if HEAVY else 200, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
NOW = datetime(2024, 6, 1, tzinfo=timezone.utc)


def _identity(seed: str) -> DeviceIdentity:
    h = lambda part: hashlib.sha256(f"gov-fuzz/{seed}/{part}".encode()).digest()
    return DeviceIdentity.from_secret_bytes(h("sign") + h("dh"))


ORG, MOD, MEMBER, NEWCOMER, ENVELOPE, GONE = (
    _identity(s) for s in ("org", "mod", "member", "newcomer", "envelope", "gone"))
EVERYONE = (ORG, MOD, MEMBER, NEWCOMER)
POST = "0123456789abcdef"
FAR = 4_000_000_000  # Unix seconds (2096)


def _device(identity: DeviceIdentity) -> dict:
    return {"sign": identity.public.sign_pub.hex(), "dh": identity.public.dh_pub.hex()}


class Circle:
    """A real governance log: genesis, first key, a moderator and a member who
    joined by invite, a removed member, a report, guidelines, a resource, a hidden post."""

    def __init__(self) -> None:
        self.t = 1_700_000_000_000
        self.genesis = sign_action(ORG, None, "create", [], self.tick(),
                                   {"name": "Walkers", "nonce": "00" * 16, "device": _device(ORG)})
        self.cid = self.genesis.id[:32]
        self.actions: dict[str, Action] = {self.genesis.id: self.genesis}
        self.secrets: dict[str, bytes] = {}
        self.act(ORG, "rotate", rotation_body(self.state(), {})[0])
        self.invite = self.new_invite()
        for who, role in ((MOD, "moderator"), (MEMBER, None)):
            self.act(ORG, "admit", self.admit_body(who, self.invite))
            if role:
                self.act(ORG, "set_role", {"member": who.device_id, "role": role})
        self.act(ORG, "admit", self.admit_body(GONE, self.invite))
        self.act(ORG, "remove", {"member": GONE.device_id, "cutoffs": {}, "reason": "gone"})
        self.act(ORG, "rotate", rotation_body(self.state(), epoch_keys(self.state(), ORG))[0])
        state = self.state()
        mods = [d.dh_pub for d in state.active_devices() if state.role_of(d.member) != "member"]
        note = seal_note(MEMBER, self.cid, ENVELOPE.public.sign_pub.hex(), "report", self.tick(),
                         {"post": POST, "reason": "unkind", "body": "words", "heads": []}, mods)
        self.report = self.act(ENVELOPE, "sealed", note).id
        self.guidelines = self.act(ORG, "set_guidelines", {"text": "be kind"}).id
        self.resource = resource_id(self.act(ORG, "add_resource", {
            "name": "Line", "contact": "555", "region": "", "hours": ""}).id)
        self.act(MOD, "hide", {"post": POST + "00", "reason": "spam"})
        self.spare_invite = self.new_invite()

    def tick(self) -> int:
        self.t += 1000
        return self.t

    def heads(self) -> list[str]:
        named = {p for a in self.actions.values() for p in a.parents}
        return sorted(a for a in self.actions if a not in named)

    def state(self, extra: list[Action] = ()):
        return resolve(self.cid, [*self.actions.values(), *extra])

    def act(self, who: DeviceIdentity, kind: str, body: dict) -> Action:
        action = sign_action(who, self.cid, kind, self.heads(), self.tick(), body)
        self.actions[action.id] = action
        return action

    def new_invite(self) -> str:
        invite_id = hashlib.sha256(f"{self.cid}/{len(self.secrets)}".encode()).hexdigest()[:16]
        self.secrets[invite_id] = hashlib.sha256(invite_id.encode()).digest()
        public = invite_key(self.secrets[invite_id], self.cid, invite_id).public_key().public_bytes_raw()
        self.act(ORG, "invite", {"invite": invite_id, "key": public.hex(), "uses": 10, "expires": FAR})
        return invite_id

    def admit_body(self, who: DeviceIdentity, invite_id: str) -> dict:
        state = self.state()
        keys = epoch_keys(state, ORG)
        body = {"invite": invite_id, "member": who.device_id, "device": _device(who), "proof": "",
                "lockboxes": admission_lockboxes(state, keys, who.device_id, who.public.dh_pub)}
        return self.prove(body)

    def prove(self, body: dict) -> dict:
        """Sign the admission proof again over whatever device the body now names."""
        invite = body.get("invite")
        secret = self.secrets.get(invite) if isinstance(invite, str) else None
        if secret is not None and "proof" in body and isinstance(body.get("device"), dict):
            device = body["device"]
            try:
                message = admit_proof_message(self.cid, body["invite"], {k: device.get(k) for k in ("sign", "dh")})
            except UnicodeEncodeError:  # a lone surrogate: no proof can name it
                return body
            body["proof"] = invite_key(secret, self.cid, body["invite"]).sign(message).hex()
        return body


CIRCLE = Circle()
BASE = CIRCLE.state()


def _templates() -> dict[str, tuple[DeviceIdentity, dict]]:
    """A valid body of every kind, with the device that may sign it."""
    c, keys = CIRCLE, epoch_keys(BASE, ORG)
    warn = seal_note(MOD, c.cid, MOD.public.sign_pub.hex(), "warn", c.t,
                     {"member": MEMBER.device_id, "reason": "gentler"}, [MEMBER.public.dh_pub, MOD.public.dh_pub])
    reach = seal_note(MEMBER, c.cid, ENVELOPE.public.sign_pub.hex(), "reach_out", c.t,
                      {"note": "call?", "to": [MOD.device_id]}, [MOD.public.dh_pub])
    resource = {"name": "Line", "contact": "556", "region": "north", "hours": "24/7"}
    out = {
        "create": (ORG, {"name": "Walkers", "nonce": "11" * 16, "device": _device(ORG)}),
        "invite": (ORG, {"invite": "12" * 8, "key": "34" * 32, "uses": 2, "expires": FAR}),
        "link_invite": (MEMBER, {"invite": "13" * 8, "key": "35" * 32, "expires": FAR}),
        "readmit_invite": (ORG, {"invite": "14" * 8, "key": "36" * 32, "member": GONE.device_id, "expires": FAR}),
        "revoke_invite": (ORG, {"invite": c.invite}),
        "admit": (MEMBER, c.admit_body(NEWCOMER, c.spare_invite)),
        "set_role": (ORG, {"member": MEMBER.device_id, "role": "moderator"}),
        "remove": (ORG, {"member": MEMBER.device_id, "cutoffs": {MEMBER.actor_id(c.cid).hex(): 3}, "reason": "r"}),
        "leave": (MEMBER, {"cutoffs": {}}),
        "rotate": (ORG, rotation_body(BASE, keys, exclude_devices={MEMBER.device_id})[0]),
        "set_guidelines": (ORG, {"text": "be kinder"}),
        "set_resources": (ORG, {"resources": [resource, resource]}),
        "hide": (MOD, {"post": POST, "reason": "unkind"}),
        "unhide": (MOD, {"post": POST + "00"}),
        "mute": (MOD, {"member": MEMBER.device_id, "until": c.t + 10**6, "reason": "cool off"}),
        "sealed": (ENVELOPE, reach),
        "warn": (MOD, warn),
        "collapse": (MOD, {"post": POST, "reports": [c.report]}),
        "dismiss": (MOD, {"post": POST, "reports": [c.report], "reason": ""}),
        "set_policy": (ORG, {"collapse_after": 2}),
        "set_relays": (ORG, {"relays": [{"address": "relay.example:7700", "key": "ab" * 32}]}),
        "set_quiet_after": (ORG, {"hours": 6}),
        "accept_guidelines": (MEMBER, {"version": c.guidelines}),
        "add_resource": (ORG, resource),
        "edit_resource": (ORG, {"resource": c.resource, **resource}),
        "remove_resource": (ORG, {"resource": c.resource}),
    }
    assert set(out) == set(KINDS), "every kind has a template"
    return out


TEMPLATES = _templates()


def _wire(identity: DeviceIdentity, kind: str, body: dict) -> bytes:
    payload = {"v": 1, "circle": None if kind == "create" else CIRCLE.cid, "kind": kind,
               "author": identity.public.sign_pub.hex(), "parents": [] if kind == "create" else CIRCLE.heads(),
               "at": CIRCLE.t + 5000, "body": body}
    try:
        raw = canonical(payload)
    except UnicodeEncodeError:  # a lone surrogate: send it escaped, as JSON allows
        raw = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return identity.sign(raw) + raw


# -- values to put where a field was ------------------------------------------------------

HEX = "0123456789abcdef"
SMALL_ORDER_KEYS = ["00" * 32, "01" + "00" * 31, "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"]
hexes = st.one_of(
    st.sampled_from([16, 32, 64, 128, 160]).flatmap(lambda n: st.text(HEX, min_size=n, max_size=n)),
    st.integers(0, 200).flatmap(lambda n: st.text(HEX, min_size=n, max_size=n)),
    st.text(HEX, min_size=1, max_size=40).map(str.upper),
    st.sampled_from([*SMALL_ORDER_KEYS, "abc", "ab" * 257, "ab" * 81, CIRCLE.report, CIRCLE.guidelines,
                     CIRCLE.resource, MEMBER.device_id, MOD.device_id, ORG.device_id, NEWCOMER.device_id,
                     *BASE.epochs, CIRCLE.invite]),
)
surrogates = st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3)
texts = st.one_of(st.text(max_size=30), surrogates, st.tuples(st.text(max_size=5), surrogates).map("".join),
                  st.sampled_from(["", " ", "\x00", "\x1b]52;c;x\x07", "x" * 65, "x" * 501, "x" * 20_001]))
numbers = st.one_of(st.integers(-10, 2000), st.integers(-2**64, 2**64), st.integers(min_value=2**53 - 2),
                    st.sampled_from([2**53, 2**53 + 1, 253_402_300_799, 253_402_300_800, 10**300]),
                    st.floats(allow_nan=True, allow_infinity=True))
leaves = st.one_of(st.none(), st.booleans(), numbers, texts, hexes)
junk = st.recursive(leaves, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.one_of(texts, hexes), inner, max_size=4), max_leaves=8)
keys = st.one_of(hexes, texts, st.sampled_from(["name", "member", "sign", "dh", "epoch", "reports"]))


def _mutate(data, value):
    """`value` with one change somewhere inside it."""
    if isinstance(value, dict):
        op = data.draw(st.sampled_from(["drop", "add", "replace", "descend"] if value else ["add"]))
        out = dict(value)
        if op == "add":
            out[data.draw(keys)] = data.draw(junk)
            return out
        key = data.draw(st.sampled_from(sorted(value)))
        if op == "drop":
            del out[key]
        else:
            out[key] = data.draw(junk) if op == "replace" else _mutate(data, value[key])
        return out
    if isinstance(value, list):
        op = data.draw(st.sampled_from(["drop", "add", "twice", "replace", "descend"] if value else ["add"]))
        out = list(value)
        if op == "add":
            out.append(data.draw(junk))
            return out
        i = data.draw(st.integers(0, len(value) - 1))
        if op == "drop":
            del out[i]
        elif op == "twice":
            out.append(out[i])
        else:
            out[i] = data.draw(junk) if op == "replace" else _mutate(data, value[i])
        return out
    return data.draw(st.one_of(junk, hexes, texts, numbers))


# -- everything that later reads the state --------------------------------------------------

def _read_everything(state, action: Action) -> None:
    assert [e.action.id for e in state.log].count(action.id) == 1, "applied once, valid or not"
    actions = {e.action.id: e.action for e in state.log}
    keys = {}
    for who in EVERYONE:
        keys[who.device_id] = epoch_keys(state, who)
    moderation_log(state, actions, {}, {}, {})
    state.write_epoch, state.needs_rekey, state.parents(), state.actor_bindings()
    for epoch in state.epoch_order:
        state.holders(epoch)
    for member in state.members.values():
        state.must_accept_guidelines(member.id)
    for device in state.active_devices():
        if state.role_of(device.member) == "organizer" and device.id in keys:
            rotation_body(state, keys[device.id])  # seals to every active device
            admission_lockboxes(state, keys[device.id], "99" * 16, NEWCOMER.public.dh_pub)
    for invite in state.invites.values():
        info = InviteInfo.of(invite)
        describe_expiry(info.expires_at)
        export.invite_record(info, NOW)
    for since, until in state.mutes.values():
        from_millis(since), from_millis(until)
    for resource in state.resources:
        export.resource_record(resource, "circle")
    if action.kind in ("sealed", "warn"):
        for who in EVERYONE:
            try:
                open_note(who.dh_key, action)
            except NoteError:
                pass  # the notes' own refusal: the report queue and inbox skip it


def _apply(action: Action) -> None:
    if action.kind == "create":
        state = resolve(action.id[:32], [action])
    else:
        state = CIRCLE.state([action])
    _read_everything(state, action)


# -- (a) arbitrary bytes ---------------------------------------------------------------------

VALID_WIRE = _wire(ORG, "set_policy", {"collapse_after": 1})


@FUZZ
@given(st.one_of(
    st.binary(max_size=600),
    st.binary(max_size=200).map(lambda b: bytes(64) + b),
    st.tuples(st.integers(0, len(VALID_WIRE) - 1), st.integers(0, 255)).map(
        lambda t: VALID_WIRE[:t[0]] + bytes([t[1]]) + VALID_WIRE[t[0] + 1:]),
    st.integers(0, len(VALID_WIRE)).map(lambda n: VALID_WIRE[:n]),
))
def test_arbitrary_bytes_raise_only_action_error(wire: bytes) -> None:
    try:
        decode_action(wire)
    except ActionError:
        pass


# -- (b) valid actions of every kind, mutated and signed again --------------------------------

def test_every_template_is_valid_where_it_stands() -> None:
    """So mutations start from actions the resolver would accept."""
    for kind, (who, body) in TEMPLATES.items():
        action = decode_action(_wire(who, kind, copy.deepcopy(body)))
        state = resolve(action.id[:32], [action]) if kind == "create" else CIRCLE.state([action])
        [entry] = [e for e in state.log if e.action.id == action.id]
        assert entry.valid, (kind, entry.reason)
        _read_everything(state, action)


@FUZZ
@given(st.sampled_from(sorted(TEMPLATES)), st.integers(1, 3), st.data())
def test_a_mutated_action_is_refused_at_decode_or_breaks_nothing(kind: str, changes: int, data) -> None:
    who, body = TEMPLATES[kind]
    body = copy.deepcopy(body)
    for _ in range(changes):
        body = _mutate(data, body)
    if kind == "admit" and isinstance(body, dict):
        body = CIRCLE.prove(body)  # so a changed device is checked past its proof
    try:
        action = decode_action(_wire(who, kind, body))
    except ActionError:
        return
    _apply(action)


# -- (c) every field of every kind, set to each boundary value in turn ------------------------

BOUNDARY = [None, True, 0, -1, 1.5, 2**53 + 1, 253_402_300_800, 10**300, "", "abc", "ABCD", "ab" * 257,
            "x" * 20_001, "\ud800", [], {}, [None], {"a": 1}, *SMALL_ORDER_KEYS, CIRCLE.report,
            MEMBER.device_id, MOD.device_id]


def _leaves(value, path=()):
    """Every path to a scalar inside `value`, and to each list or map as a whole."""
    if isinstance(value, dict):
        yield path
        for key, inner in value.items():
            yield from _leaves(inner, (*path, key))
    elif isinstance(value, list):
        yield path
        for i, inner in enumerate(value):
            yield from _leaves(inner, (*path, i))
    else:
        yield path


def _replaced(value, path, new):
    if not path:
        return new
    out = copy.copy(value)
    out[path[0]] = _replaced(value[path[0]], path[1:], new)
    return out


def test_every_field_set_to_each_boundary_value_is_refused_or_breaks_nothing() -> None:
    for kind, (who, template) in sorted(TEMPLATES.items()):
        for path in _leaves(template):
            if not path:
                continue
            for new in BOUNDARY:
                body = _replaced(template, path, new)
                if kind == "admit":
                    body = CIRCLE.prove(copy.deepcopy(body))
                try:
                    action = decode_action(_wire(who, kind, body))
                except ActionError:
                    continue
                _apply(action)
