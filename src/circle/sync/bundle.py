"""Bundles: the unit members exchange, sealed with a circle epoch key.

    bundle  := "CB" | version (1) | kind (1) | circle id (16) | epoch id (16) |
               uLEB length + lockbox | sealed
    sealed  := AES-256-GCM(epoch key, payload),
               AD = "circle/envelope/v1/<circle>/<epoch>/<kind>/" + every header byte before it
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
from circle.sync.wire import Reader, WireError, encode_uleb, items

VERSION = 1
DELTA, WELCOME = 1, 2
_KIND_NAMES = {DELTA: "delta", WELCOME: "welcome"}
MAX_ITEMS = 1_000_000
MAX_ITEM_BYTES = 512 * 1024 * 1024


class BundleError(WireError):
    """Malformed, unauthentic or unreadable bundle; the message says which."""


@dataclass(frozen=True)
class BundleContent:
    actions: tuple[bytes, ...] = ()
    changes: tuple[bytes, ...] = ()
    heads: tuple[bytes, ...] = ()
    document: bytes = b""


def encode_content(content: BundleContent) -> bytes:
    return b"".join(
        items(section) for section in (content.actions, content.changes, content.heads, (content.document,))
    )


def decode_content(payload: bytes) -> BundleContent:
    reader = Reader(payload, BundleError)
    actions, changes, heads, document = (reader.items(MAX_ITEMS, MAX_ITEM_BYTES) for _ in range(4))
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
    header += encode_uleb(len(lockbox)) + lockbox
    return header + seal_envelope(key, circle_id, epoch_id, _KIND_NAMES[kind], encode_content(content), header)


def read_header(bundle: bytes) -> BundleHeader:
    if len(bundle) < 37 or bundle[:2] != b"CB":
        raise BundleError("not a circle bundle")
    if bundle[2] != VERSION:
        raise BundleError(f"bundle version {bundle[2]} is not supported")
    if bundle[3] not in _KIND_NAMES:
        raise BundleError("unknown bundle kind")
    reader = Reader(bundle, BundleError)
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
            key, header.circle_id, header.epoch_id, _KIND_NAMES[header.kind], bundle[header.body_offset :],
            bundle[: header.body_offset],
        )
    except SealError:
        raise BundleError("bundle failed authentication (tampered, truncated or wrong key)") from None
    return header, decode_content(payload)
