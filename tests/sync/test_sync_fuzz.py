"""Every decoder of bytes from the network, fed arbitrary and near-valid input.

Each may fail only with its own documented error (which the session turns
into a clean drop); anything else would reach a peer's connection handler as
a bug. Plus round trips for the messages and bundles we do produce.
"""

from __future__ import annotations

import hashlib
import json
import zlib

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from circle.domain.change_header import MAGIC, ChangeFormatError, read_change_header
from circle.domain.governance.actions import ActionError, decode_action
from circle.leb128 import encode_uleb
from circle.service.admission import _parse_request
from circle.service.verify import BundleRejected
from circle.sync import messages as m
from circle.sync.bundle import (
    DELTA,
    WELCOME,
    BundleContent,
    BundleError,
    decode_content,
    encode_content,
    open_bundle,
    read_header,
    seal_bundle,
)
from circle.sync.framing import PROLOGUE
from circle.domain.heads import SIZE as HEAD_SIZE
from circle.domain.heads import HeadError, SignedHead
from circle.sync.noise import CipherState, Handshake, NoiseError
from circle.sync.wire import WireError

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

hex16 = st.binary(min_size=16, max_size=16).map(bytes.hex)
hex32 = st.binary(min_size=32, max_size=32).map(bytes.hex)


def raises_only(error: type[Exception], decode, data) -> None:
    """`decode(data)` returns or raises `error`; anything else fails the test."""
    try:
        decode(data)
    except error:
        pass


# -- session messages ---------------------------------------------------------------


def _message_bytes():
    kinds = st.sampled_from([m.STATE, m.OFFER, m.BUNDLE, m.SYNCED, m.JOIN, m.WELCOME, m.PING, m.ERROR, 0, 0x55, 0xFF])
    return st.one_of(
        st.binary(max_size=300),
        st.tuples(kinds, st.binary(max_size=300)).map(lambda t: bytes([t[0]]) + t[1]),
        # A state whose counts claim far more than follows.
        st.tuples(st.binary(min_size=48, max_size=48), st.integers(0, 2**70), st.binary(max_size=64))
        .map(lambda t: bytes([m.STATE]) + t[0] + encode_uleb(t[1]) + t[2]),
    )


@FUZZ
@given(_message_bytes())
@example(b"")
@example(bytes([m.ERROR]) + b"\xff\xfe\x80")
@example(bytes([m.STATE]) + bytes(48) + b"\xff" * 12)
@example(bytes([m.PING, 0]))
def test_message_decode_raises_only_message_error(data):
    try:
        kind, value = m.decode(data)
    except m.MessageError:
        return
    assert kind == data[0]
    assert isinstance(value, (m.State, m.Offer, m.Synced, bytes, str))


def test_message_error_is_a_wire_error():
    assert issubclass(m.MessageError, WireError) and issubclass(BundleError, WireError)


states = st.builds(
    m.State,
    circle_id=hex16,
    digest=st.binary(min_size=32, max_size=32),
    vector=st.dictionaries(st.binary(min_size=16, max_size=16), st.integers(0, 2**63 - 1), max_size=20),
    action_ids=st.frozensets(hex32, max_size=20),
)


@FUZZ
@given(states)
def test_state_round_trips(state):
    assert m.decode(m.encode_state(state)) == (m.STATE, state)


@FUZZ
@given(st.builds(m.Offer, circle_id=hex16, items=st.integers(0, 2**63), bytes=st.integers(0, 2**63)))
def test_offer_round_trips(offer):
    assert m.decode(m.encode_offer(offer)) == (m.OFFER, offer)


@FUZZ
@given(st.builds(m.Synced, circle_id=hex16, digest=st.binary(min_size=32, max_size=32)))
def test_synced_round_trips(synced):
    assert m.decode(m.encode_synced(synced)) == (m.SYNCED, synced)


@FUZZ
@given(states, st.data())
def test_truncated_or_extended_state_is_refused(state, data):
    encoded = m.encode_state(state)
    cut = data.draw(st.integers(1, len(encoded) - 1))
    with pytest.raises(m.MessageError):
        m.decode(encoded[:cut])
    with pytest.raises(m.MessageError):
        m.decode(encoded + data.draw(st.binary(min_size=1, max_size=8)))


