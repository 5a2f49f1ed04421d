"""What the commands print: other members' text made safe for a terminal, and --json answers."""

from __future__ import annotations

import json
import re
import sys
from datetime import datetime

from circle.domain.times import readable
from circle.domain.untrusted import shown
from circle.service import Service


def safe(text: str) -> str:
    """Other members' text as one plain line (circle.domain.untrusted.shown)."""
    return shown(text)


def when(record_stamp: str | None) -> str:
    """A record's JSON time (circle.domain.times.stamp) as a person reads it."""
    return readable(datetime.fromisoformat(record_stamp)) if record_stamp else "?"


def emit_json(value: object) -> None:
    sys.stdout.write(json_text(value))


# Outside its strings JSON is ASCII, so these can only sit inside one: as \u escapes the data
# stays whole (a peer's exact text) while no control or bidi character reaches the terminal.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069"
                          "\u2028\u2029\ufeff\ud800-\udfff]")


def json_text(value: object) -> str:
    """`value` as indented JSON, every character a terminal could act on escaped."""
    text = json.dumps(value, ensure_ascii=False, indent=2)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"


def _short(ident: str) -> str:
    return ident[:8]


def _done(args, record: dict, plain: object = None) -> int:
    """With --json, `record` as the whole of stdout; else `plain` on its own line (if any)."""
    if args.json:
        emit_json(record)
    elif plain is not None:
        print(plain)
    return 0


def _ok(args, service: Service, circle: str, member_ref: str, **fields) -> int:
    """The JSON answer of a governance action on a member; silent without --json."""
    member = service.resolve_member(circle, member_ref)
    return _done(args, {"ok": True, "circle": circle, "member": member.id, **fields})
