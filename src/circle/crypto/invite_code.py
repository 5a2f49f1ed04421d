"""Invite codes: one copy-pasteable line, `circle1` + base32 payload + checksum.

Payload (version 1, big-endian):
    1  version (=1)
    16 circle id
    8  invite id
    32 invite secret
    8  expiry, Unix seconds
    1  number of address hints, then each: 1-byte length + UTF-8 "host:port"
Version 2 is the same, except that each hint starts with a kind byte: 0 a
member's address (join directly), 1 a relay of the circle (leave the request
there, docs/protocol.md "Join area"). A code without relay hints is still
written as version 1, so older versions of circle read it.
The last 4 bytes of the decoded code are the first 4 bytes of SHA-256 of the
payload, so a mistyped code is caught before anything is sent.

The secret never travels to other members: the inviter publishes only the
Ed25519 public key derived from it (`invite_key`), and the newcomer proves
possession by signing with the derived private key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "circle1"
VERSION = 1
VERSION_WITH_KINDS = 2
PEER, RELAY = 0, 1  # hint kinds (version 2)
MAX_HINTS = 8
MAX_HINT_BYTES = 255
MAX_CODE_CHARS = 2000


class InviteCodeError(ValueError):
    """The text is not a valid invite code; the message says what is wrong."""


@dataclass(frozen=True)
class InviteCode:
    circle_id: str
    invite_id: str
    secret: bytes
    expires_at: int
    hints: tuple[str, ...] = ()
    relays: tuple[str, ...] = ()

    def encode(self) -> str:
        kinds = bool(self.relays)
        payload = bytearray([VERSION_WITH_KINDS if kinds else VERSION])
        payload += bytes.fromhex(self.circle_id)
        payload += bytes.fromhex(self.invite_id)
        payload += self.secret
        payload += struct.pack(">Q", self.expires_at)
        tagged = [(PEER, h) for h in self.hints] + [(RELAY, h) for h in self.relays]
        if len(tagged) > MAX_HINTS:
            raise InviteCodeError(f"at most {MAX_HINTS} address hints fit in an invite code")
        try:
            hints = [(kind, h.encode()) for kind, h in tagged]
        except UnicodeEncodeError:
            raise InviteCodeError("an address hint is not valid UTF-8 text") from None
        payload.append(len(hints))
        for kind, hint in hints:
            if len(hint) > MAX_HINT_BYTES:
                raise InviteCodeError("address hint too long")
            if kinds:
                payload.append(kind)
            payload.append(len(hint))
            payload += hint
        raw = bytes(payload) + hashlib.sha256(payload).digest()[:4]
        code = PREFIX + base64.b32encode(raw).decode().rstrip("=").lower()
        if len(code) > MAX_CODE_CHARS:
            raise InviteCodeError("the address hints make the invite code too long")
        return code

    @classmethod
    def decode(cls, text: str) -> InviteCode:
        text = "".join(text.split())  # codes get wrapped by mail clients
        if len(text) > MAX_CODE_CHARS:
            raise InviteCodeError("invite code is too long")
        if not text.lower().startswith(PREFIX):
            raise InviteCodeError("not an invite code: it should start with 'circle1'")
        body = text[len(PREFIX):].upper()
        try:
            raw = base64.b32decode(body + "=" * (-len(body) % 8))
        except (ValueError, binascii.Error):
            raise InviteCodeError("invite code has characters that do not belong; check for typos") from None
        if len(raw) < 4 or hashlib.sha256(raw[:-4]).digest()[:4] != raw[-4:]:
            raise InviteCodeError("invite code checksum does not match; check for typos")
        return cls._parse(raw[:-4])

    @classmethod
    def _parse(cls, payload: bytes) -> InviteCode:
        fixed = 1 + 16 + 8 + 32 + 8 + 1
        if len(payload) < fixed:
            raise InviteCodeError("invite code is truncated")
        if payload[0] not in (VERSION, VERSION_WITH_KINDS):
            raise InviteCodeError(f"invite code version {payload[0]} is not supported; update circle")
        circle_id = payload[1:17].hex()
        invite_id = payload[17:25].hex()
        secret = payload[25:57]
        (expires_at,) = struct.unpack(">Q", payload[57:65])
        count, pos = payload[65], fixed
        if count > MAX_HINTS:
            raise InviteCodeError("invite code has too many address hints")
        kinds = payload[0] == VERSION_WITH_KINDS
        found: dict[int, list[str]] = {PEER: [], RELAY: []}
        for _ in range(count):
            kind = PEER
            if kinds:
                if pos >= len(payload):
                    raise InviteCodeError("invite code is truncated")
                kind, pos = payload[pos], pos + 1
                if kind not in found:
                    raise InviteCodeError("invite code has an address hint of an unknown kind; update circle")
            if pos >= len(payload):
                raise InviteCodeError("invite code is truncated")
            length = payload[pos]
            hint = payload[pos + 1 : pos + 1 + length]
            if len(hint) != length:
                raise InviteCodeError("invite code is truncated")
            try:
                found[kind].append(hint.decode())
            except UnicodeDecodeError:
                raise InviteCodeError("invite code has a malformed address hint") from None
            pos += 1 + length
        if pos != len(payload):
            raise InviteCodeError("invite code has trailing data")
        return cls(circle_id, invite_id, secret, expires_at, tuple(found[PEER]), tuple(found[RELAY]))


def invite_key(secret: bytes, circle_id: str, invite_id: str) -> Ed25519PrivateKey:
    """The signing key a holder of `secret` can derive; its public half is published."""
    seed = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=f"circle/invite/v1/{circle_id}/{invite_id}".encode(),
    ).derive(secret)
    return Ed25519PrivateKey.from_private_bytes(seed)