@FUZZ
@given(st.text(max_size=2000))
def test_error_reason_is_bounded_and_round_trips_when_short(reason):
    kind, value = m.decode(m.encode_error(reason))
    assert kind == m.ERROR and value == reason[: m.MAX_ERROR_CHARS]


# -- bundles ------------------------------------------------------------------------


@FUZZ
@given(st.one_of(
    st.binary(max_size=200),
    st.tuples(st.sampled_from([0, 1, 2, 3, 255]), st.sampled_from([0, 1, 2, 3]), st.binary(min_size=32, max_size=32),
              st.integers(0, 2**64), st.binary(max_size=100))
    .map(lambda t: b"CB" + bytes([t[0], t[1]]) + t[2] + encode_uleb(t[3]) + t[4]),
))
@example(b"CB\x01\x01" + bytes(32))  # no lockbox length at all
@example(b"CB\x01\x01" + bytes(32) + b"\xff" * 11)  # an endless number
def test_read_header_raises_only_bundle_error(data):
    raises_only(BundleError, read_header, data)


def _sections():
    """Payloads shaped like bundle content: four sections of claimed counts and lengths."""
    item = st.tuples(st.integers(0, 2**40), st.binary(max_size=20)).map(lambda t: encode_uleb(t[0]) + t[1])
    section = st.tuples(st.integers(0, 2**40), st.lists(item, max_size=4)).map(
        lambda t: encode_uleb(t[0]) + b"".join(t[1]))
    return st.lists(section, min_size=0, max_size=5).map(b"".join)


@FUZZ
@given(st.one_of(st.binary(max_size=300), _sections()))
@example(b"\x00\x00\x00\x00")  # no document slot
@example(b"\x00\x00\x00\x02\x00\x00")  # two document slots
def test_decode_content_raises_only_bundle_error(payload):
    raises_only(BundleError, decode_content, payload)


contents = st.builds(
    BundleContent,
    actions=st.lists(st.binary(max_size=80), max_size=4).map(tuple),
    changes=st.lists(st.binary(max_size=80), max_size=4).map(tuple),
    heads=st.lists(st.binary(min_size=HEAD_SIZE, max_size=HEAD_SIZE), max_size=3).map(tuple),
    document=st.binary(max_size=200),
)


@FUZZ
@given(contents)
def test_content_round_trips(content):
    assert decode_content(encode_content(content)) == content


@FUZZ
@given(
    key=st.binary(min_size=32, max_size=32), circle=hex16, epoch=hex16, kind=st.sampled_from([DELTA, WELCOME]),
    content=contents, lockbox=st.binary(max_size=300),
)
def test_sealed_bundle_opens_to_what_was_sealed(key, circle, epoch, kind, content, lockbox):
    bundle = seal_bundle(key, circle, epoch, kind, content, lockbox)
    header, opened = open_bundle(key, bundle)
    assert (header.kind, header.circle_id, header.epoch_id, header.lockbox) == (kind, circle, epoch, lockbox)
    assert opened == content


@FUZZ
@given(
    key=st.binary(min_size=32, max_size=32), circle=hex16, epoch=hex16, content=contents,
    lockbox=st.binary(max_size=64), data=st.data(),
)
def test_tampered_bundle_is_refused_unless_only_its_lockbox_changed(key, circle, epoch, content, lockbox, data):
    bundle = bytearray(seal_bundle(key, circle, epoch, DELTA, content, lockbox))
    where = data.draw(st.integers(0, len(bundle) - 1))
    bundle[where] ^= data.draw(st.integers(1, 255))
    lockbox_start = 36 + len(encode_uleb(len(lockbox)))
    try:
        header, opened = open_bundle(key, bytes(bundle))
    except BundleError:
        return
    # The lockbox is sealed on its own (to one device), not by the envelope.
    assert lockbox_start <= where < lockbox_start + len(lockbox)
    assert opened == content and header.circle_id == circle


@FUZZ
@given(key=st.binary(min_size=32, max_size=32), circle=hex16, epoch=hex16, payload=st.one_of(
    st.binary(max_size=300), _sections()))
