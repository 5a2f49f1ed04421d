"""Reading the actor out of an Automerge operation id.

The Python binding returns object and op ids as the bytes of automerge's
`ExId::to_bytes`: a type byte, the actor id length (LEB128), the actor id, the
actor's index in the document (LEB128) and the op counter (LEB128). The root
object is the single byte 0x00. The actor is who wrote the op: the only source
of authorship we trust.
"""

from __future__ import annotations

from circle.leb128 import decode_uleb

ROOT_ID = b"\x00"


def op_actor(op_id: bytes) -> bytes | None:
    """The actor that wrote op `op_id`, or None for the document root."""
    if op_id == ROOT_ID:
        return None
    length, pos = decode_uleb(op_id, 1)
    actor = op_id[pos : pos + length]
    if len(actor) != length:
        raise ValueError("truncated actor in op id")
    return actor


def op_counter(op_id: bytes) -> int:
    length, pos = decode_uleb(op_id, 1)
    _, pos = decode_uleb(op_id, pos + length)
    counter, _ = decode_uleb(op_id, pos)
    return counter
