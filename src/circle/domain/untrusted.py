"""Text written by other members, made safe to put in front of a person.

Everything a member types (names, posts, notes, tags, titles, reasons, a circle's guidelines)
reaches other members' terminals. `shown` is the one place that text is cleaned before the TUI,
the CLI or a log line shows it: nothing in it may drive the terminal (escape sequences can set
the clipboard with OSC 52, retitle the window or move the cursor), reorder what a reader sees
(bidi overrides, "Trojan Source"), hide text (zero-width characters) or break the encoder (lone
surrogates). What is left is plain text; callers still render it as text, never as markup.
"""

from __future__ import annotations

import re

# Whole escape sequences go at once, so no "[31m" residue is left behind: CSI, OSC (ended by
# BEL or ST), DCS/SOS/PM/APC strings, two-character escapes; then the 8-bit C1 forms of the same.
_SEQUENCES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?"
    r"|\x1b[\x20-\x7e]?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
    r"|\x9d[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|[\x90\x98\x9e\x9f][^\x1b\x9c]*(?:\x1b\\|\x9c)?"
)
_NEWLINES = re.compile(r"\r\n?|[\x85\u2028\u2029]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
# C0 (but newline) and DEL and C1 controls; bidi marks, embeddings, overrides and isolates;
# zero-width characters that only hide text. ZWJ and ZWNJ (U+200C/D) stay: emoji sequences and
# several scripts need them.
_INVISIBLE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f"
    "\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb]"
)
TAB = "    "
ELLIPSIS = "…"


def shown(text: str, *, multiline: bool = False, limit: int | None = None) -> str:
    """`text` as plain printable characters: no control character, escape sequence, bidi control
    or lone surrogate (U+FFFD stands for one). Line breaks of every kind become "\\n" if
    `multiline`, else a space; a tab becomes spaces. With `limit`, at most `limit` characters
    (the last one an ellipsis when cut). Applying it twice changes nothing."""
    text = _SURROGATES.sub("\ufffd", text)
    text = _NEWLINES.sub("\n", text)
    text = _SEQUENCES.sub("", text)
    text = text.replace("\t", TAB if multiline else " ")
    text = _INVISIBLE.sub("", text)
    if not multiline:
        text = text.replace("\n", " ")
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)] + ELLIPSIS if limit > 0 else ""
    return text