def test_authentic_bundle_with_garbage_content_raises_only_bundle_error(key, circle, epoch, payload):
    from circle.crypto.envelope import seal_envelope

    bundle = b"CB\x01\x01" + bytes.fromhex(circle) + bytes.fromhex(epoch) + b"\x00"
    bundle += seal_envelope(key, circle, epoch, "delta", payload)
    raises_only(BundleError, lambda b: open_bundle(key, b), bundle)


@FUZZ
@given(st.binary(max_size=HEAD_SIZE + 10))
@example(b"\xff" * HEAD_SIZE)
def test_signed_head_decode_raises_only_head_error(raw):
    try:
        head = SignedHead.decode(raw)
    except HeadError:
        assert len(raw) != HEAD_SIZE
        return
    assert head.encode() == raw


# -- Automerge change headers -------------------------------------------------------


def _chunk(kind: int, body: bytes, checksum_ok: bool, length_delta: int) -> bytes:
    digest = hashlib.sha256(b"\x01" + encode_uleb(len(body)) + body).digest()
    payload = body
    if kind == 2:
        squeeze = zlib.compressobj(wbits=-15)
        payload = squeeze.compress(body) + squeeze.flush()
    checksum = digest[:4] if checksum_ok else bytes(4)
    return MAGIC + checksum + bytes([kind]) + encode_uleb(max(0, len(payload) + length_delta)) + payload


def _change_bodies():
    deps = st.lists(st.binary(min_size=32, max_size=32), max_size=3)
    return st.one_of(
        st.binary(max_size=200),
        st.tuples(st.integers(0, 2**20), deps, st.integers(0, 80), st.binary(max_size=70),
                  st.integers(0, 2**64), st.integers(0, 2**64), st.binary(max_size=30))
        .map(lambda t: encode_uleb(t[0]) + b"".join(t[1]) + encode_uleb(t[2]) + t[3]
             + encode_uleb(t[4]) + encode_uleb(t[5]) + t[6]),
    )


@FUZZ
@given(st.one_of(
    st.binary(max_size=200),
    st.builds(_chunk, st.sampled_from([1, 2, 3, 0]), _change_bodies(), st.booleans(), st.sampled_from([0, 0, 1, -1])),
))
@example(MAGIC + bytes(4) + b"\x02\x05" + b"\xff" * 5)  # compressed, not deflate
def test_change_header_raises_only_change_format_error(chunk):
    raises_only(ChangeFormatError, read_change_header, chunk)


# -- governance actions ---------------------------------------------------------------


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**60, 2**60) | st.text(max_size=20) | hex32 | hex16,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
ACTION_KINDS = ["create", "invite", "admit", "remove", "rotate", "hide", "nonsense"]


def _action_payloads():
    body = st.dictionaries(st.sampled_from(["name", "nonce", "device", "invite", "member", "cutoffs", "post",
                                            "reason", "epoch", "lockboxes", "wraps", "key", "uses", "expires"]),
                           json_values, max_size=5)
    payload = st.fixed_dictionaries({
        "v": st.sampled_from([1, 1, 2, "1"]), "circle": st.none() | hex16 | json_values,
        "kind": st.sampled_from(ACTION_KINDS) | json_values, "author": hex32 | json_values,
        "parents": st.lists(st.binary(min_size=32, max_size=32).map(bytes.hex), max_size=2) | json_values,
        "at": st.integers(-5, 2**54) | json_values, "body": body | json_values,
    })
    canonical = payload.map(lambda p: json.dumps(p, sort_keys=True, separators=(",", ":")).encode())
    return st.tuples(st.binary(min_size=64, max_size=64), canonical | st.binary(max_size=100)).map(
        lambda t: t[0] + t[1])


@FUZZ
@given(st.one_of(st.binary(max_size=300), _action_payloads()))
@example(bytes(64) + b"[" * 3000)  # nesting deeper than the JSON parser allows
@example(bytes(64) + b'{"at":1,"author":"\\ud800","body":{},"circle":null,"kind":"create","parents":[],"v":1}')
def test_decode_action_raises_only_action_error(wire):
    raises_only(ActionError, decode_action, wire)


# -- join requests --------------------------------------------------------------------


