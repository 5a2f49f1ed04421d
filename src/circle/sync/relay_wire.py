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
JOIN_PUT, JOIN_LIST, JOIN_ANSWER, JOIN_FETCH = 0x46, 0x47, 0x48, 0x49
OK, NAMES, DATA, STORED, REFUSED = 0x50, 0x51, 0x52, 0x53, 0x7F
WAITING, JOIN_REQUESTS = 0x54, 0x56

CIRCLE_ID_BYTES = 16
KEY_BYTES = 32
SIGNATURE_BYTES = 64
DIGEST_BYTES = 32
MAX_TOKEN_BYTES = 64
MAX_NAMES = 1_000_000
MAX_REASON_CHARS = 500
MAX_JOIN_REQUEST_BYTES = 4096  # a sealed join request
MAX_JOIN_REQUESTS = 1000  # in one JOIN_REQUESTS (the relay lists far fewer)
NO_SUCH_JOIN_REQUEST = "no such join request (it expired, or never reached this relay)"
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


@dataclass(frozen=True)
class JoinPut:
    circle_id: bytes
    area_id: bytes
    request_id: bytes
    sealed: bytes  # the request, sealed under the area's key


@dataclass(frozen=True)
class JoinAnswer:
    request_id: bytes
    sealed: bytes  # the answer, sealed under the area's key


@dataclass(frozen=True)
class JoinFetch:
    circle_id: bytes
    request_id: bytes


@dataclass(frozen=True)
class JoinRequest:
    """One unanswered request as JOIN_REQUESTS lists it."""

    request_id: bytes
    area_id: bytes
    sealed: bytes


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


def _sealed_request(sealed: bytes) -> bytes:
    if not 0 < len(sealed) <= MAX_JOIN_REQUEST_BYTES:
        raise ValueError(f"a sealed join request is 1 to {MAX_JOIN_REQUEST_BYTES} bytes")
    return sealed


def encode_join_put(msg: JoinPut) -> bytes:
    return (bytes([JOIN_PUT]) + _fixed(msg.circle_id, CIRCLE_ID_BYTES, "circle id")
            + _fixed(msg.area_id, DIGEST_BYTES, "area id") + _fixed(msg.request_id, DIGEST_BYTES, "request id")
            + _sealed_request(msg.sealed))


def encode_join_list() -> bytes:
    return bytes([JOIN_LIST])


def encode_join_answer(msg: JoinAnswer) -> bytes:
    if not msg.sealed:
        raise ValueError("an empty join answer")
    return bytes([JOIN_ANSWER]) + _fixed(msg.request_id, DIGEST_BYTES, "request id") + msg.sealed


def encode_join_fetch(msg: JoinFetch) -> bytes:
    return (bytes([JOIN_FETCH]) + _fixed(msg.circle_id, CIRCLE_ID_BYTES, "circle id")
            + _fixed(msg.request_id, DIGEST_BYTES, "request id"))


def encode_waiting() -> bytes:
    return bytes([WAITING])


def encode_join_requests(requests: list[JoinRequest]) -> bytes:
    out = bytearray([JOIN_REQUESTS]) + encode_uleb(len(requests))
    for r in requests:
        sealed = _sealed_request(r.sealed)
        out += (_fixed(r.request_id, DIGEST_BYTES, "request id") + _fixed(r.area_id, DIGEST_BYTES, "area id")
                + encode_uleb(len(sealed)) + sealed)
    return bytes(out)


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
    """(kind, value): Register, Open, None (LIST, JOIN_LIST), a digest (GET), the bundle
    (PUT), JoinPut, JoinAnswer or JoinFetch."""
    kind, reader = _start(message)
    if kind == REGISTER:
        circle, admin, access = reader.take(CIRCLE_ID_BYTES), reader.take(KEY_BYTES), reader.take(KEY_BYTES)
        length = reader.uleb()
        if length > MAX_TOKEN_BYTES:
            raise RelayWireError("token too long")
        value: object = Register(circle, admin, access, reader.take(length), reader.take(SIGNATURE_BYTES))
    elif kind == OPEN:
        value = Open(reader.take(CIRCLE_ID_BYTES), reader.take(KEY_BYTES), reader.take(SIGNATURE_BYTES))
    elif kind == LIST or kind == JOIN_LIST:
        value = None
    elif kind == JOIN_PUT:
        circle, area, request = reader.take(CIRCLE_ID_BYTES), reader.take(DIGEST_BYTES), reader.take(DIGEST_BYTES)
        sealed = message[1 + CIRCLE_ID_BYTES + 2 * DIGEST_BYTES:]
        if not 0 < len(sealed) <= MAX_JOIN_REQUEST_BYTES:
            raise RelayWireError(f"a sealed join request is 1 to {MAX_JOIN_REQUEST_BYTES} bytes")
        return kind, JoinPut(circle, area, request, sealed)
    elif kind == JOIN_ANSWER:
        request = reader.take(DIGEST_BYTES)
        sealed = message[1 + DIGEST_BYTES:]
        if not sealed:
            raise RelayWireError("an empty join answer")
        return kind, JoinAnswer(request, sealed)
    elif kind == JOIN_FETCH:
        value = JoinFetch(reader.take(CIRCLE_ID_BYTES), reader.take(DIGEST_BYTES))
    elif kind == GET:
        value = reader.take(DIGEST_BYTES)
    elif kind == PUT:
        return kind, message[1:]
    else:
        raise RelayWireError(f"unknown request type {kind}")
    reader.done()
    return kind, value


def decode_answer(message: bytes):
    """(kind, value): None (OK, WAITING), a list of digests (NAMES), the bundle or
    join answer (DATA), a digest (STORED), a list of JoinRequest (JOIN_REQUESTS)
    or the reason (REFUSED, a str)."""
    kind, reader = _start(message)
    if kind == OK or kind == WAITING:
        value: object = None
    elif kind == JOIN_REQUESTS:
        count = reader.uleb()
        if count > MAX_JOIN_REQUESTS:
            raise RelayWireError("too many join requests")
        requests = []
        for _ in range(count):
            request, area, length = reader.take(DIGEST_BYTES), reader.take(DIGEST_BYTES), reader.uleb()
            if not 0 < length <= MAX_JOIN_REQUEST_BYTES:
                raise RelayWireError("a join request of a size out of range")
            requests.append(JoinRequest(request, area, reader.take(length)))
        value = requests
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
