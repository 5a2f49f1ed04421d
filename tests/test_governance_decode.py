"""Decoder strictness: malformed hex never gets past decode_action."""

from __future__ import annotations

import secrets

import pytest

from circle.crypto.identity import DeviceIdentity
from circle.domain.governance.actions import ActionError, sign_action


def test_rotation_with_odd_length_lockbox_hex_is_refused_at_decode():
    identity = DeviceIdentity.generate()
    member = secrets.token_hex(16)
    body = {"epoch": secrets.token_hex(16), "lockboxes": {member: "abc"}, "wraps": {}}
    with pytest.raises(ActionError):
        sign_action(identity, secrets.token_hex(16), "rotate", [secrets.token_hex(32)], 1, body)
