"""The feed's layout index: how many rows each post takes at one width, and which post covers a row.

Each post's height is first *estimated* from a few width-independent numbers (cheap enough for
100k posts) and replaced by the exact height the first time it is on screen; the prefix sums
are then rebuilt only from the first changed post (docs/performance.md, "Feed rendering"). Only
arithmetic lives here: no Textual, no rendering, so it can be tested on its own.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate
from typing import Callable

from circle.tui.feed_items import FeedItem

GUTTER = 2  # cursor marker and a space
INDENT_STEP = 2
MAX_INDENT_DEPTH = 4
MIN_TEXT_WIDTH = 8

Shape = tuple[int, int, int, int]
"""(fixed lines, text length, forced line breaks, depth): what the height estimate needs."""


def indent_of(depth: int) -> int:
    return min(max(depth, 0), MAX_INDENT_DEPTH) * INDENT_STEP


def text_width(width: int, depth: int) -> int:
    """Cells left for a post's text at `depth` in a view `width` cells wide."""
    return max(MIN_TEXT_WIDTH, width - GUTTER - indent_of(depth))


def shape(item: FeedItem, revealed: bool) -> Shape:
    """Width-independent numbers for the height estimate: (fixed lines, text length,
    forced line breaks, depth). Mirrors the paragraphs of `feed_render.body_pieces`."""
    fixed = 2 + bool(item.reactions)
    if item.deleted:
        return fixed, 9, 0, item.depth
    length, breaks = 0, -1
    if item.hidden:
        length += 24 + len(item.hidden_reason or "")
        breaks += 1
    body = item.body
    if body or not item.hidden:
        folded, warning = item.collapsed_reason, item.content_warning
        if (folded or warning) and not revealed:
            # "Folded: F · CW: W — press enter to read", either part optional
            length += 23 + (8 + len(folded) if folded else 0) + (4 + len(warning) if warning else 0)
            length += 3 if folded and warning else 0
            breaks += 1
        else:
            if folded:
                length += len(folded) + 10
                breaks += 1
            if warning:
                length += len(warning) + 4
                breaks += 1
            if body:
                length += len(body)
                breaks += 1 + body.count("\n")
    return fixed, length, max(breaks, 0), item.depth


def shapes(items: list[FeedItem], revealed: set[str]) -> list[Shape]:
    """`shape` of every item, with the plain post (no CW or fold, not hidden or deleted)
    inlined: this runs over every post in `FeedView.set_items`."""
    return [
        (2 + (not not item.reactions), len(item.body), item.body.count("\n"), item.depth)
        if not (item.content_warning or item.collapsed_reason or item.hidden or item.deleted)
        else shape(item, item.id in revealed)
        for item in items
    ]


