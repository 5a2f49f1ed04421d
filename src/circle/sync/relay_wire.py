"""Messages between a device and a blind relay (docs/protocol.md, "Relay").

They travel over the same Noise session and framing as sync sessions; each is
one type byte, then a strictly parsed body. Requests are 0x4_, answers 0x5_,
and a refusal is 0x7F as in sync/messages.py, so a device that reaches a
`circle serve` by mistake reads its ERROR as a refusal.

The signatures cover a fixed prefix, the Noise handshake hash (unique to one
connection, so a proof cannot be replayed elsewhere) and every field of the
message; `register_signed` and `open_signed` give those exact bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from circle.sync.wire import Reader, WireError, encode_uleb

REGISTER, OPEN, LIST, GET, PUT = 0x41, 0x42, 0x43, 0x44, 0x45
OK, NAMES, DATA, STORED, REFUSED = 0x50, 0x51, 0x52, 0x53, 0x7F

CIRCLE_ID_BYTES = 16
KEY_BYTES = 32
SIGNATURE_BYTES = 64
DIGEST_BYTES = 32
MAX_TOKEN_BYTES = 64
MAX_NAMES = 1_000_000
MAX_REASON_CHARS = 500
REGISTER_PREFIX = b"circle/relay/register/1\x00"
OPEN_PREFIX = b"circle/relay/open/1\x00"


class RelayWireError(WireError):
    """Bytes that are not a relay message; drop the connection."""


@dataclass(frozen=True)
class Register:
    circle_id: bytes
    admin_pub: bytes
    access_pub: bytes
    token: bytes  # empty: none given (re-registering a known circle needs none)
    signature: bytes  # by admin_pub over register_signed(...)


@dataclass(frozen=True)
class Open:
    circle_id: bytes
    access_pub: bytes
    signature: bytes  # by access_pub over open_signed(...)


def register_signed(handshake_hash: bytes, circle_id: bytes, admin_pub: bytes, access_pub: bytes,
                    token: bytes) -> bytes:
    return (REGISTER_PREFIX + handshake_hash + circle_id + admin_pub + access_pub
            + encode_uleb(len(token)) + token)


def open_signed(handshake_hash: bytes, circle_id: bytes, access_pub: bytes) -> bytes:
    return OPEN_PREFIX + handshake_hash + circle_id + access_pub


def _fixed(value: bytes, size: int, what: str) -> bytes:
    if len(value) != size:
        raise ValueError(f"{what} must be {size} bytes")
    return value


def encode_register(msg: Register) -> bytes:
    if len(msg.token) > MAX_TOKEN_BYTES:
        raise ValueError("token too long")
    return (bytes([REGISTER]) + _fixed(msg.circle_id, CIRCLE_ID_BYTES, "circle id")
            + _fixed(msg.admin_pub, KEY_BYTES, "admin key") + _fixed(msg.access_pub, KEY_BYTES, "access key")
            + encode_uleb(len(msg.token)) + msg.token + _fixed(msg.signature, SIGNATURE_BYTES, "signature"))


def encode_open(msg: Open) -> bytes:
    return (bytes([OPEN]) + _fixed(msg.circle_id, CIRCLE_ID_BYTES, "circle id")
            + _fixed(msg.access_pub, KEY_BYTES, "access key") + _fixed(msg.signature, SIGNATURE_BYTES, "signature"))


def encode_list() -> bytes:
    return bytes([LIST])


def encode_get(digest: bytes) -> bytes:
    return bytes([GET]) + _fixed(digest, DIGEST_BYTES, "digest")


def encode_put(data: bytes) -> bytes:
    return bytes([PUT]) + data


def encode_ok() -> bytes:
    return bytes([OK])


def encode_names(digests: list[bytes]) -> bytes:
    return bytes([NAMES]) + encode_uleb(len(digests)) + b"".join(_fixed(d, DIGEST_BYTES, "digest") for d in digests)


def encode_data(data: bytes) -> bytes:
    return bytes([DATA]) + data


def encode_stored(digest: bytes) -> bytes:
    return bytes([STORED]) + _fixed(digest, DIGEST_BYTES, "digest")


def encode_refused(reason: str) -> bytes:
    return bytes([REFUSED]) + reason[:MAX_REASON_CHARS].encode()


def decode_request(message: bytes):
    """(kind, value): Register, Open, None (LIST), a digest (GET) or the bundle (PUT)."""
    kind, reader = _start(message)
    if kind == REGISTER:
        circle, admin, access = reader.take(CIRCLE_ID_BYTES), reader.take(KEY_BYTES), reader.take(KEY_BYTES)
        length = reader.uleb()
        if length > MAX_TOKEN_BYTES:
            raise RelayWireError("token too long")
        value: object = Register(circle, admin, access, reader.take(length), reader.take(SIGNATURE_BYTES))
    elif kind == OPEN:
        value = Open(reader.take(CIRCLE_ID_BYTES), reader.take(KEY_BYTES), reader.take(SIGNATURE_BYTES))
    elif kind == LIST:
        value = None
    elif kind == GET:
        value = reader.take(DIGEST_BYTES)
    elif kind == PUT:
        return kind, message[1:]
    else:
        raise RelayWireError(f"unknown request type {kind}")
    reader.done()
    return kind, value


def decode_answer(message: bytes):
    """(kind, value): None (OK), a list of digests (NAMES), the bundle (DATA),
    a digest (STORED) or the reason (REFUSED, a str)."""
    kind, reader = _start(message)
    if kind == OK:
        value: object = None
    elif kind == NAMES:
        count = reader.uleb()
        if count > MAX_NAMES:
            raise RelayWireError("too many names")
        value = [reader.take(DIGEST_BYTES) for _ in range(count)]
    elif kind == DATA:
        return kind, message[1:]
    elif kind == STORED:
        value = reader.take(DIGEST_BYTES)
    elif kind == REFUSED:
        return kind, message[1 : 1 + MAX_REASON_CHARS * 4].decode("utf-8", "replace")
    else:
        raise RelayWireError(f"unknown answer type {kind}")
    reader.done()
    return kind, value


def _start(message: bytes) -> tuple[int, Reader]:
    if not message:
        raise RelayWireError("empty message")
    reader = Reader(message, RelayWireError)
    reader.take(1)
    return message[0], reader
