"""The relay's decoders (sync/relay_wire.py) fed arbitrary and near-valid bytes: each fails only
with RelayWireError, and what we encode decodes to itself."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from circle.sync import relay_wire as w

KINDS = [w.REGISTER, w.OPEN, w.LIST, w.GET, w.PUT, w.OK, w.NAMES, w.DATA, w.STORED, w.REFUSED,
         w.JOIN_PUT, w.JOIN_LIST, w.JOIN_ANSWER, w.JOIN_FETCH, w.WAITING, w.JOIN_REQUESTS]


def decodes_or_refuses(decoder, data: bytes) -> None:
    try:
        decoder(data)
    except w.RelayWireError:
        pass


@given(st.binary(max_size=400))
@example(b"")
@example(bytes([w.NAMES]) + b"\xff\xff\xff\xff\x0f")  # a count far past what follows
@example(bytes([w.REGISTER]) + b"\x00" * 80 + b"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01")
@example(bytes([w.JOIN_REQUESTS]) + b"\x01" + b"\x00" * 64 + b"\xff\xff\x03")  # a request past what follows
@example(bytes([w.JOIN_PUT]) + b"\x00" * 80)  # no sealed request at all
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


ids16, ids32 = st.binary(min_size=16, max_size=16), st.binary(min_size=32, max_size=32)
sealed = st.binary(min_size=1, max_size=w.MAX_JOIN_REQUEST_BYTES)


@given(ids16, ids32, ids32, sealed, st.integers(min_value=0, max_value=200))
def test_join_put_round_trips_and_every_cut_is_refused(circle, area, request, body, cut):
    msg = w.JoinPut(circle, area, request, body)
    encoded = w.encode_join_put(msg)
    assert w.decode_request(encoded) == (w.JOIN_PUT, msg)
    if cut < 1 + 16 + 64:  # cut inside the fixed part, or right after it (no request left)
        try:
            w.decode_request(encoded[: cut + 1])
        except w.RelayWireError:
            pass
        else:
            raise AssertionError("a truncated JOIN_PUT decoded")


def test_a_join_request_past_4_kib_is_refused_by_the_parser_and_never_encoded():
    too_big = bytes([w.JOIN_PUT]) + bytes(80) + bytes(w.MAX_JOIN_REQUEST_BYTES + 1)
    try:
        w.decode_request(too_big)
    except w.RelayWireError:
        pass
    else:
        raise AssertionError("a join request over the limit decoded")
    try:
        w.encode_join_put(w.JoinPut(bytes(16), bytes(32), bytes(32), bytes(w.MAX_JOIN_REQUEST_BYTES + 1)))
    except ValueError:
        pass
    else:
        raise AssertionError("a join request over the limit was encoded")


@given(ids16, ids32, ids32, st.binary(min_size=1, max_size=300))
def test_the_other_join_messages_round_trip(circle, request, area, answer):
    assert w.decode_request(w.encode_join_list()) == (w.JOIN_LIST, None)
    assert w.decode_request(w.encode_join_answer(w.JoinAnswer(request, answer))) == (
        w.JOIN_ANSWER, w.JoinAnswer(request, answer))
    assert w.decode_request(w.encode_join_fetch(w.JoinFetch(circle, request))) == (
        w.JOIN_FETCH, w.JoinFetch(circle, request))
    assert w.decode_answer(w.encode_waiting()) == (w.WAITING, None)
    for bad in (bytes([w.JOIN_ANSWER]) + request, bytes([w.JOIN_FETCH]) + circle + request + b"\x00",
                bytes([w.JOIN_LIST, 0])):
        try:
            w.decode_request(bad)
        except w.RelayWireError:
            pass
        else:
            raise AssertionError(f"{bad[:1].hex()} decoded with a wrong body")


@given(st.lists(st.tuples(ids32, ids32, st.binary(min_size=1, max_size=200)), max_size=20),
       st.integers(min_value=0, max_value=5000))
def test_join_requests_round_trip_and_every_cut_is_refused(rows, cut):
    requests = [w.JoinRequest(*row) for row in rows]
    encoded = w.encode_join_requests(requests)
    assert w.decode_answer(encoded) == (w.JOIN_REQUESTS, requests)
    if cut < len(encoded) - 1:
        try:
            w.decode_answer(encoded[: cut + 1])
        except w.RelayWireError:
            pass
        else:
            raise AssertionError("a truncated JOIN_REQUESTS decoded")
