"""The join area of an invite at a relay: where a newcomer leaves a join request
while no member is online, and where a member leaves the answer.

Everything is derived from the invite's public key (HKDF-SHA256): the members
know it from the governance log, the newcomer derives it from the secret in the
code, the relay knows neither. So the relay sees an area id it cannot link to
an invite, a request it cannot read (AES-GCM, crypto/aead.py) and an answer it
cannot read. The request id is derived from the invite secret and the request
itself: the same device asking again with the same code names the same request,
so rerunning `circle join` resumes instead of queueing a second request.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from circle.crypto.aead import SealError, open_sealed, seal
from circle.crypto.invite_code import InviteCode, invite_key
from circle.crypto.relay_access import public_bytes

WELCOME, REFUSAL = 1, 2  # the first byte of an opened answer
MAX_REASON_BYTES = 2000


@dataclass(frozen=True)
class JoinArea:
    circle_id: str
    invite_id: str
    area_id: bytes  # what the relay files requests under
    key: bytes  # seals requests and answers; never leaves members and the newcomer

    def seal_request(self, request: bytes) -> bytes:
        return seal(self.key, request, self._ad(b"request", self.area_id))

    def open_request(self, sealed: bytes) -> bytes:
        """The request; SealError if it was not sealed under this area's key."""
        return open_sealed(self.key, sealed, self._ad(b"request", self.area_id))

    def seal_answer(self, request_id: bytes, kind: int, payload: bytes) -> bytes:
        return seal(self.key, bytes([kind]) + payload, self._ad(b"answer", request_id))

    def open_answer(self, request_id: bytes, sealed: bytes) -> tuple[int, bytes]:
        """(WELCOME, the welcome bundle) or (REFUSAL, the UTF-8 reason); SealError if
        the answer was not sealed under this area's key for this request."""
        plain = open_sealed(self.key, sealed, self._ad(b"answer", request_id))
        if not plain or plain[0] not in (WELCOME, REFUSAL):
            raise SealError("not a join answer")
        return plain[0], plain[1:]

    def _ad(self, what: bytes, bound: bytes) -> bytes:
        return b"circle/relay-join/v1/" + what + b"\x00" + bytes.fromhex(self.circle_id) + bound


def _derive(material: bytes, info: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info.encode()).derive(material)


def join_area(invite_pub: bytes, circle_id: str, invite_id: str) -> JoinArea:
    """The area of the invite whose public key is `invite_pub` (a member's view)."""
    return JoinArea(circle_id, invite_id, _derive(invite_pub, f"circle/relay-join/v1/area/{circle_id}/{invite_id}"),
                    _derive(invite_pub, f"circle/relay-join/v1/key/{circle_id}/{invite_id}"))


def area_of_code(invite: InviteCode) -> JoinArea:
    """The same area, as the holder of the code derives it."""
    return join_area(public_bytes(invite_key(invite.secret, invite.circle_id, invite.invite_id)),
                     invite.circle_id, invite.invite_id)


def request_id(invite: InviteCode, request: bytes) -> bytes:
    """Only a holder of the secret can name a request (nobody can take a slot in
    someone else's name); the same request always gets the same id."""
    return _derive(invite.secret, f"circle/relay-join/v1/request/{invite.circle_id}/{invite.invite_id}/"
                   + hashlib.sha256(request).hexdigest())
