"""Decoding the operations inside an Automerge change chunk (columnar format).

We need to know, before applying a change from the network, which objects
and keys it writes and which earlier values it overwrites, so a member can be
stopped from touching what is not theirs (see `ownership.py`). The layout, after
the header fields `change_header.py` reads:

    time (sLEB) | message (uLEB length + UTF-8) | other actors (uLEB count, each uLEB len + bytes)
    column count (uLEB) | per column: spec (uLEB), data length (uLEB) | column data ... | extra bytes

A column spec is (column id << 4) | deflate bit (8) | type (0-7). Columns hold
one value per op: RLE runs of uLEB/sLEB/strings/actor indexes, delta-encoded
integers, or boolean run lengths. Unknown columns are skipped (the format lets
newer writers add columns); a change that uses deflated columns or does not
parse is rejected by the caller.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from circle.domain.change_header import COMPRESSED_CHANGE, MAGIC, MAX_CHANGE_BYTES, ChangeFormatError
from circle.leb128 import decode_uleb

# Column specs (id << 4 | type) of the op columns we read.
OBJ_ACTOR, OBJ_CTR = 0x01, 0x02
KEY_ACTOR, KEY_CTR, KEY_STR = 0x11, 0x13, 0x15
INSERT, ACTION = 0x34, 0x42
PRED_GROUP, PRED_ACTOR, PRED_CTR = 0x70, 0x71, 0x73

MAKE_MAP, PUT, MAKE_LIST, DELETE, MAKE_TEXT, INCREMENT = 0, 1, 2, 3, 4, 5
MAX_OPS = 1_000_000


@dataclass(frozen=True)
class OpId:
    counter: int
    actor: bytes | None  # None only for the document root


@dataclass(frozen=True)
class Op:
    id: OpId
    obj: OpId | None  # None is the root map
    key: str | OpId | None  # map key, or for lists the element (None = head)
    insert: bool
    action: int
    preds: tuple[OpId, ...]


def _sleb(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ChangeFormatError("bad signed LEB128 number")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            if byte & 0x40:
                value -= 1 << shift
            return value, pos


def _uleb(data: bytes, pos: int) -> tuple[int, int]:
    try:
        return decode_uleb(data, pos)
    except ValueError:
        raise ChangeFormatError("bad LEB128 number") from None


def _rle(data: bytes, read_value) -> list:
    """Run-length encoded column: (sLEB count > 0, value) | (count < 0, -count values) | (0, uLEB nulls)."""
    out, pos = [], 0
    while pos < len(data):
        count, pos = _sleb(data, pos)
        if count > 0:
            value, pos = read_value(data, pos)
            out.extend([value] * count)
        elif count < 0:
            for _ in range(-count):
                value, pos = read_value(data, pos)
                out.append(value)
        else:
            nulls, pos = _uleb(data, pos)
            out.extend([None] * nulls)
        if len(out) > MAX_OPS:
            raise ChangeFormatError("too many values in a column")
    return out


def _string(data: bytes, pos: int) -> tuple[str, int]:
    length, pos = _uleb(data, pos)
    raw = data[pos : pos + length]
    if len(raw) != length:
        raise ChangeFormatError("truncated string")
    try:
        return raw.decode("utf-8"), pos + length
    except UnicodeDecodeError:
        raise ChangeFormatError("string is not UTF-8") from None


def _delta(data: bytes) -> list:
    out: list[int | None] = []
    last = 0
    for step in _rle(data, _sleb):
        if step is None:
            out.append(None)
        else:
            last += step
            out.append(last)
    return out


def _booleans(data: bytes) -> list[bool]:
    out, pos, value = [], 0, False
    while pos < len(data):
        count, pos = _uleb(data, pos)
        out.extend([value] * count)
        if len(out) > MAX_OPS:
            raise ChangeFormatError("too many values in a column")
        value = not value
    return out


def read_ops(chunk: bytes) -> tuple[bytes, list[Op]]:
    """The change's actor and its operations, in order."""
    if len(chunk) > MAX_CHANGE_BYTES or len(chunk) < 10 or chunk[:4] != MAGIC:
        raise ChangeFormatError("not an Automerge change")
    length, pos = _uleb(chunk, 9)
    body = chunk[pos : pos + length]
    if chunk[8] == COMPRESSED_CHANGE:
        inflater = zlib.decompressobj(-15)
        try:
            body = inflater.decompress(body, MAX_CHANGE_BYTES)
        except zlib.error:
            raise ChangeFormatError("compressed change does not inflate") from None
    deps, pos = _uleb(body, 0)
    pos += 32 * deps
    actor_len, pos = _uleb(body, pos)
    actor = body[pos : pos + actor_len]
    pos += actor_len
    _, pos = _uleb(body, pos)  # seq
    start_op, pos = _uleb(body, pos)
    _, pos = _sleb(body, pos)  # time
    message_len, pos = _uleb(body, pos)
    pos += message_len
    others, pos = _uleb(body, pos)
    actors = [actor]
    for _ in range(others):
        other_len, pos = _uleb(body, pos)
        actors.append(body[pos : pos + other_len])
        pos += other_len
    count, pos = _uleb(body, pos)
    specs = []
    for _ in range(count):
        spec, pos = _uleb(body, pos)
        size, pos = _uleb(body, pos)
        specs.append((spec, size))
    columns: dict[int, bytes] = {}
    for spec, size in specs:
        data = body[pos : pos + size]
        if len(data) != size:
            raise ChangeFormatError("truncated column")
        pos += size
        if spec & 0x08:
            raise ChangeFormatError("deflated op columns are not accepted")
        columns[spec] = data
    return actor, _assemble(columns, actors, start_op)


