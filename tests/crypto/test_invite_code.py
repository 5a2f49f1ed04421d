"""Invite codes: one copy-pasteable line that survives mail clients and catches typos.

A code is `circle1` + base32(payload + first 4 bytes of SHA-256(payload)). Every
way a person can get it wrong (a typo, a missing end, a wrong prefix, an old
client) must give an InviteCodeError with a message they can act on, and
nothing a stranger pastes may raise anything else.
"""

from __future__ import annotations

import base64
import hashlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circle.crypto.invite_code import MAX_HINTS, PREFIX, RELAY, InviteCode, InviteCodeError, invite_key

ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
NOT_BASE32 = "0189-_.!/+é"


def hexes(n_bytes: int):
    return st.binary(min_size=n_bytes, max_size=n_bytes).map(bytes.hex)


# Address hints as people give them; 8 of them at most, short enough that the
# code stays within the length decode accepts.
hints = st.text(min_size=0, max_size=30)
codes = st.builds(
    InviteCode,
    circle_id=hexes(16),
    invite_id=hexes(8),
    secret=st.binary(min_size=32, max_size=32),
    expires_at=st.integers(0, 2**64 - 1),
    hints=st.lists(hints, max_size=MAX_HINTS).map(tuple),
)

SAMPLE = InviteCode("0f" * 16, "a1" * 8, bytes(range(32)), 1_900_000_000, ("192.168.1.20:7777",))
PLAIN = InviteCode("ab" * 16, "cd" * 8, b"\x01" * 32, 1_800_000_000, ())


def with_checksum(payload: bytes) -> str:
    """A code around any payload, with a correct checksum: reaches the parser."""
    raw = payload + hashlib.sha256(payload).digest()[:4]
    return PREFIX + base64.b32encode(raw).decode().rstrip("=").lower()


def payload_of(code: InviteCode) -> bytes:
    body = code.encode()[len(PREFIX):].upper()
    return base64.b32decode(body + "=" * (-len(body) % 8))[:-4]


# -- round trip -------------------------------------------------------------------


@settings(max_examples=300)
@given(codes)
def test_every_field_survives_encode_and_decode(code: InviteCode) -> None:
    text = code.encode()
    assert text.startswith(PREFIX)
    assert text == text.strip() and "\n" not in text
    assert InviteCode.decode(text) == code


@given(codes)
def test_codes_read_back_in_capitals_decode_the_same(code: InviteCode) -> None:
    assert InviteCode.decode(code.encode().upper()) == code


@pytest.mark.parametrize(
    "code",
    [
        pytest.param(InviteCode("ab" * 16, "cd" * 8, b"\x02" * 32, 5, tuple(f"h{i}:1" for i in range(9))),
                     id="nine-hints"),
        pytest.param(InviteCode("ab" * 16, "cd" * 8, b"\x02" * 32, 5, tuple("h" * 255 for _ in range(8))),
                     id="eight-long-hints"),
    ],
)
def test_a_code_that_encodes_always_decodes_to_the_same_invite(code: InviteCode) -> None:
    """encode may refuse, but it must never hand out a code decode rejects or reads differently."""
    try:
        text = code.encode()
    except InviteCodeError:
        return
    assert InviteCode.decode(text) == code


# -- whitespace and line wrapping ----------------------------------------------------


@given(codes, st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from([" ", "\n", "\t", "\r\n", "  \n  "])),
                       max_size=12))
def test_whitespace_and_line_wrapping_anywhere_are_tolerated(code: InviteCode, cuts) -> None:
    text = code.encode()
    for position, space in sorted(cuts, reverse=True):
        position %= len(text) + 1
        text = text[:position] + space + text[position:]
    assert InviteCode.decode(text) == code


def test_a_code_wrapped_by_a_mail_client_at_every_width_decodes() -> None:
    text = SAMPLE.encode()
    for width in range(1, 80):
        wrapped = "\n".join(text[i : i + width] for i in range(0, len(text), width))
        assert InviteCode.decode("  " + wrapped + "\n") == SAMPLE


# -- typos ------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [SAMPLE, PLAIN], ids=["with-hint", "no-hints"])
def test_every_single_character_substitution_is_caught(code: InviteCode) -> None:
    """Each wrong base32 letter anywhere after the prefix fails the checksum, or
    (when it only touches the padding bits of the last letter) reads as the same code."""
    text = code.encode()
    caught = 0
    for i in range(len(PREFIX), len(text)):
        for letter in ALPHABET:
            if letter == text[i]:
                continue
            typo = text[:i] + letter + text[i + 1 :]
            try:
                decoded = InviteCode.decode(typo)
            except InviteCodeError as err:
                caught += 1
                assert "typo" in str(err) or "truncated" in str(err) or "trailing" in str(err) \
                    or "hint" in str(err) or "version" in str(err)
            else:
                assert decoded == code, f"typo at {i} ({letter!r}) decoded to a different invite"
    assert caught >= (len(text) - len(PREFIX) - 1) * (len(ALPHABET) - 1)


