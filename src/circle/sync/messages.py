"""Session messages: one type byte, then a strictly parsed body (docs/protocol.md)."""

from __future__ import annotations

from dataclasses import dataclass

from circle.sync.wire import Reader, WireError, encode_uleb

STATE, OFFER, BUNDLE, SYNCED, JOIN, WELCOME, PING, ERROR = 0x01, 0x02, 0x03, 0x04, 0x10, 0x11, 0x20, 0x7F
MAX_ACTORS = 100_000
MAX_ACTIONS = 100_000
MAX_ERROR_CHARS = 500


class MessageError(WireError):
    """A peer sent a message we cannot parse: drop it."""


@dataclass(frozen=True)
class State:
    """What one side holds of a circle: a digest, a version vector, action ids."""

    circle_id: str
    digest: bytes
    vector: dict[bytes, int]
    action_ids: frozenset[str]


@dataclass(frozen=True)
class Offer:
    circle_id: str
    items: int
    bytes: int


@dataclass(frozen=True)
class Synced:
    circle_id: str
    digest: bytes


def encode_state(state: State) -> bytes:
    out = bytearray([STATE]) + bytes.fromhex(state.circle_id) + state.digest
    out += encode_uleb(len(state.vector))
    for actor, seq in sorted(state.vector.items()):
        out += actor + encode_uleb(seq)
    out += encode_uleb(len(state.action_ids))
    for action_id in sorted(state.action_ids):
        out += bytes.fromhex(action_id)
    return bytes(out)


def encode_offer(offer: Offer) -> bytes:
    return bytes([OFFER]) + bytes.fromhex(offer.circle_id) + encode_uleb(offer.items) + encode_uleb(offer.bytes)


def encode_synced(synced: Synced) -> bytes:
    return bytes([SYNCED]) + bytes.fromhex(synced.circle_id) + synced.digest


def encode_raw(kind: int, body: bytes = b"") -> bytes:
    return bytes([kind]) + body


def encode_error(reason: str) -> bytes:
    return bytes([ERROR]) + reason[:MAX_ERROR_CHARS].encode()


def decode(message: bytes):
    """Returns (kind, value): a State/Offer/Synced, bytes for raw kinds, str for ERROR."""
    if not message:
        raise MessageError("empty message")
    kind, body = message[0], message[1:]
    if kind == STATE:
        return kind, _decode_state(body)
    if kind == OFFER:
        reader = Reader(body, MessageError)
        circle = reader.take(16).hex()
        offer = Offer(circle, reader.uleb(), reader.uleb())
        reader.done()
        return kind, offer
    if kind == SYNCED:
        if len(body) != 48:
            raise MessageError("bad synced message")
        return kind, Synced(body[:16].hex(), body[16:])
    if kind in (BUNDLE, JOIN, WELCOME):
        return kind, body
    if kind == PING:
        if body:
            raise MessageError("ping carries nothing")
        return kind, b""
    if kind == ERROR:
        return kind, body[: MAX_ERROR_CHARS * 4].decode("utf-8", "replace")
    raise MessageError(f"unknown message type {kind}")


def _decode_state(body: bytes) -> State:
    reader = Reader(body, MessageError)
    circle = reader.take(16).hex()
    digest = reader.take(32)
    count = reader.uleb()
    if count > MAX_ACTORS:
        raise MessageError("too many actors")
    vector = {}
    for _ in range(count):
        actor = reader.take(16)
        vector[actor] = reader.uleb()
    count = reader.uleb()
    if count > MAX_ACTIONS:
        raise MessageError("too many actions")
    actions = frozenset(reader.take(32).hex() for _ in range(count))
    reader.done()
    return State(circle, digest, vector, actions)
