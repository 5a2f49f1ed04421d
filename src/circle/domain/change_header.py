"""Reading the header of an Automerge change chunk without applying it.

Before a change from the network touches the document we need its actor,
sequence number, start op, dependencies and hash, to check who wrote it. The
binding exposes these only for changes already inside a document, so this
module reads the documented chunk layout:

    magic 85 6f 4a 83 | checksum (4) | type (1) | length (uLEB) | body
    type 1 = change, 2 = change whose body is raw-deflate compressed
    body: deps (uLEB count, 32-byte hashes) | actor (uLEB len, bytes) |
          seq (uLEB) | start_op (uLEB) | ... (ops, not read here)

The hash is SHA-256 over type 1, the uncompressed length and body; the
checksum is its first four bytes. A chunk whose checksum does not match is
rejected, so the header we read is the one Automerge will apply.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass

from circle.leb128 import decode_uleb, encode_uleb

MAGIC = b"\x85\x6f\x4a\x83"
CHANGE, COMPRESSED_CHANGE = 1, 2
MAX_CHANGE_BYTES = 8 * 1024 * 1024
MAX_DEPS = 1024


class ChangeFormatError(ValueError):
    """The bytes are not a well-formed Automerge change chunk."""


@dataclass(frozen=True)
class ChangeHeader:
    hash: bytes
    deps: tuple[bytes, ...]
    actor: bytes
    seq: int
    start_op: int


def _uleb(data: bytes, pos: int) -> tuple[int, int]:
    try:
        return decode_uleb(data, pos)
    except ValueError:
        raise ChangeFormatError("bad LEB128 number") from None


def read_change_header(chunk: bytes) -> ChangeHeader:
    if len(chunk) > MAX_CHANGE_BYTES:
        raise ChangeFormatError("change too large")
    if len(chunk) < 10 or chunk[:4] != MAGIC:
        raise ChangeFormatError("not an Automerge chunk")
    kind = chunk[8]
    length, pos = _uleb(chunk, 9)
    if pos + length != len(chunk):
        raise ChangeFormatError("chunk length does not match")
    body = chunk[pos:]
    if kind == COMPRESSED_CHANGE:
        inflater = zlib.decompressobj(-15)
        try:
            body = inflater.decompress(body, MAX_CHANGE_BYTES)
        except zlib.error:
            raise ChangeFormatError("compressed change does not inflate") from None
        if inflater.unconsumed_tail or not inflater.eof:
            raise ChangeFormatError("compressed change is truncated or too large")
    elif kind != CHANGE:
        raise ChangeFormatError("chunk is not a change")
    digest = hashlib.sha256(bytes([CHANGE]) + encode_uleb(len(body)) + body).digest()
    if digest[:4] != chunk[4:8]:
        raise ChangeFormatError("change checksum does not match")
    count, p = _uleb(body, 0)
    if count > MAX_DEPS or p + 32 * count > len(body):
        raise ChangeFormatError("bad dependency list")
    deps = tuple(body[p + 32 * i : p + 32 * (i + 1)] for i in range(count))
    p += 32 * count
    actor_len, p = _uleb(body, p)
    actor = body[p : p + actor_len]
    if len(actor) != actor_len or not 1 <= actor_len <= 64:
        raise ChangeFormatError("bad actor id")
    seq, p = _uleb(body, p + actor_len)
    start_op, p = _uleb(body, p)
    if seq < 1 or start_op < 1:
        raise ChangeFormatError("bad sequence numbers")
    return ChangeHeader(digest, deps, actor, seq, start_op)
