"""The one sanitizer for other members' text (circle.domain.untrusted.shown)."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings, strategies as st

from circle.domain.untrusted import shown

BIDI_AND_HIDDEN = set("\u061c\u180e\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                      "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff\ufff9\ufffa\ufffb")
HOSTILE_PIECES = ["\x1b", "\x1b[", "\x1b]52;c;", "\x07", "\x1b\\", "\x9b", "\x9d", "\x9c", "\x90", "\x9f",
                  "\r", "\n", "\t", "\x85", "\u2028", "\u202e", "\u2066", "\u200b", "\ud800", "\udfff",
                  "31m", "[/]", "[bold red]", "a", "é", "👩‍👩‍👧", " "]
hostile = st.lists(st.one_of(st.sampled_from(HOSTILE_PIECES), st.text(max_size=5)), max_size=30).map("".join)


def unsafe_chars(text: str, multiline: bool) -> list[str]:
    allowed = {"\n"} if multiline else set()
    return [c for c in text if c not in allowed and (unicodedata.category(c) in ("Cc", "Cs") or c in BIDI_AND_HIDDEN
                                                     or c in "\u2028\u2029")]


@settings(max_examples=400, deadline=None)
@given(hostile, st.booleans(), st.one_of(st.none(), st.integers(0, 40)))
def test_output_has_no_control_and_is_idempotent(text, multiline, limit):
    out = shown(text, multiline=multiline, limit=limit)
    assert unsafe_chars(out, multiline) == []
    assert shown(out, multiline=multiline, limit=limit) == out
    out.encode("utf-8")  # no lone surrogate left to break the encoder
    if limit is not None:
        assert len(out) <= limit
    if not multiline:
        assert "\n" not in out


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Cf", "Zl", "Zp")), max_size=60))
def test_ordinary_text_is_kept(text):
    assert shown(text, multiline=True) == text


def test_sequences_go_whole():
    assert shown("a\x1b[31mred\x1b[0m b") == "ared b"
    assert shown("x\x1b]52;c;aGVsbG8=\x07y") == "xy"
    assert shown("x\x1b]8;;http://e\x1b\\link\x1b]8;;\x1b\\y") == "xlinky"
    assert shown("x\x9b2Jy\x9d0;title\x9cz") == "xyz"
    assert shown("x\x1bPq#0;2;0;0;0\x1b\\y") == "xy"


def test_newlines_tabs_bidi_and_limits():
    assert shown("a\r\nb\rc\u2028d", multiline=True) == "a\nb\nc\nd"
    assert shown("a\nb\tc") == "a b c"
    assert shown("a\tb", multiline=True) == "a    b"
    assert shown("abc\u202edcba\u2066x\u2069") == "abcdcbax"
    assert shown("\ud800ok") == "\ufffdok"
    assert shown("x" * 100, limit=10) == "x" * 9 + "…"
    assert shown("[/][bold red]") == "[/][bold red]"  # markup is text; widgets must not parse it