@pytest.mark.parametrize("code", [SAMPLE, PLAIN], ids=["with-hint", "no-hints"])
def test_every_character_that_is_not_base32_is_refused_as_a_typo(code: InviteCode) -> None:
    text = code.encode()
    for i in range(len(PREFIX), len(text)):
        for bad in NOT_BASE32:
            with pytest.raises(InviteCodeError, match="typo"):
                InviteCode.decode(text[:i] + bad + text[i + 1 :])


@given(codes, st.data())
def test_swapping_two_neighbouring_letters_is_caught(code: InviteCode, data) -> None:
    text = code.encode()
    i = data.draw(st.integers(len(PREFIX), len(text) - 2))
    swapped = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    try:
        assert InviteCode.decode(swapped) == code  # the same letter twice, or padding bits only
    except InviteCodeError:
        pass


@given(codes, st.data())
def test_a_dropped_or_doubled_letter_is_caught(code: InviteCode, data) -> None:
    text = code.encode()
    i = data.draw(st.integers(len(PREFIX), len(text) - 1))
    for typo in (text[:i] + text[i + 1 :], text[:i] + text[i] + text[i:]):
        with pytest.raises(InviteCodeError):
            InviteCode.decode(typo)


# -- truncation, prefix, version, limits ---------------------------------------------------


@pytest.mark.parametrize("code", [SAMPLE, PLAIN], ids=["with-hint", "no-hints"])
def test_every_truncation_is_refused(code: InviteCode) -> None:
    text = code.encode()
    for length in range(len(text)):
        with pytest.raises(InviteCodeError):
            InviteCode.decode(text[:length])


def test_a_truncated_payload_with_a_valid_checksum_says_truncated() -> None:
    payload = payload_of(SAMPLE)
    for cut in (1, 10, len(payload) - 1):
        with pytest.raises(InviteCodeError, match="truncated"):
            InviteCode.decode(with_checksum(payload[:cut]))


@pytest.mark.parametrize("prefix", ["circle2", "circel1", "cirlce1", "", "circle", "https://circle1/", "wormhole1"])
def test_a_wrong_prefix_is_refused_with_what_a_code_looks_like(prefix: str) -> None:
    body = SAMPLE.encode()[len(PREFIX):]
    with pytest.raises(InviteCodeError, match="should start with 'circle1'"):
        InviteCode.decode(prefix + body)


def test_a_code_from_a_newer_version_asks_to_update() -> None:
    payload = bytearray(payload_of(SAMPLE))
    payload[0] = 3
    with pytest.raises(InviteCodeError, match=r"version 3 is not supported; update circle"):
        InviteCode.decode(with_checksum(bytes(payload)))


def test_too_many_hints_malformed_hints_and_trailing_bytes_are_refused() -> None:
    fixed = payload_of(PLAIN)[:-1]  # everything but the hint count
    with pytest.raises(InviteCodeError, match="too many address hints"):
        InviteCode.decode(with_checksum(fixed + bytes([MAX_HINTS + 1])))
    with pytest.raises(InviteCodeError, match="malformed address hint"):
        InviteCode.decode(with_checksum(fixed + b"\x01\x02\xff\xfe"))
    with pytest.raises(InviteCodeError, match="trailing data"):
        InviteCode.decode(with_checksum(payload_of(PLAIN) + b"\x00"))
    with pytest.raises(InviteCodeError, match="too long"):
        InviteCode.decode(PREFIX + "a" * 5000)


def test_the_invite_key_is_bound_to_circle_and_invite() -> None:
    def public(secret: bytes, circle_id: str, invite_id: str) -> bytes:
        return invite_key(secret, circle_id, invite_id).public_key().public_bytes_raw()

    base = public(SAMPLE.secret, SAMPLE.circle_id, SAMPLE.invite_id)
    assert base == public(SAMPLE.secret, SAMPLE.circle_id, SAMPLE.invite_id)
    assert base != public(SAMPLE.secret, "1f" * 16, SAMPLE.invite_id)
    assert base != public(SAMPLE.secret, SAMPLE.circle_id, "b1" * 8)
    assert base != public(bytes(32), SAMPLE.circle_id, SAMPLE.invite_id)


# -- fuzz: nothing but InviteCodeError, ever ------------------------------------------------


def _decode_or_refuse(text: str) -> None:
    try:
        code = InviteCode.decode(text)
    except InviteCodeError as err:
        assert str(err)
        return
    assert len(code.circle_id) == 32 and len(code.invite_id) == 16 and len(code.secret) == 32
    assert len(code.hints) <= MAX_HINTS


