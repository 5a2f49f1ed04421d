"""Decoder strictness: malformed hex never gets past decode_action."""

from __future__ import annotations

import secrets

import pytest

from circle.crypto.identity import DeviceIdentity
from circle.domain.governance.actions import ActionError, UnknownKind, canonical, decode_action, sign_action
from circle.domain.governance.fields import MAX_SECONDS
from circle.service.membership import describe_expiry


def test_rotation_with_odd_length_lockbox_hex_is_refused_at_decode():
    identity = DeviceIdentity.generate()
    member = secrets.token_hex(16)
    body = {"epoch": secrets.token_hex(16), "lockboxes": {member: "abc"}, "wraps": {}}
    with pytest.raises(ActionError):
        sign_action(identity, secrets.token_hex(16), "rotate", [secrets.token_hex(32)], 1, body)


# -- every field is what its readers assume ------------------------------------------------

_ID = DeviceIdentity.generate()
_CIRCLE = "c1" * 16
_PARENT = "ab" * 32


def _wire(payload: dict, identity: DeviceIdentity = _ID) -> bytes:
    raw = canonical(payload)
    return identity.sign(raw) + raw


def _payload(kind: str, body: dict, **top) -> dict:
    payload = {"v": 1, "circle": _CIRCLE, "kind": kind, "author": _ID.public.sign_pub.hex(),
               "parents": [_PARENT], "at": 1_700_000_000_000, "body": body}
    payload.update(top)
    return payload


def _admit_body(dh: str) -> dict:
    return {"invite": "11" * 8, "member": "22" * 16, "device": {"sign": "33" * 32, "dh": dh},
            "proof": "44" * 64, "lockboxes": {}}


# Small-order X25519 points: sealing to them fails (the shared secret is zero),
# so one admitted with such a key crashed every later rotation, report and
# addressed bundle of every organizer.
SMALL_ORDER = ["00" * 32, "01" + "00" * 31,
               "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
               "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
               "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"]


@pytest.mark.parametrize("dh", SMALL_ORDER)
def test_a_device_key_nothing_can_be_sealed_to_is_refused_at_decode(dh):
    with pytest.raises(ActionError, match="cannot be sealed to"):
        decode_action(_wire(_payload("admit", _admit_body(dh))))
    genesis = {"name": "x", "nonce": "00" * 16, "device": {"sign": _ID.public.sign_pub.hex(), "dh": dh}}
    with pytest.raises(ActionError, match="cannot be sealed to"):
        decode_action(_wire(_payload("create", genesis, circle=None, parents=[])))


def test_a_real_device_key_still_decodes():
    action = decode_action(_wire(_payload("admit", _admit_body(DeviceIdentity.generate().public.dh_pub.hex()))))
    assert action.kind == "admit"


def test_an_invite_expiring_after_year_9999_is_refused_it_would_crash_listing_invites():
    body = {"invite": "11" * 8, "key": "22" * 32, "uses": 1, "expires": 2**53}
    with pytest.raises(ActionError):
        decode_action(_wire(_payload("invite", body)))
    with pytest.raises(ActionError):
        decode_action(_wire(_payload("link_invite", {"invite": "11" * 8, "key": "22" * 32, "expires": 2**53})))
    body["expires"] = MAX_SECONDS
    decode_action(_wire(_payload("invite", body)))
    describe_expiry(MAX_SECONDS)  # the largest accepted expiry is still a date


def test_an_integer_past_pythons_digit_limit_is_an_action_error_not_a_bare_value_error():
    raw = canonical(_payload("set_policy", {"collapse_after": 1}))
    raw = raw.replace(b'"collapse_after":1', b'"collapse_after":' + b"9" * 5000)
    with pytest.raises(ActionError):
        decode_action(_ID.sign(raw) + raw)


def test_deeply_nested_json_is_an_action_error():
    raw = b'{"body":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(ActionError):
        decode_action(bytes(64) + raw)


@pytest.mark.parametrize("parents", [[_PARENT, _PARENT], ["cd" * 32, _PARENT]])
def test_parents_must_be_distinct_and_sorted_as_signers_write_them(parents):
    with pytest.raises(ActionError, match="distinct and sorted"):
        decode_action(_wire(_payload("set_policy", {"collapse_after": 1}, parents=parents)))


@pytest.mark.parametrize("version", [True, 1.0])
def test_the_version_is_the_integer_1(version):
    with pytest.raises(ActionError):
        decode_action(_wire(_payload("set_policy", {"collapse_after": 1}, v=version)))


def test_sealed_keys_in_a_rotation_are_bounded():
    body = {"epoch": "ee" * 16, "lockboxes": {"dd" * 16: "ab" * 257}, "wraps": {}}
    with pytest.raises(ActionError):
        decode_action(_wire(_payload("rotate", body)))
    body = {"epoch": "ee" * 16, "lockboxes": {"dd" * 16: "ab" * 80}, "wraps": {"ff" * 16: "ab" * 257}}
    with pytest.raises(ActionError):
        decode_action(_wire(_payload("rotate", body)))


def test_a_report_counted_twice_is_refused():
    report = "77" * 32
    with pytest.raises(ActionError, match="twice"):
        decode_action(_wire(_payload("collapse", {"post": "p" * 16, "reports": [report, report, report]})))
    with pytest.raises(ActionError, match="twice"):
        decode_action(_wire(_payload("dismiss", {"post": "p" * 16, "reports": [report, report], "reason": ""})))


# -- a kind of action a newer version writes ---------------------------------------------


def test_a_signed_action_of_a_future_kind_names_it_and_says_to_update():
    wire = _wire(_payload("hold_vote", {"question": "walk on Sunday?"}))
    with pytest.raises(UnknownKind, match=r"\('hold_vote'\).*update circle"):
        decode_action(wire)


def test_an_unknown_kind_whose_signature_fails_is_not_taken_for_a_newer_version():
    wire = bytearray(_wire(_payload("hold_vote", {})))
    wire[0] ^= 1
    with pytest.raises(ActionError) as refused:
        decode_action(bytes(wire))
    assert not isinstance(refused.value, UnknownKind)


@pytest.mark.parametrize("kind", ["\x1b]0;pwned\x07", "Hold", "a" * 41, "[b]x[/b]", ""])
def test_a_kind_that_is_not_spelled_like_one_is_never_echoed(kind):
    with pytest.raises(ActionError) as refused:
        decode_action(_wire(_payload(kind, {})))
    assert not isinstance(refused.value, UnknownKind)
    assert not kind or kind not in str(refused.value)
