"""Private notes and the new action kinds, fed arbitrary and near-valid input.

Anyone in a circle can seal a note to anyone else (every device's X25519 key is
in the log), so what opens for us may be hostile: `open_for` may fail only with
NoteBoxError, `open_note` only with NoteError, `decode_action` only with
ActionError. Anything else would escape into the report queue, the inbox or
the moderation log of whoever the note was sealed to.

Identities and the circle are fixed; sealed boxes are fresh each run (HPKE is
randomized), and no property depends on their bytes, so failures replay.
"""

from __future__ import annotations

import hashlib
import json

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from circle.crypto.identity import DeviceIdentity
from circle.crypto.lockbox import seal_to
from circle.crypto.note_box import NoteBoxError, _box_info, open_for, seal_for
from circle.domain.document import MAX_MILLIS
from circle.domain.governance.actions import MAX_PARENTS, ActionError, canonical, decode_action, sign_action
from circle.domain.governance.notes import NOTE_KINDS, NoteError, _context, open_note, seal_note

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _identity(seed: str) -> DeviceIdentity:
    h = lambda part: hashlib.sha256(f"{seed}/{part}".encode()).digest()
    return DeviceIdentity.from_secret_bytes(h("sign") + h("dh"))


ME, SENDER, BYSTANDER, ENVELOPE = (_identity(s) for s in ("me", "sender", "bystander", "envelope"))
CID = "c1" * 16
PARENT = "ab" * 32
AT = 1_700_000_000_000
ENVELOPE_KEY = ENVELOPE.public.sign_pub.hex()
CONTEXT = _context(CID, ENVELOPE_KEY)
PLAINTEXT = b"a note only two devices may read"

REAL_BOXES, REAL_CONTENT = seal_for([ME.public.dh_pub, BYSTANDER.public.dh_pub], PLAINTEXT, CONTEXT)
[MY_BOX] = [box for box in REAL_BOXES if open_for(ME.dh_key, [box], REAL_CONTENT, CONTEXT) == PLAINTEXT]
# Boxes that open for ME but hold something other than a 32-byte key.
SHORT_KEY_BOX = seal_to(ME.public.dh_pub, b"short", _box_info(CONTEXT))
EMPTY_KEY_BOX = seal_to(ME.public.dh_pub, b"", _box_info(CONTEXT))

REPORT_BODY = {"post": "p" * 16, "reason": "unkind", "body": "what was said", "heads": ["0f" * 32]}
BODIES = {
    "report": REPORT_BODY,
    "reach_out": {"note": "call me?", "to": [ME.device_id]},
    "warn": {"member": ME.device_id, "reason": "please be gentler"},
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**60, 2**60) | st.floats(allow_nan=False) | st.text(max_size=20)
    | st.binary(min_size=16, max_size=32).map(bytes.hex),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)


def _flip(data: bytes, where: int, mask: int) -> bytes:
    if not data:
        return bytes([mask])
    i = where % len(data)
    return data[:i] + bytes([data[i] ^ mask]) + data[i + 1:]


def _mutated(data: bytes):
    """`data` with one byte flipped, cut short, or extended."""
    return st.one_of(
        st.tuples(st.integers(0, 2**16), st.integers(1, 255)).map(lambda t: _flip(data, *t)),
        st.integers(0, max(len(data) - 1, 0)).map(lambda n: data[:n]),
        st.binary(min_size=1, max_size=16).map(lambda extra: data + extra),
    )


# -- the box layer ----------------------------------------------------------------------


def _box():
    return st.one_of(
        st.binary(max_size=200),
        st.sampled_from(REAL_BOXES),
        st.sampled_from(REAL_BOXES).flatmap(_mutated),
        st.binary(max_size=64).map(lambda secret: seal_to(ME.public.dh_pub, secret, _box_info(CONTEXT))),
        st.binary(min_size=32, max_size=32).map(lambda key: seal_to(ME.public.dh_pub, key, _box_info(b"elsewhere"))),
    )


@FUZZ
@given(st.lists(_box(), max_size=6), st.one_of(st.just(REAL_CONTENT), _mutated(REAL_CONTENT), st.binary(max_size=80)))
@example([SHORT_KEY_BOX], REAL_CONTENT)
@example([EMPTY_KEY_BOX], REAL_CONTENT)
@example([MY_BOX, SHORT_KEY_BOX], b"")
@example([MY_BOX], REAL_CONTENT[:-1])
def test_open_for_returns_the_plaintext_or_none_or_raises_note_box_error(boxes, content):
    try:
        opened = open_for(ME.dh_key, boxes, content, CONTEXT)
    except NoteBoxError:
        return
    # Only the genuine key opens the genuine content, and ME's own box is never passed over.
    assert opened is None or opened == PLAINTEXT
    if opened is None:
        assert MY_BOX not in boxes


