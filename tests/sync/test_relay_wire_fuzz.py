"""The relay's decoders (sync/relay_wire.py) fed arbitrary and near-valid bytes: each fails only
with RelayWireError, and what we encode decodes to itself."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from circle.sync import relay_wire as w

KINDS = [w.REGISTER, w.OPEN, w.LIST, w.GET, w.PUT, w.OK, w.NAMES, w.DATA, w.STORED, w.REFUSED]


def decodes_or_refuses(decoder, data: bytes) -> None:
    try:
        decoder(data)
    except w.RelayWireError:
        pass


@given(st.binary(max_size=400))
@example(b"")
@example(bytes([w.NAMES]) + b"\xff\xff\xff\xff\x0f")  # a count far past what follows
@example(bytes([w.REGISTER]) + b"\x00" * 80 + b"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01")
def test_every_decoder_fails_only_with_its_own_error_on_arbitrary_bytes(data):
    decodes_or_refuses(w.decode_request, data)
    decodes_or_refuses(w.decode_answer, data)


@given(st.sampled_from(KINDS), st.binary(max_size=300))
def test_every_decoder_fails_only_with_its_own_error_on_a_known_type_byte(kind, body):
    decodes_or_refuses(w.decode_request, bytes([kind]) + body)
    decodes_or_refuses(w.decode_answer, bytes([kind]) + body)




@given(st.binary(min_size=16, max_size=16), st.binary(min_size=32, max_size=32),
       st.binary(min_size=32, max_size=32), st.binary(max_size=w.MAX_TOKEN_BYTES), st.binary(min_size=64, max_size=64),
       st.integers(min_value=0, max_value=200))
def test_register_round_trips_and_every_cut_is_refused(circle, admin, access, token, signature, cut):
    msg = w.Register(circle, admin, access, token, signature)
    encoded = w.encode_register(msg)
    assert w.decode_request(encoded) == (w.REGISTER, msg)
    if cut < len(encoded) - 1:
        try:
            w.decode_request(encoded[: cut + 1])
        except w.RelayWireError:
            pass
        else:
            raise AssertionError("a truncated REGISTER decoded")
    try:
        w.decode_request(encoded + b"\x00")
    except w.RelayWireError:
        pass
    else:
        raise AssertionError("trailing bytes were accepted")


@given(st.binary(min_size=16, max_size=16), st.binary(min_size=32, max_size=32), st.binary(min_size=64, max_size=64))
def test_open_round_trips(circle, access, signature):
    msg = w.Open(circle, access, signature)
    assert w.decode_request(w.encode_open(msg)) == (w.OPEN, msg)


@given(st.lists(st.binary(min_size=32, max_size=32), max_size=50), st.binary(max_size=200),
       st.text(max_size=600))
def test_answers_round_trip(digests, data, reason):
    assert w.decode_answer(w.encode_names(digests)) == (w.NAMES, digests)
    assert w.decode_answer(w.encode_data(data)) == (w.DATA, data)
    assert w.decode_answer(w.encode_ok()) == (w.OK, None)
    kind, text = w.decode_answer(w.encode_refused(reason))
    assert kind == w.REFUSED and len(text) <= w.MAX_REASON_CHARS * 4
    if digests:
        assert w.decode_answer(w.encode_stored(digests[0])) == (w.STORED, digests[0])
        assert w.decode_request(w.encode_get(digests[0])) == (w.GET, digests[0])
    assert w.decode_request(w.encode_put(data)) == (w.PUT, data)
    assert w.decode_request(w.encode_list()) == (w.LIST, None)


def test_the_signed_bytes_bind_the_connection_and_every_field():
    base = (b"h" * 32, b"c" * 16, b"a" * 32, b"k" * 32, b"tok")
    signed = w.register_signed(*base)
    for index in range(len(base)):
        changed = list(base)
        changed[index] = bytes([changed[index][0] ^ 1]) + changed[index][1:]
        assert w.register_signed(*changed) != signed
    assert w.register_signed(*base[:4], b"to") != w.register_signed(*base[:4], b"tok")
    assert w.open_signed(b"h" * 32, b"c" * 16, b"k" * 32) != w.open_signed(b"H" * 32, b"c" * 16, b"k" * 32)
    assert not signed.startswith(w.OPEN_PREFIX) and w.open_signed(*base[:2], base[3]).startswith(w.OPEN_PREFIX)