def _actor_at(actors: list[bytes], index) -> bytes | None:
    if index is None:
        return None
    if not 0 <= index < len(actors):
        raise ChangeFormatError("actor index out of range")
    return actors[index]


def _assemble(columns: dict[int, bytes], actors: list[bytes], start_op: int) -> list[Op]:
    actions = _rle(columns.get(ACTION, b""), _uleb)
    n = len(actions)

    def column(spec, reader):
        values = reader(columns.get(spec, b""))
        values += [None] * (n - len(values))
        if len(values) != n:
            raise ChangeFormatError("columns disagree on the number of ops")
        return values

    obj_actor = column(OBJ_ACTOR, lambda d: _rle(d, _uleb))
    obj_ctr = column(OBJ_CTR, lambda d: _rle(d, _uleb))
    key_actor = column(KEY_ACTOR, lambda d: _rle(d, _uleb))
    key_ctr = column(KEY_CTR, _delta)
    key_str = column(KEY_STR, lambda d: _rle(d, _string))
    insert = column(INSERT, _booleans)
    pred_group = column(PRED_GROUP, lambda d: _rle(d, _uleb))
    pred_actor = _rle(columns.get(PRED_ACTOR, b""), _uleb)
    pred_ctr = _delta(columns.get(PRED_CTR, b""))
    if sum(g or 0 for g in pred_group) != len(pred_actor) or len(pred_actor) != len(pred_ctr):
        raise ChangeFormatError("pred columns disagree")
    ops, next_pred = [], 0
    for i in range(n):
        obj = None
        if obj_ctr[i] is not None:
            obj = OpId(obj_ctr[i], _actor_at(actors, obj_actor[i]))
        if key_str[i] is not None:
            key = key_str[i]
        elif key_ctr[i] == 0 or key_ctr[i] is None:
            key = None
        else:
            key = OpId(key_ctr[i], _actor_at(actors, key_actor[i]))
        preds = []
        for _ in range(pred_group[i] or 0):
            preds.append(OpId(pred_ctr[next_pred], _actor_at(actors, pred_actor[next_pred])))
            next_pred += 1
        if actions[i] is None:
            raise ChangeFormatError("op without an action")
        ops.append(Op(OpId(start_op + i, actors[0]), obj, key, bool(insert[i]), actions[i], tuple(preds)))
    return ops