@settings(max_examples=500)
@given(st.text(max_size=300))
def test_decoding_arbitrary_text_raises_only_invite_code_errors(text: str) -> None:
    _decode_or_refuse(text)


@settings(max_examples=500)
@given(st.text(alphabet=ALPHABET + ALPHABET.upper() + NOT_BASE32 + " \n=", max_size=300))
def test_decoding_prefixed_near_base32_raises_only_invite_code_errors(body: str) -> None:
    _decode_or_refuse(PREFIX + body)


@settings(max_examples=500)
@given(st.binary(max_size=400))
def test_any_payload_with_a_valid_checksum_raises_only_invite_code_errors(payload: bytes) -> None:
    _decode_or_refuse(with_checksum(payload))


@settings(max_examples=300)
@given(st.integers(0, 2**64 - 1), st.lists(st.binary(max_size=20), max_size=MAX_HINTS + 2), st.binary(max_size=6))
def test_structured_payloads_with_a_valid_checksum_raise_only_invite_code_errors(expires, raw_hints, tail) -> None:
    payload = bytes([1]) + bytes(16) + bytes(8) + bytes(32) + struct.pack(">Q", expires)
    payload += bytes([len(raw_hints)]) + b"".join(bytes([len(h)]) + h for h in raw_hints) + tail
    _decode_or_refuse(with_checksum(payload))


# -- relay hints (version 2) ---------------------------------------------------------

relay_codes = st.builds(
    InviteCode,
    circle_id=hexes(16),
    invite_id=hexes(8),
    secret=st.binary(min_size=32, max_size=32),
    expires_at=st.integers(0, 2**64 - 1),
    hints=st.lists(hints, max_size=MAX_HINTS // 2).map(tuple),
    relays=st.lists(hints, min_size=1, max_size=MAX_HINTS // 2).map(tuple),
)
WITH_RELAY = InviteCode("0f" * 16, "a1" * 8, bytes(range(32)), 1_900_000_000, ("192.168.1.20:7777",),
                        ("relay.example.org:7655",))


@settings(max_examples=300)
@given(relay_codes)
def test_peer_and_relay_hints_survive_encode_and_decode_apart(code: InviteCode) -> None:
    assert payload_of(code)[0] == 2
    assert InviteCode.decode(code.encode()) == code


def test_a_code_without_relays_is_still_written_as_version_1() -> None:
    assert payload_of(SAMPLE)[0] == 1 and payload_of(PLAIN)[0] == 1
    assert payload_of(WITH_RELAY)[0] == 2
    # A version-1 code made before relays existed reads as one naming none.
    assert InviteCode.decode(SAMPLE.encode()).relays == ()


def test_peers_and_relays_share_the_limit_of_eight_hints() -> None:
    code = InviteCode("ab" * 16, "cd" * 8, b"\x02" * 32, 5, tuple(f"p{i}:1" for i in range(5)),
                      tuple(f"r{i}:1" for i in range(4)))
    with pytest.raises(InviteCodeError, match="at most 8 address hints"):
        code.encode()


def test_a_hint_of_an_unknown_kind_asks_to_update() -> None:
    payload = bytearray(payload_of(WITH_RELAY))
    relay_at = payload.index(b"relay.example.org") - 2  # kind byte, length byte, the address
    assert payload[relay_at] == RELAY
    payload[relay_at] = 7
    with pytest.raises(InviteCodeError, match="unknown kind; update circle"):
        InviteCode.decode(with_checksum(bytes(payload)))


@pytest.mark.parametrize("cut", range(1, 40))
def test_every_truncation_of_a_version_2_payload_says_what_is_wrong(cut: int) -> None:
    with pytest.raises(InviteCodeError):
        InviteCode.decode(with_checksum(payload_of(WITH_RELAY)[:-cut]))


@settings(max_examples=500)
@given(st.binary(max_size=400))
def test_any_version_2_payload_with_a_valid_checksum_raises_only_invite_code_errors(body: bytes) -> None:
    try:
        InviteCode.decode(with_checksum(b"\x02" + body))
    except InviteCodeError:
        pass


@settings(max_examples=300)
@given(st.integers(0, 2**64 - 1), st.lists(st.tuples(st.integers(0, 3), st.binary(max_size=20)),
                                           max_size=MAX_HINTS + 2), st.binary(max_size=6))
def test_structured_version_2_payloads_raise_only_invite_code_errors(expires, raw_hints, tail) -> None:
    payload = (b"\x02" + bytes(16) + bytes(8) + bytes(32) + struct.pack(">Q", expires) + bytes([len(raw_hints)])
               + b"".join(bytes([kind, len(h)]) + h for kind, h in raw_hints) + tail)
    try:
        code = InviteCode.decode(with_checksum(payload))
    except InviteCodeError:
        return
    assert len(code.hints) + len(code.relays) == len(raw_hints) and not tail