@FUZZ
@given(st.permutations(REAL_BOXES))
def test_an_intact_box_list_opens_for_each_recipient_and_for_no_one_else(boxes):
    for recipient in (ME, BYSTANDER):
        assert open_for(recipient.dh_key, boxes, REAL_CONTENT, CONTEXT) == PLAINTEXT
    assert open_for(SENDER.dh_key, boxes, REAL_CONTENT, CONTEXT) is None
    assert open_for(ME.dh_key, boxes, REAL_CONTENT, _context(CID, "00" * 32)) is None


# -- the note layer -------------------------------------------------------------------------


def _sealed_action(body: dict, kind: str = "sealed", author: DeviceIdentity = ENVELOPE):
    return sign_action(author, CID, kind, [PARENT], AT, body)


REAL_NOTE = seal_note(SENDER, CID, ENVELOPE_KEY, "report", AT, REPORT_BODY, [ME.public.dh_pub])


def _mutated_bodies():
    boxes, content = REAL_NOTE["boxes"], REAL_NOTE["content"]
    flip_hex = lambda text: _mutated(bytes.fromhex(text)).filter(bool).map(bytes.hex)
    random_hex = st.binary(min_size=1, max_size=300).map(bytes.hex)
    return st.one_of(
        st.builds(lambda c: {"boxes": boxes, "content": c}, flip_hex(content) | random_hex),
        st.integers(0, len(boxes) - 1).flatmap(lambda i: flip_hex(boxes[i]).map(
            lambda box: {"boxes": boxes[:i] + [box] + boxes[i + 1:], "content": content})),
        st.lists(random_hex, min_size=1, max_size=9).map(lambda bs: {"boxes": bs, "content": content}),
        st.permutations(boxes).map(lambda bs: {"boxes": bs[:1 + len(bs) // 2], "content": content}),
        st.fixed_dictionaries({"boxes": st.lists(random_hex, min_size=1, max_size=4), "content": random_hex}),
    )


@FUZZ
@given(_mutated_bodies())
@example({"boxes": [SHORT_KEY_BOX.hex()], "content": REAL_NOTE["content"]})
def test_open_note_on_mutated_envelopes_raises_only_note_error(body):
    try:
        action = _sealed_action(body)
    except ActionError:
        assume(False)
    try:
        note = open_note(ME.dh_key, action)
    except NoteError:
        return
    if note is not None:  # only an untouched content opens, and it is the real note
        assert body["content"] == REAL_NOTE["content"]
        assert (note.kind, note.body, note.sender_device) == ("report", REPORT_BODY, SENDER.device_id)


def _payloads(envelope_key: str):
    """Inner notes for this envelope, each field right or replaced by arbitrary
    JSON, signed by the sender, by someone else, or not at all."""
    def build(kind, fields, signer):
        right = {"v": 1, "circle": CID, "envelope": envelope_key, "kind": kind,
                 "from": SENDER.public.sign_pub.hex(), "at": AT, "body": BODIES[kind]}
        payload = canonical({**right, **fields})
        signature = signer.sign(payload) if signer is not None else bytes(64)
        return signature + payload

    fields = st.dictionaries(st.sampled_from(["v", "circle", "envelope", "kind", "from", "at", "body"]),
                             json_values, max_size=3)

    def of_kind(kind):
        body = st.fixed_dictionaries({f: json_values | st.just(v) for f, v in BODIES[kind].items()})
        return st.builds(build, st.just(kind), fields | st.fixed_dictionaries({"body": body}) | st.just({}),
                         st.sampled_from([SENDER, SENDER, BYSTANDER, None]))

    return st.sampled_from(sorted(BODIES)).flatmap(of_kind)


def _plaintexts(envelope_key: str):
    genuine = _payloads(envelope_key)
    bound_elsewhere = _payloads(BYSTANDER.public.sign_pub.hex())  # lifted from another envelope
    return st.one_of(genuine, genuine.flatmap(_mutated), bound_elsewhere, st.binary(max_size=200))


def _odd_kind(envelope_key: str) -> bytes:
    """A well-signed note whose kind is a list: unhashable, not a string."""
    payload = canonical({"v": 1, "circle": CID, "envelope": envelope_key, "kind": ["report"],
                         "from": SENDER.public.sign_pub.hex(), "at": AT, "body": {}})
    return SENDER.sign(payload) + payload


AUTHORS = {"sealed": ENVELOPE, "warn": SENDER}  # a warning is signed by its sender, the rest anonymously


@FUZZ
@given(st.sampled_from(sorted(AUTHORS)).flatmap(
    lambda outer: st.tuples(st.just(outer), _plaintexts(AUTHORS[outer].public.sign_pub.hex()))))
@example(("sealed", _odd_kind(ENVELOPE_KEY)))
@example(("warn", _odd_kind(SENDER.public.sign_pub.hex())))
def test_open_note_on_arbitrary_inner_notes_raises_only_note_error(outer_plaintext):
    outer, plaintext = outer_plaintext
    # Sealed properly to ME, so the box and content open and the inner checks run.
    author = AUTHORS[outer]
    key = author.public.sign_pub.hex()
    boxes, content = seal_for([ME.public.dh_pub], plaintext, _context(CID, key))
    action = _sealed_action({"boxes": [b.hex() for b in boxes], "content": content.hex()}, outer, author)
    try:
        note = open_note(ME.dh_key, action)
    except NoteError:
        return
    assert note is not None and note.kind in NOTE_KINDS
    assert note.sender_device == SENDER.device_id  # nobody else signs as the sender
    assert SENDER.public.verify(plaintext[:64], plaintext[64:])
    payload = json.loads(plaintext[64:])
    assert payload["envelope"] == key and payload["circle"] == CID
    assert (outer == "warn") == (note.kind == "warn")


@FUZZ
@given(st.sampled_from(sorted(BODIES)), st.integers(0, MAX_MILLIS), st.text(min_size=1, max_size=40).filter(str.strip),
       st.permutations([ME, BYSTANDER, SENDER]))
def test_an_intact_note_opens_exactly_for_its_recipients(kind, at, reason, recipients):
    body = dict(BODIES[kind])
    if "reason" in body:
        body["reason"] = reason
    else:
        body["note"] = reason
    readers, outsider = recipients[:2], recipients[2]
    # A warning travels in a `warn` action signed by its sender; the rest in an anonymous envelope.
    author = SENDER if kind == "warn" else ENVELOPE
    sealed = seal_note(SENDER, CID, author.public.sign_pub.hex(), kind, at, body, [r.public.dh_pub for r in readers])
    action = _sealed_action(sealed, "warn" if kind == "warn" else "sealed", author)
    for reader in readers:
        note = open_note(reader.dh_key, action)
        assert note is not None
        assert (note.envelope, note.kind, note.sender_device, note.at, note.body) == (
            action.id, kind, SENDER.device_id, at, body)
    assert open_note(outsider.dh_key, action) is None


# -- decoding the new kinds ---------------------------------------------------------------------


hex_of = lambda n: st.binary(min_size=n, max_size=n).map(bytes.hex)
near_hex = st.one_of(hex_of(32), hex_of(16), st.binary(max_size=300).map(bytes.hex),
                     st.text(alphabet="0123456789abcdefABCDEF ", max_size=70))
near_ints = st.one_of(st.integers(-2, 102), st.integers(990, 1010), st.integers(-2**64, 2**64), st.booleans())


def mix(valid, near):
    """Mostly well-formed, often just off, sometimes anything at all."""
    return st.one_of(valid, valid, near, json_values)


boxes = st.lists(st.binary(min_size=1, max_size=256).map(bytes.hex), min_size=1, max_size=64)
NEW_KINDS = {
    "sealed": {"boxes": mix(boxes, st.lists(near_hex, max_size=66)), "content": mix(hex_of(40), near_hex)},
    "warn": {"boxes": mix(boxes, st.lists(near_hex, max_size=66)), "content": mix(hex_of(40), near_hex)},
    "collapse": {"post": mix(st.text(max_size=64), st.text(max_size=70)),
                 "reports": mix(st.lists(hex_of(32), min_size=1, max_size=3), st.lists(near_hex, max_size=4))},
    "dismiss": {"post": mix(st.text(max_size=64), st.text(max_size=70)),
                "reports": mix(st.lists(hex_of(32), max_size=3), st.lists(near_hex, max_size=4)),
                "reason": mix(st.text(max_size=500), st.text(min_size=495, max_size=510))},
    "set_policy": {"collapse_after": mix(st.integers(0, 100), near_ints)},
    "accept_guidelines": {"version": mix(hex_of(32), near_hex)},
    "remove": {"member": mix(hex_of(16), near_hex), "cutoffs": mix(st.just({}), json_values),
               "reason": mix(st.text(max_size=500), st.text(min_size=495, max_size=510))},
    "mute": {"member": mix(hex_of(16), near_hex), "until": mix(st.integers(0, MAX_MILLIS + 10), near_ints),
             "reason": mix(st.text(max_size=500), st.text(min_size=495, max_size=510))},
}


def _is_hex(value, length=None) -> bool:
    return (isinstance(value, str) and value != "" and not value.strip("0123456789abcdef")
            and (length is None or len(value) == length))


def _meets_its_contract(kind: str, body: dict) -> bool:
    """What each new kind promises about an accepted body."""
    def count(v, low, high):
        return isinstance(v, int) and not isinstance(v, bool) and low <= v <= high

    if kind in ("sealed", "warn"):
        return (isinstance(body["boxes"], list) and 1 <= len(body["boxes"]) <= 64
                and all(_is_hex(b) and len(b) % 2 == 0 and len(b) <= 512 for b in body["boxes"])
                and _is_hex(body["content"]) and len(body["content"]) % 2 == 0)
    if kind == "collapse":
        return (isinstance(body["post"], str) and len(body["post"]) <= 64 and isinstance(body["reports"], list)
                and 1 <= len(body["reports"]) and all(_is_hex(r, 64) for r in body["reports"]))
    if kind == "dismiss":
        return (isinstance(body["post"], str) and isinstance(body["reason"], str) and len(body["reason"]) <= 500
                and isinstance(body["reports"], list) and all(_is_hex(r, 64) for r in body["reports"]))
    if kind == "set_policy":
        return count(body["collapse_after"], 0, 100)
    if kind == "accept_guidelines":
        return _is_hex(body["version"], 64)
    if kind == "mute" and not count(body["until"], 0, MAX_MILLIS):
        return False
    return isinstance(body["reason"], str) and len(body["reason"]) <= 500 and _is_hex(body["member"], 32)


def _new_kind_bodies():
    def with_extra(kind_body, extra):
        kind, body = kind_body
        body = dict(body)
        if extra == "drop" and body:
            body.pop(sorted(body)[0])
        elif extra == "add":
            body["extra"] = 1
        return kind, body

    base = st.sampled_from(sorted(NEW_KINDS)).flatmap(
        lambda k: st.tuples(st.just(k), st.fixed_dictionaries(NEW_KINDS[k])))
    return st.builds(with_extra, base, st.sampled_from(["none", "none", "none", "drop", "add"]))


@FUZZ
@given(_new_kind_bodies(), st.lists(hex_of(32), min_size=1, max_size=2))
@example(("sealed", {"boxes": [], "content": "00"}), [PARENT])
@example(("sealed", {"boxes": [""], "content": "00"}), [PARENT])
@example(("sealed", {"boxes": ["0"], "content": "00"}), [PARENT])
@example(("set_policy", {"collapse_after": True}), [PARENT])
@example(("collapse", {"post": "p", "reports": []}), [PARENT])
@example(("accept_guidelines", {"version": "AB" * 32}), [PARENT])
@example(("dismiss", {"post": "p", "reports": ["ab" * 31], "reason": ""}), [PARENT])
def test_decode_action_accepts_only_well_formed_bodies_of_the_new_kinds(kind_body, parents):
    kind, body = kind_body
    author = ENVELOPE.public.sign_pub.hex()
    payload = {"v": 1, "circle": CID, "kind": kind, "author": author, "parents": sorted(set(parents)), "at": AT,
               "body": body}
    try:
        raw = canonical(payload)
    except (UnicodeEncodeError, ValueError):
        assume(False)
    wire = ENVELOPE.sign(raw) + raw
    try:
        action = decode_action(wire)
    except ActionError:
        return
    assert (action.kind, action.body, action.author_sign, action.circle) == (kind, body, author, CID)
    assert len(action.parents) <= MAX_PARENTS
    assert _meets_its_contract(kind, body), body


@FUZZ
@given(st.sampled_from(sorted(BODIES)), st.integers(0, 2**20), st.integers(1, 255))
def test_any_flipped_byte_of_a_signed_note_action_is_refused(kind, where, mask):
    author = SENDER if kind == "warn" else ENVELOPE
    sealed = seal_note(SENDER, CID, author.public.sign_pub.hex(), kind, AT, BODIES[kind], [ME.public.dh_pub])
    action = _sealed_action(sealed, "warn" if kind == "warn" else "sealed", author)
    try:
        decode_action(_flip(action.wire, where, mask))
    except ActionError:
        return
    raise AssertionError("an altered action was accepted")
