"""What the feed keeps of work already done, and when each part goes stale.

- Layouts (`FeedLayout`), one per width for the last few widths, so resizing back and forth does
  not re-estimate: stale when the posts change; a revealed post is re-measured in all of them.
- Wrapped posts (`Block`) by (post id, width): checked against the post and whether it is
  revealed, so an edited or opened post re-wraps without the rest being dropped.
- Rendered rows by (post id, width, selected, time label, revealed): stale when the posts or
  the styles change; the styles themselves are resolved once per change.
- The rows looked up during the current frame, by post index.
"""

from __future__ import annotations

from typing import Callable

from rich.style import Style
from textual.cache import LRUCache
from textual.strip import Strip

from circle.tui.feed_items import FeedItem
from circle.tui.feed_layout import FeedLayout, Shape, estimate
from circle.tui.feed_render import Block, wrap_block

LAYOUTS = 4
BLOCKS = 4096
STRIPS = 1024

StripKey = tuple[str, int, bool, str, bool]
"""(post id, width, selected, time label, revealed)"""


class FeedCache:
    """The feed's caches, with one method for each event that makes some of them stale."""

    def __init__(self) -> None:
        self._layouts: LRUCache[int, FeedLayout] = LRUCache(LAYOUTS)
        self._blocks: LRUCache[tuple[str, int], Block] = LRUCache(BLOCKS)
        self._strips: LRUCache[StripKey, list[Strip]] = LRUCache(STRIPS)
        self._frame: dict[int, list[Strip]] = {}
        self._palette: dict[str, Style] | None = None

    def layout(self, width: int, shapes: list[Shape]) -> FeedLayout:
        """The layout at `width`, estimated from `shapes` unless one is kept for that width."""
        layout = self._layouts.get(width)
        if layout is None:
            layout = FeedLayout(width, estimate(shapes, width))
            self._layouts[width] = layout
        return layout

    def block(self, item: FeedItem, revealed: bool, width: int) -> Block:
        """`item` wrapped at `width`, re-wrapped only if the item or its revealed state changed."""
        key = (item.id, width)
        block = self._blocks.get(key)
        if block is None or block.revealed != revealed or block.item != item:
            block = wrap_block(item, revealed, width)
            # Textual's LRUCache.set keeps an existing entry: drop the stale one first, or an
            # opened or edited post would be re-wrapped on every lookup.
            self._blocks.discard(key)
            self._blocks[key] = block
        return block

    def strips(self, key: StripKey, build: Callable[[], list[Strip]]) -> list[Strip]:
        """The rendered rows for `key`, from `build()` the first time."""
        strips = self._strips.get(key)
        if strips is None:
            strips = build()
            self._strips[key] = strips
        return strips

    def frame_strips(self, index: int, build: Callable[[], list[Strip]]) -> list[Strip]:
        """The rows of post `index` in this frame, from `build()` the first time in it."""
        strips = self._frame.get(index)
        if strips is None:
            strips = self._frame[index] = build()
        return strips

    def new_frame(self) -> None:
        """A frame begins: rows looked up by index in the last one may belong to other posts."""
        self._frame.clear()

    def posts_changed(self) -> None:
        """The list of posts was replaced: indexes and heights no longer hold. Wrapped posts
        stay, since each is checked against its post when it is next used."""
        self._layouts.clear()
        self._strips.clear()

    def revealed(self, index: int) -> None:
        """Post `index` was opened: its height in every kept layout is an estimate again."""
        for width in list(self._layouts.keys()):
            self._layouts[width].exact[index] = 0

    def palette(self, resolve: Callable[[], dict[str, Style]]) -> dict[str, Style]:
        """The styles rows are drawn with, from `resolve()` once per change of styles."""
        if self._palette is None:
            self._palette = resolve()
        return self._palette

    def styles_changed(self) -> None:
        """The widget's styles changed: the palette and rendered rows are stale."""
        self._palette = None
        self._strips.clear()
