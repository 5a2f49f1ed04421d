"""Keeping the feed still while estimated heights become exact.

When a post's measured height differs from its estimate, every row below it moves. These
functions measure what is on screen and scroll by the same amount, so the rows a reader is
looking at stay where they were (and the end of the feed stays at the end). They drive the view
only through a `ScrollPort`, so they can be checked without an app.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from circle.tui.feed_layout import FeedLayout

SETTLE_ROUNDS = 16  # a bound, so a frame never waits on corrections that keep moving the view


@dataclass(frozen=True)
class ScrollPort:
    """What keeping the view in place needs of it."""

    top: Callable[[], int]  # the first row on screen
    scroll_to: Callable[[int], None]  # make that row first (the view may clamp it)
    publish: Callable[[FeedLayout], None]  # the layout's total height changed


def hold(
    layout: FeedLayout,
    index: int | None,
    offset: int,
    at_end: bool,
    height: int,
    measure: Callable[[int], int],
    port: ScrollPort,
) -> None:
    """Measure the posts from row `offset` of post `index` on, and scroll so that row is at
    the top again (or to the end, if the view was at the end). `index` None: the post is gone,
    and the rows from the current top are measured."""

    def row() -> int:
        if index is None:
            return port.top()
        if layout.heights:
            layout.ensure_exact(index, measure)
        return layout.anchor_row(index, offset)

    layout.measure_rows(row(), height, measure)
    port.publish(layout)
    port.scroll_to(max(0, layout.total - height) if at_end else row())


def settle(layout: FeedLayout, height: int, measure: Callable[[int], int], port: ScrollPort) -> bool:
    """Measure what is on screen until nothing changes, keeping the first post that starts on
    screen at the same row, so corrections never make the view jump; True if any height
    changed (the view needs repainting)."""
    changed = False
    for _ in range(SETTLE_ROUNDS):
        top = port.top()
        at_end = top > 0 and top >= layout.total - height
        anchor = layout.first_starting_from(top)
        anchor_start = None if anchor is None else layout.starts[anchor]
        more = layout.measure_rows(top, height, measure)
        port.publish(layout)
        if not more:
            return changed
        changed = True
        if at_end:
            port.scroll_to(max(0, layout.total - height))
        elif anchor is not None and anchor_start is not None:
            port.scroll_to(top + layout.starts[anchor] - anchor_start)
    return changed