def _requests():
    device = st.fixed_dictionaries({"sign": hex32 | json_values, "dh": hex32 | json_values}) | json_values
    fields = st.fixed_dictionaries({
        "v": st.sampled_from([1, 2, True]), "circle": hex16 | json_values, "invite": st.binary(min_size=8, max_size=8)
        .map(bytes.hex) | json_values, "device": device,
        "proof": st.binary(min_size=64, max_size=64).map(bytes.hex) | json_values,
    })
    return fields.map(lambda f: json.dumps(f, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())


@FUZZ
@given(st.one_of(st.binary(max_size=300), _requests()))
@example(b"[" * 4000)
@example(b'{"circle":"\\ud800"}')
@example(b"{}" + b" " * 5000)
def test_parse_request_raises_only_bundle_rejected(request):
    raises_only(BundleRejected, _parse_request, request)


# -- Noise ---------------------------------------------------------------------------


LOW_ORDER = [bytes(32), (1).to_bytes(32, "little"), bytes.fromhex(
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")]


@FUZZ
@given(st.binary(max_size=200))
@example(bytes(31))
@example(b"\x00" * 70_000)
def test_responder_reading_a_first_message_raises_only_noise_error(message):
    raises_only(NoiseError, Handshake(False, X25519PrivateKey.generate(), PROLOGUE).read, message)


@FUZZ
@given(st.one_of(
    st.binary(max_size=200),
    st.tuples(st.sampled_from(LOW_ORDER), st.binary(min_size=48, max_size=100)).map(lambda t: t[0] + t[1]),
))
@example(bytes(32) + bytes(64))
def test_initiator_reading_a_second_message_raises_only_noise_error(message):
    initiator = Handshake(True, X25519PrivateKey.generate(), PROLOGUE)
    initiator.write()
    with pytest.raises(NoiseError):
        initiator.read(message)


@FUZZ
@given(st.binary(max_size=200))
def test_responder_reading_a_third_message_raises_only_noise_error(message):
    initiator = Handshake(True, X25519PrivateKey.generate(), PROLOGUE)
    responder = Handshake(False, X25519PrivateKey.generate(), PROLOGUE)
    responder.read(initiator.write())
    responder.write()
    with pytest.raises(NoiseError):
        responder.read(message)


@FEW
@given(st.binary(max_size=100), st.binary(max_size=100), st.data())
def test_handshake_completes_and_any_tampering_is_caught(payload1, payload3, data):
    initiator = Handshake(True, X25519PrivateKey.generate(), PROLOGUE)
    responder = Handshake(False, X25519PrivateKey.generate(), PROLOGUE)
    first = initiator.write(payload1)
    assert responder.read(first) == payload1
    second = bytearray(responder.write())
    tamper = data.draw(st.booleans())
    if tamper:
        second[data.draw(st.integers(0, len(second) - 1))] ^= data.draw(st.integers(1, 255))
        with pytest.raises(NoiseError):
            initiator.read(bytes(second))
        return
    initiator.read(bytes(second))
    assert responder.read(initiator.write(payload3)) == payload3
    i_send, i_recv = initiator.transport()
    r_send, r_recv = responder.transport()
    assert initiator.remote_static == responder.s.public_key().public_bytes_raw()
    assert responder.remote_static == initiator.s.public_key().public_bytes_raw()
    assert r_recv.decrypt(b"", i_send.encrypt(b"", b"hi")) == b"hi"
    assert i_recv.decrypt(b"", r_send.encrypt(b"", b"yo")) == b"yo"


@FUZZ
@given(st.binary(min_size=32, max_size=32), st.binary(max_size=100))
@example(bytes(32), b"")
def test_transport_decrypt_raises_only_noise_error(key, ciphertext):
    with pytest.raises(NoiseError):
        CipherState(key).decrypt(b"", ciphertext)


@pytest.mark.parametrize("step", ["write twice", "read first as initiator"])
def test_handshake_out_of_turn_raises_noise_error(step):
    hs = Handshake(True, X25519PrivateKey.generate(), PROLOGUE)
    with pytest.raises(NoiseError):
        if step == "write twice":
            hs.write()
            hs.write()
        else:
            hs.read(bytes(32))
