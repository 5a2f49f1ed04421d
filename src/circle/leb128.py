"""Unsigned LEB128, the variable-length integers of Automerge's formats and ours."""

from __future__ import annotations

MAX_SHIFT = 63


def encode_uleb(value: int) -> bytes:
    if value < 0:
        raise ValueError("LEB128 here is unsigned")
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | 0x80 if value else byte)
        if not value:
            return bytes(out)


def decode_uleb(data: bytes, pos: int) -> tuple[int, int]:
    """(value, position after it). Raises ValueError if truncated or over 64 bits."""
    value = shift = 0
    while True:
        if pos >= len(data) or shift > MAX_SHIFT:
            raise ValueError("bad LEB128 number")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
