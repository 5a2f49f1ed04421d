"""The feed: a virtualized, line-API view over a circle's posts, with a post cursor.

Only the visible rows are rendered. Each post's height at a given width is first *estimated*
and replaced by the exact height the first time the post scrolls into view; the scroll position
is then shifted so the rows on screen stay where they were (docs/performance.md, "Feed
rendering", has the measurements behind this choice). The arithmetic of rows and heights is in
`feed_layout.py`, the scroll corrections in `feed_scroll.py`, the drawing of a post in
`feed_render.py`, the caches in `feed_cache.py`; this module is the widget that ties them to
scrolling, the cursor and events.
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from typing import ClassVar
from collections.abc import Callable, Sequence

from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from circle.tui.feed_cache import FeedCache
from circle.tui.feed_items import FeedItem, nearest_survivor
from circle.tui.feed_layout import FeedLayout, Shape, shape, shapes
from circle.tui.feed_render import COMPONENT_CLASSES, FEED_CSS, Block, build_strips, palette, time_label
from circle.tui.feed_scroll import ScrollPort, hold, settle


class PostMessage(Message):
    """Something happened to one post of a feed view (`control`)."""

    def __init__(self, post_id: str, feed_view: FeedView | None = None) -> None:
        super().__init__()
        self.post_id = post_id
        self.feed_view = feed_view

    @property
    def control(self) -> FeedView | None:
        return self.feed_view


class FeedView(ScrollView, can_focus=True):
    """Posts as blocks (header, wrapped body, reactions, blank line) with a post cursor."""

    ALLOW_SELECT = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Previous post", show=False, id="feed.cursor_up"),
        Binding("down,j", "cursor_down", "Next post", show=False, id="feed.cursor_down"),
        Binding("pageup", "page_up", "Page up", show=False, id="feed.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="feed.page_down"),
        Binding("home", "first", "First post", show=False, id="feed.first"),
        Binding("end", "last", "Last post", show=False, id="feed.last"),
        Binding("enter", "activate", "Open", id="feed.activate"),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = COMPONENT_CLASSES
    DEFAULT_CSS = FEED_CSS

    class Selected(PostMessage):
        """The cursor moved to a post."""

    class Activated(PostMessage):
        """Enter was pressed (or the post double-clicked) on a post."""

    selected_id: reactive[str | None] = reactive(None, always_update=False)
    """The post under the cursor."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] | None = None,
        tz: tzinfo | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._tz = tz  # what older posts' times are shown on (None: the local zone)
        self._now = self._clock()
        self._items: list[FeedItem] = []
        self._index: dict[str, int] = {}
        self._revealed: set[str] = set()
        self._shapes: list[Shape] = []
        self._cache = FeedCache()
        self._layout: FeedLayout | None = None
        self._syncing = False
        self._pending_show: tuple[str, bool] | None = None  # (post id, then to the end)
        self._port = ScrollPort(lambda: self.scroll_offset.y, self._set_scroll, self._publish_size)

    # -- public interface ------------------------------------------------------------------

    def set_items(self, items: Sequence[FeedItem]) -> None:
        """Replace the content; keep the selection (and what is on screen) if still present."""
        anchor = self._capture_anchor()
        old_selected = self.selected_id
        old_position = self._index.get(old_selected, 0) if old_selected else 0
        old_items = self._items
        self._items = list(items)
        self._index = {item.id: n for n, item in enumerate(self._items)}
        self._revealed &= self._index.keys()
        self._shapes = shapes(self._items, self._revealed)
        self._cache.posts_changed()
        self._layout = None
        if old_selected is not None and old_selected not in self._index:
            survivor = nearest_survivor(old_items, old_position, self._index)
            self.set_reactive(FeedView.selected_id, survivor)
            if survivor is not None:
                self.post_message(self.Selected(survivor, self))
        self._sync(anchor)
        self._select_if_focused()
        self.refresh()

    def reveal(self, post_id: str) -> None:
        """Open a content warning or a folded post."""
        index = self._index.get(post_id)
        if index is None or post_id in self._revealed:
            return
        anchor = self._capture_anchor()
        self._revealed.add(post_id)
        self._shapes[index] = shape(self._items[index], True)
        self._cache.revealed(index)
        self._sync(anchor)
        self.refresh()
        if post_id == self.selected_id:
            self._scroll_to_post(index)

    def is_closed(self, post_id: str) -> bool:
        """Whether the post still has a warning or fold to open."""
        index = self._index.get(post_id)
        return index is not None and post_id not in self._revealed and self._items[index].closed

    def jump_to_latest(self) -> None:
        """Move the cursor to the most recently created post and bring it into view."""
        if not self._items:
            return
        latest = max(range(len(self._items)), key=lambda i: (self._items[i].created_at, i))
        self._select(latest)
        self._pending_show = (self._items[latest].id, latest == len(self._items) - 1)
        self._show_pending()

    # -- layout ----------------------------------------------------------------------------

    def _block(self, index: int, width: int) -> Block:
        """Post `index` wrapped at `width`."""
        item = self._items[index]
        return self._cache.block(item, item.id in self._revealed, width)

    def _viewport(self) -> tuple[int, int]:
        region = self.scrollable_content_region
        return region.width, region.height

    def _capture_anchor(self) -> tuple[str, int, bool] | None:
        """What to keep in place across a change: (post id, row offset of the top of the view
        from that post's first row, whether scrolled to the end). The post is the one under the
        cursor if it is on screen, else the post at the top."""
        layout = self._layout
        if layout is None or not self._items or not self.is_mounted:
            return None
        top = self.scroll_offset.y
        selected = self._index.get(self.selected_id) if self.selected_id else None
        index, offset = layout.anchor_at(top, self._viewport()[1], selected)
        return self._items[index].id, offset, top > 0 and top >= self.max_scroll_y

    def _sync(self, anchor: tuple[str, int, bool] | None = None) -> None:
        """Bring the layout up to date with the width and measure the posts on screen,
        keeping the view anchored on the post at the top (or at the end, if it was there)."""
        width, height = self._viewport()
        if self._syncing or width <= 0 or height <= 0:
            return
        self._syncing = True
        try:
            if self._layout is None or self._layout.width != width:
                if anchor is None:
                    anchor = self._capture_anchor()
                self._layout = self._cache.layout(width, self._shapes)
            layout, measure = self._layout, self._measurer(width)
            if anchor is not None:
                post_id, offset, at_end = anchor
                hold(layout, self._index.get(post_id), offset, at_end, height, measure, self._port)
            if settle(layout, height, measure, self._port):
                self.refresh()
        finally:
            self._syncing = False
        self._show_pending()

    def _show_pending(self) -> None:
        """Bring a post into view that was asked for before the view had a size."""
        if self._pending_show is None or self._layout is None or not all(self._viewport()):
            return
        post_id, to_end = self._pending_show
        self._pending_show = None
        if post_id in self._index:
            self._scroll_to_post(self._index[post_id])
            if to_end:
                self._set_scroll(self.max_scroll_y)

    def _measurer(self, width: int) -> Callable[[int], int]:
        """The exact height of a post at `width`, by index."""
        return lambda index: self._block(index, width).height

    def _publish_size(self, layout: FeedLayout) -> None:
        size = Size(layout.width, layout.total)
        if size != self.virtual_size:
            self.virtual_size = size
            self._scroll_update(size)

    def _set_scroll(self, y: int) -> None:
        if y != self.scroll_offset.y:
            self.scroll_to(y=y, animate=False, immediate=True, force=True)

    # -- rendering -------------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        self._now = self._clock()
        self._cache.new_frame()
        self._sync()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        layout = self._layout
        row = self.scroll_offset.y + y
        if layout is None or not self._items or layout.width != width or row >= layout.total:
            return Strip.blank(width, self._palette()["base"])
        index = layout.post_at(row)
        strips = self._cache.frame_strips(index, lambda: self._render_block(index, width))
        offset = row - layout.starts[index]
        return strips[offset] if offset < len(strips) else Strip.blank(width, self._palette()["base"])

    def _render_block(self, index: int, width: int) -> list[Strip]:
        item = self._items[index]
        selected = item.id == self.selected_id
        label = time_label(item.created_at, self._now, self._tz)
        key = (item.id, width, selected, label, item.id in self._revealed)
        return self._cache.strips(
            key, lambda: build_strips(self._block(index, width), width, selected, label, self._palette())
        )

    def _palette(self) -> dict[str, Style]:
        """Rich styles of the widget and its components, until the styles change."""
        return self._cache.palette(lambda: palette(self.rich_style, self.get_component_rich_style))

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.styles_changed()

    # -- cursor ----------------------------------------------------------------------------

    def validate_selected_id(self, value: str | None) -> str | None:
        if value is not None and value not in self._index:
            return self.selected_id
        return value

    def watch_selected_id(self, old: str | None, new: str | None) -> None:
        self.refresh()
        if new is None:
            return
        self.post_message(self.Selected(new, self))
        self._scroll_to_post(self._index[new])

    def _select(self, index: int) -> None:
        if self._items:
            index = min(max(index, 0), len(self._items) - 1)
            if self._items[index].id == self.selected_id:
                self._scroll_to_post(index)
            else:
                self.selected_id = self._items[index].id

    def _scroll_to_post(self, index: int) -> None:
        """Scroll the least distance that shows the post (its top, if taller than the view)."""
        if not self.is_mounted or self._layout is None or not all(self._viewport()):
            self._pending_show = (self._items[index].id, False)
            return
        self._sync()
        for _ in range(4):
            target = self._target_for(index)
            if target is None:
                return
            self._set_scroll(target)
            self._sync()

    def _target_for(self, index: int) -> int | None:
        """The scroll position that shows post `index` (or fills the view with it, if it is
        taller than the view) by the least distance; None if no scrolling is needed."""
        layout = self._layout
        if layout is None:
            return None
        width, height = self._viewport()
        if not layout.exact[index]:
            layout.ensure_exact(index, self._measurer(width))
            self._publish_size(layout)
        return layout.target_for(index, self.scroll_offset.y, height)

    def _visible_index(self) -> int | None:
        """The selected post if it is on screen, else the first post on screen."""
        layout = self._layout
        if not self._items or layout is None:
            return None
        selected = self._index.get(self.selected_id) if self.selected_id else None
        return layout.visible_index(self.scroll_offset.y, self._viewport()[1], selected)

    def _select_if_focused(self) -> None:
        if self.has_focus and self.selected_id is None and self._items:
            index = self._visible_index()
            self._select(0 if index is None else index)

    def _move(self, delta: int) -> None:
        """Move the cursor one post; within a post taller than the view, scroll through it
        first, so no part of it is skipped."""
        current = self._visible_index()
        layout = self._layout
        if current is None or layout is None:
            return
        if self.selected_id is None or self._index.get(self.selected_id) != current:
            self._select(current)  # the cursor was scrolled away: resume from the screen
            return
        target = layout.scroll_within(current, self.scroll_offset.y, self._viewport()[1], delta)
        if target is not None:
            self._set_scroll(target)
        else:
            self._select(current + delta)

    def action_cursor_up(self) -> None:
        self._move(-1)

    def action_cursor_down(self) -> None:
        self._move(+1)

    def _page(self, direction: int) -> None:
        current = self._visible_index()
        layout = self._layout
        if current is None or layout is None:
            return
        height = self._viewport()[1]
        top = self.scroll_offset.y
        row = min(max(layout.starts[current] - top, 0), height - 1)
        self._set_scroll(min(max(top + direction * height, 0), self.max_scroll_y))
        self._sync()
        if self.scroll_offset.y == top:
            self._select(len(self._items) - 1 if direction > 0 else 0)
        elif (target := layout.post_at(self.scroll_offset.y + row)) != current:
            self._select(target)

    def action_page_up(self) -> None:
        self._page(-1)

    def action_page_down(self) -> None:
        self._page(+1)

    def action_first(self) -> None:
        self._select(0)

    def action_last(self) -> None:
        if self._items:
            self._select(len(self._items) - 1)
            self._set_scroll(self.max_scroll_y)

    def action_activate(self) -> None:
        """Enter opens a content warning or a fold first; on any other post it activates."""
        post_id = self.selected_id
        if post_id is None:
            return
        if self.is_closed(post_id):
            self.reveal(post_id)
        else:
            self.post_message(self.Activated(post_id, self))

    # -- events ----------------------------------------------------------------------------

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._sync()

    def on_resize(self, event: events.Resize) -> None:
        self._sync()
        self.refresh()

    def on_mount(self) -> None:
        self._sync()
        self.set_interval(60, self.refresh)  # relative times ("5m ago") age

    def on_focus(self, event: events.Focus) -> None:
        self._select_if_focused()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        layout = self._layout
        if offset is None or layout is None or not self._items:
            return
        row = self.scroll_offset.y + offset.y
        if row >= layout.total:
            return
        index = layout.post_at(row)
        self._select(index)
        if event.chain == 2:
            self.post_message(self.Activated(self._items[index].id, self))
