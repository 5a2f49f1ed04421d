"""Bundles: the unit members exchange, sealed with a circle epoch key.

    bundle  := "CB" | version (1) | kind (1) | circle id (16) | epoch id (16) |
               uLEB length + lockbox | sealed
    sealed  := AES-256-GCM(epoch key, payload), AD = circle/envelope/v1/<circle>/<epoch>/<kind>
    payload := section(actions) section(changes) section(heads) section(document)
    section := uLEB count, then each item as uLEB length + bytes

kind 1 (delta) carries governance actions, raw Automerge changes and the signed
heads vouching for them; kind 2 (welcome) carries the same plus a compacted
document, for a newcomer. A bundle addressed to one device carries a lockbox:
the epoch key sealed to that device (crypto/lockbox.py), so it opens even if the
rotation that created the epoch is inside it. A bundle for anyone holding the
key (the folder transport) has an empty lockbox.

Parsing is strict: every length is bounded, nothing trails, and a bundle that
fails authentication is rejected before anything in it is looked at.
"""

from __future__ import annotations

from dataclasses import dataclass

from circle.crypto.aead import SealError
from circle.crypto.envelope import open_envelope, seal_envelope

VERSION = 1
DELTA, WELCOME = 1, 2
_KIND_NAMES = {DELTA: "delta", WELCOME: "welcome"}
MAX_ITEMS = 1_000_000
MAX_ITEM_BYTES = 512 * 1024 * 1024


class BundleError(ValueError):
    """Malformed, unauthentic or unreadable bundle; the message says which."""


@dataclass(frozen=True)
class BundleContent:
    actions: tuple[bytes, ...] = ()
    changes: tuple[bytes, ...] = ()
    heads: tuple[bytes, ...] = ()
    document: bytes = b""


def _uleb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | 0x80 if value else byte)
        if not value:
            return bytes(out)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def uleb(self) -> int:
        value = shift = 0
        while True:
            if self.pos >= len(self.data) or shift > 63:
                raise BundleError("bundle is truncated")
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7

    def take(self, count: int) -> bytes:
        if count > len(self.data) - self.pos:
            raise BundleError("bundle is truncated")
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def items(self) -> tuple[bytes, ...]:
        count = self.uleb()
        if count > MAX_ITEMS:
            raise BundleError("bundle has too many items")
        out = []
        for _ in range(count):
            length = self.uleb()
            if length > MAX_ITEM_BYTES:
                raise BundleError("bundle item too large")
            out.append(self.take(length))
        return tuple(out)

    def done(self) -> None:
        if self.pos != len(self.data):
            raise BundleError("bundle has trailing bytes")


def _encode_items(items: tuple[bytes, ...]) -> bytes:
    return _uleb(len(items)) + b"".join(_uleb(len(item)) + item for item in items)


def encode_content(content: BundleContent) -> bytes:
    return b"".join(
        _encode_items(section)
        for section in (content.actions, content.changes, content.heads, (content.document,))
    )


def decode_content(payload: bytes) -> BundleContent:
    reader = _Reader(payload)
    actions, changes, heads, document = (reader.items() for _ in range(4))
    reader.done()
    if len(document) != 1:
        raise BundleError("bundle must carry exactly one document slot")
    return BundleContent(actions, changes, heads, document[0])


MAX_LOCKBOX_BYTES = 4096


@dataclass(frozen=True)
class BundleHeader:
    kind: int
    circle_id: str
    epoch_id: str
    lockbox: bytes
    body_offset: int


def seal_bundle(
    key: bytes, circle_id: str, epoch_id: str, kind: int, content: BundleContent, lockbox: bytes = b""
) -> bytes:
    header = b"CB" + bytes([VERSION, kind]) + bytes.fromhex(circle_id) + bytes.fromhex(epoch_id)
    header += _uleb(len(lockbox)) + lockbox
    return header + seal_envelope(key, circle_id, epoch_id, _KIND_NAMES[kind], encode_content(content))


def read_header(bundle: bytes) -> BundleHeader:
    if len(bundle) < 37 or bundle[:2] != b"CB":
        raise BundleError("not a circle bundle")
    if bundle[2] != VERSION:
        raise BundleError(f"bundle version {bundle[2]} is not supported")
    if bundle[3] not in _KIND_NAMES:
        raise BundleError("unknown bundle kind")
    reader = _Reader(bundle)
    reader.pos = 36
    length = reader.uleb()
    if length > MAX_LOCKBOX_BYTES:
        raise BundleError("bundle lockbox too large")
    lockbox = reader.take(length)
    return BundleHeader(bundle[3], bundle[4:20].hex(), bundle[20:36].hex(), lockbox, reader.pos)


def open_bundle(key: bytes, bundle: bytes) -> tuple[BundleHeader, BundleContent]:
    header = read_header(bundle)
    try:
        payload = open_envelope(
            key, header.circle_id, header.epoch_id, _KIND_NAMES[header.kind], bundle[header.body_offset :]
        )
    except SealError:
        raise BundleError("bundle failed authentication (tampered, truncated or wrong key)") from None
    return header, decode_content(payload)
