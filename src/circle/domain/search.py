"""Full-text matching: queries, folding, an in-memory index and snippets.

Matching ignores case and diacritics ("cafe" finds "Café", "STRASSE" finds "Straße"). A query
is a list of terms that must all occur; a term is one whole word, or a phrase: several words in
order with only spaces or punctuation between them (`"went for a walk"` quoted, or written with
punctuation as in `self-harm`). Nothing here is stored: the index is rebuilt in memory from what
the reader may see, so there is no plaintext copy of anyone's words on disk.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from circle.errors import InvalidInput

MAX_QUERY_CHARS = 200
MAX_TERMS = 12
SNIPPET_CHARS = 120
# Joins the folded texts in one string; `fold` never leaves one inside a text, and the gap
# allowed inside a phrase excludes it, so no match spans two items.
_SEPARATOR = "\x00"
_GAP = rf"[^\w{_SEPARATOR}]+"


@lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    decomposed = unicodedata.normalize("NFKD", char.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace(_SEPARATOR, " ")


def fold(text: str) -> str:
    """`text` without case or diacritics, as search compares it. Folding a text in one piece
    gives the same as folding it character by character (so offsets can be mapped back)."""
    if text.isascii():
        return text.lower().replace(_SEPARATOR, " ")
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace(_SEPARATOR, " ")


def _folded_with_origins(text: str) -> tuple[str, list[int]]:
    """`fold(text)` and, for each of its characters, the index of the character it came from."""
    pieces, origins = [], []
    for index, char in enumerate(text):
        folded = _fold_char(char)
        pieces.append(folded)
        origins.extend([index] * len(folded))
    return "".join(pieces), origins


@dataclass(frozen=True)
class Query:
    text: str
    terms: tuple[tuple[str, ...], ...]  # each term: its folded words, in order
    patterns: tuple[re.Pattern, ...]


def parse(text: str) -> Query:
    """A query: unquoted words are separate terms, a "quoted phrase" is one term."""
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidInput(f"a search is at most {MAX_QUERY_CHARS} characters")
    terms: list[tuple[str, ...]] = []
    for quoted, bare in re.findall(r'"([^"]*)"?|([^\s"]+)', text):
        if quoted:
            words = tuple(re.findall(r"\w+", fold(quoted)))
            if words:
                terms.append(words)
        else:
            # "self-harm" unquoted is still one phrase: its words, next to each other.
            words = tuple(re.findall(r"\w+", fold(bare)))
            if words:
                terms.append(words)
    terms = list(dict.fromkeys(terms))
    if not terms:
        raise InvalidInput("search for at least one word")
    if len(terms) > MAX_TERMS:
        raise InvalidInput(f"a search has at most {MAX_TERMS} words or phrases")
    return Query(text, tuple(terms), tuple(_pattern(words) for words in terms))


def _pattern(words: tuple[str, ...]) -> re.Pattern:
    # The word boundary before the first word is a fixed-width look-behind placed after it, so
    # the pattern starts with a literal and the engine skips ahead to it (about 70 times faster
    # on a large haystack than a leading look-behind, tried at every position).
    first, rest = words[0], words[1:]
    tail = "".join(_GAP + re.escape(w) for w in rest)
    return re.compile(rf"{re.escape(first)}(?<!\w.{{{len(first)}}}){tail}(?!\w)", re.DOTALL)


class TextIndex:
    """Many items' folded texts in one string, so each term of a query is one C-level scan.

    Items keep the order they were given in; `matching` returns their indexes in that order."""

    def __init__(self, texts: Sequence[str]) -> None:
        folded = [fold(t) for t in texts]
        self.starts: list[int] = []
        position = 0
        for piece in folded:
            self.starts.append(position)
            position += len(piece) + 1
        self.haystack = _SEPARATOR.join(folded)
        self.size = len(folded)

    def end(self, item: int) -> int:
        return self.starts[item + 1] - 1 if item + 1 < self.size else len(self.haystack)

    def _scan(self, pattern: re.Pattern) -> list[int]:
        # The rest of the item is consumed with each match, so the engine, not Python, moves
        # on to the next item: one match per matching item.
        whole = re.compile(f"(?:{pattern.pattern})[^{_SEPARATOR}]*", pattern.flags)
        starts = self.starts
        return [bisect_right(starts, m.start()) - 1 for m in whole.finditer(self.haystack)]

    def matching(self, query: Query) -> list[int]:
        """Indexes of the items that hold every term of `query`, in the items' order."""
        if not self.size:
            return []
        # Rarest first word first (str.count is one C pass); its items are then checked one
        # by one for the other terms, each a search over one short item (even for half the
        # circle, about twice as fast as scanning the whole haystack again and intersecting).
        order = sorted(zip(query.terms, query.patterns, strict=True), key=lambda tp: self.haystack.count(tp[0][0]))
        items = self._scan(order[0][1])
        for _, pattern in order[1:]:
            search, starts, end = pattern.search, self.starts, self.end
            items = [i for i in items if search(self.haystack, starts[i], end(i)) is not None]
        return items


@dataclass(frozen=True)
class Snippet:
    text: str
    marks: tuple[tuple[int, int], ...]  # spans of `text` that matched, for highlighting


def snippet(text: str, query: Query, width: int = SNIPPET_CHARS) -> Snippet:
    """A window of `text` around its first match, cut at spaces, with every match in it marked."""
    folded, origins = _folded_with_origins(text)
    spans = sorted(
        (origins[m.start()], origins[m.end() - 1] + 1)
        for pattern in query.patterns for m in pattern.finditer(folded)
    )
    if not spans:
        return Snippet(" ".join(text.split())[:width], ())
    first = spans[0][0]
    start = max(0, first - width // 3)
    if start:
        space = text.rfind(" ", 0, start + 1)
        start = space + 1 if space >= 0 and start - space < 20 else start
    stop = min(len(text), start + width)
    if stop < len(text):
        space = text.find(" ", stop - 20, stop)
        stop = space if space > first else stop
    prefix, suffix = ("…" if start else ""), ("…" if stop < len(text) else "")
    body = text[start:stop]
    # Line breaks become spaces one for one, so the marks keep their places.
    body = body.replace("\n", " ")
    shift = len(prefix) - start
    marks = tuple((max(a, start) + shift, min(b, stop) + shift) for a, b in spans if a < stop and b > start)
    return Snippet(prefix + body + suffix, marks)