def estimate(shapes: list[Shape], width: int) -> list[int]:
    """Estimated heights at `width`. Word wrap leaves about two cells per line unused and each
    paragraph's last line half empty: lines ~ round(length / (avail - 2) + paragraphs / 2),
    calibrated against exact wrapping (bench/feed_paint.py --layout-only)."""
    widths = [text_width(width, depth) for depth in range(MAX_INDENT_DEPTH + 1)]
    out = []
    add = out.append
    for fixed, length, breaks, depth in shapes:
        avail = widths[0 if depth < 0 else min(depth, MAX_INDENT_DEPTH)]
        if length <= avail:
            add(fixed + breaks + (length > 0 or breaks > 0))
        else:
            usable = avail - 2
            add(fixed + (2 * length + (breaks + 2) * usable) // (2 * usable))
    return out


class FeedLayout:
    """Heights of every post at one width, and the prefix sums that map a row to a post.

    Rows are counted from the top of the feed; `top` is the first row on screen and `height`
    the number of rows the view shows."""

    __slots__ = ("width", "heights", "exact", "starts", "_stale_from")

    def __init__(self, width: int, heights: list[int]) -> None:
        self.width = width
        self.heights = heights
        self.exact = bytearray(len(heights))
        self.starts = list(accumulate(heights, initial=0))
        self._stale_from = len(heights)

    @property
    def total(self) -> int:
        return self.starts[-1]

    def post_at(self, y: int) -> int:
        """Index of the post covering row `y` (clamped to the first/last post)."""
        return min(max(bisect_right(self.starts, y) - 1, 0), len(self.heights) - 1)

    def set_exact(self, index: int, height: int) -> bool:
        """Record a measured height; True if it differed from the estimate."""
        self.exact[index] = 1
        if self.heights[index] == height:
            return False
        self.heights[index] = height
        self._stale_from = min(self._stale_from, index)
        return True

    def reindex(self) -> None:
        """Recompute the prefix sums after the first changed post (cheap near the end)."""
        low = self._stale_from
        if low < len(self.heights):
            self.starts[low:] = accumulate(self.heights[low:], initial=self.starts[low])
            self._stale_from = len(self.heights)

    def ensure_exact(self, index: int, measure: Callable[[int], int]) -> None:
        """Measure post `index` if its height is still an estimate, and reindex."""
        if not self.exact[index]:
            self.set_exact(index, measure(index))
            self.reindex()

    def measure_rows(self, top: int, height: int, measure: Callable[[int], int]) -> bool:
        """Replace estimates by `measure(index)` for the posts covering rows [top, top+height);
        True if any height changed (the prefix sums are then up to date again)."""
        changed = False
        count = len(self.heights)
        index = self.post_at(top) if count else 0
        y = self.starts[index] if count else 0
        while index < count and y < top + height:
            if not self.exact[index]:
                changed |= self.set_exact(index, measure(index))
            y += self.heights[index]
            index += 1
        self.reindex()
        return changed

    def extent(self, index: int) -> tuple[int, int]:
        """First row and end row of a post, leaving out its blank separator."""
        start = self.starts[index]
        return start, start + max(self.heights[index] - 1, 1)

    def on_screen(self, index: int, top: int, height: int) -> bool:
        """Whether any row of post `index` (but its separator) is in [top, top+height)."""
        start, end = self.extent(index)
        return start < top + height and end > top

    def first_starting_from(self, top: int) -> int | None:
        """The first post whose first row is `top` or below; None if there is none."""
        count = len(self.heights)
        if not count:
            return None
        first = self.post_at(top)
        if self.starts[first] < top:
            first += 1
        return first if first < count else None

    def visible_index(self, top: int, height: int, selected: int | None) -> int:
        """`selected` if it is on screen, else the first post that starts on screen, else
        the post covering row `top`."""
        if selected is not None and self.on_screen(selected, top, height):
            return selected
        first = self.post_at(top)
        if self.starts[first] < top and first + 1 < len(self.heights):
            first += self.on_screen(first + 1, top, height)
        return first

    def anchor_at(self, top: int, height: int, selected: int | None) -> tuple[int, int]:
        """The post to keep in place across a change, and how many rows `top` is below its
        first row: `selected` if it is on screen, else the post covering row `top`."""
        if selected is None or not self.on_screen(selected, top, height):
            selected = self.post_at(top)
        return selected, top - self.starts[selected]

    def anchor_row(self, index: int, offset: int) -> int:
        """The row `offset` rows into post `index`, kept within the post."""
        return max(self.starts[index] + min(offset, self.heights[index] - 1), 0)

    def target_for(self, index: int, top: int, height: int) -> int | None:
        """The `top` that shows post `index` (or fills the view with it, if it is taller than
        the view) by the least distance; None if no scrolling is needed."""
        start, end = self.extent(index)
        tall = end - start > height
        if (start > top) if tall else (start < top):
            return start
        if (end < top + height) if tall else (end > top + height):
            return end - height
        return None

    def scroll_within(self, index: int, top: int, height: int, delta: int) -> int | None:
        """The next `top` when moving by `delta` (+1 down, -1 up) through post `index` that
        goes on past the view in that direction, a page (less two rows) at a time; None if the
        post is already shown to its end that way."""
        start, end = self.extent(index)
        step = max(height - 2, 1)
        if delta > 0 and end > top + height:
            return min(top + step, end - height)
        if delta < 0 and start < top:
            return max(top - step, start)
        return None
