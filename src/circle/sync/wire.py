"""Reading our length-prefixed binary formats strictly."""

from __future__ import annotations

from circle.leb128 import decode_uleb, encode_uleb


class WireError(ValueError):
    """Bytes from elsewhere that do not parse; the message says where."""


class Reader:
    def __init__(self, data: bytes, error: type[WireError] = WireError) -> None:
        self.data, self.pos, self.error = data, 0, error

    def uleb(self) -> int:
        try:
            value, self.pos = decode_uleb(self.data, self.pos)
        except ValueError:
            raise self.error("truncated or oversized number") from None
        return value

    def take(self, count: int) -> bytes:
        if count > len(self.data) - self.pos:
            raise self.error("truncated")
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def items(self, max_items: int, max_item_bytes: int) -> tuple[bytes, ...]:
        count = self.uleb()
        if count > max_items:
            raise self.error("too many items")
        out = []
        for _ in range(count):
            length = self.uleb()
            if length > max_item_bytes:
                raise self.error("item too large")
            out.append(self.take(length))
        return tuple(out)

    def done(self) -> None:
        if self.pos != len(self.data):
            raise self.error("trailing bytes")


def items(chunks) -> bytes:
    chunks = tuple(chunks)
    return encode_uleb(len(chunks)) + b"".join(encode_uleb(len(c)) + c for c in chunks)


__all__ = ["Reader", "WireError", "encode_uleb", "items"]
