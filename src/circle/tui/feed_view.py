"""The feed: a virtualized, line-API view over a circle's posts.

Only the visible rows are rendered. Each post's height at a given width is first *estimated*
from its text length (cheap enough for 100k posts) and replaced by the exact height the first
time the post scrolls into view; the scroll position is then shifted so the rows on screen stay
where they were (docs/performance.md, "Feed rendering", has the measurements behind this choice).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import accumulate
from typing import ClassVar, NamedTuple

from rich.cells import cell_len, chop_cells, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from circle.domain.untrusted import shown


@dataclass(frozen=True)
class FeedItem:
    """One post as the feed shows it. Text fields are untrusted and sanitized on display."""

    id: str
    author: str
    body: str
    created_at: datetime
    depth: int  # 0 for a root post, 1+ for replies
    content_warning: str | None
    reactions: tuple[tuple[str, int, bool], ...]  # (kind, count, mine)
    deleted: bool
    hidden: bool
    hidden_reason: str | None
    edited: bool
    is_mine: bool
    unread: bool
    # Folded until opened on purpose ("pending moderator review (3 reports)", "matches your
    # filter: grief"); opened like a content warning.
    collapsed_reason: str | None = None

    @property
    def closed(self) -> bool:
        """Whether it has a fold (warning or collapse) to open, before it is revealed. A hidden
        post a member cannot read has none: there is nothing behind it."""
        readable = not self.deleted and (bool(self.body) or not self.hidden)
        return readable and bool(self.content_warning or self.collapsed_reason)


GUTTER = 2  # cursor marker and a space
INDENT_STEP = 2
MAX_INDENT_DEPTH = 4
MIN_TEXT_WIDTH = 8
CURSOR_MARK = "▌"
UNREAD_MARK = "● new"
_COMPONENTS = ("author", "meta", "unread", "cw", "notice", "reactions")

def wrap(text: str, width: int) -> list[str]:
    """Greedy word wrap of `text` to `width` cells; words wider than a line are split."""
    width = max(width, 2)
    lines: list[str] = []
    for para in text.split("\n"):
        ascii_only = para.isascii()
        if (len(para) if ascii_only else cell_len(para)) <= width:
            lines.append(para)
            continue
        measure = len if ascii_only else cell_len
        line: list[str] = []
        used = -1  # cells in `line` counting one space before each word
        for word in para.split(" "):
            size = measure(word)
            if used + 1 + size <= width:
                line.append(word)
                used += 1 + size
                continue
            if line:
                lines.append(" ".join(line))
            if size <= width:
                line, used = [word], size
            else:
                *full, rest = chop_cells(word, width)
                lines.extend(full)
                line, used = [rest], measure(rest)
        lines.append(" ".join(line))
    return lines


def time_label(created: datetime, now: datetime) -> str:
    """'just now', '5m ago', '3h ago', '2d ago' within a week; the date after that."""
    if created.tzinfo is None:
        created = created.replace(tzinfo=timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    seconds = (now - created).total_seconds()
    if -60 < seconds < 60:
        return "just now"
    if 0 < seconds < 3600:
        return f"{int(seconds // 60)}m ago"
    if 0 < seconds < 86400:
        return f"{int(seconds // 3600)}h ago"
    if 0 < seconds < 7 * 86400:
        return f"{int(seconds // 86400)}d ago"
    return created.astimezone(now.tzinfo).strftime("%Y-%m-%d")


def indent_of(depth: int) -> int:
    return min(max(depth, 0), MAX_INDENT_DEPTH) * INDENT_STEP


def text_width(width: int, depth: int) -> int:
    """Cells left for a post's text at `depth` in a view `width` cells wide."""
    return max(MIN_TEXT_WIDTH, width - GUTTER - indent_of(depth))


class _Block(NamedTuple):
    """A post wrapped at one width: its body lines as (component, text) pairs."""

    item: FeedItem
    revealed: bool
    body: tuple[tuple[str, str], ...]

    @property
    def height(self) -> int:
        return 2 + len(self.body) + bool(self.item.reactions)


def _body_pieces(item: FeedItem, revealed: bool) -> list[tuple[str, str]]:
    """The paragraphs below the header, before wrapping."""
    if item.deleted:
        return [("notice", "(deleted)")]
    pieces = []
    if item.hidden:
        reason = shown(item.hidden_reason or "")
        pieces.append(("notice", f"(hidden by moderators: {reason})" if reason else "(hidden by moderators)"))
    if item.body or not item.hidden:
        folded = shown(item.collapsed_reason) if item.collapsed_reason else ""
        warning = shown(item.content_warning) if item.content_warning else ""
        if (folded or warning) and not revealed:
            label = " · ".join(x for x in (folded and f"Folded: {folded}", warning and f"CW: {warning}") if x)
            pieces.append(("cw", f"{label} — press enter to read"))
        else:
            if folded:
                pieces.append(("notice", f"(folded: {folded})"))
            if warning:
                pieces.append(("cw", f"CW: {warning}"))
            if item.body:
                pieces.append(("body", shown(item.body, multiline=True)))
    return pieces


def _shape(item: FeedItem, revealed: bool) -> tuple[int, int, int, int]:
    """Width-independent numbers for the height estimate: (fixed lines, text length,
    forced line breaks, depth)."""
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


def _shapes(items: list[FeedItem], revealed: set[str]) -> list[tuple[int, int, int, int]]:
    """`_shape` of every item, with the plain post (no CW or fold, not hidden or deleted)
    inlined: this runs over every post in `set_items`."""
    return [
        (2 + (not not item.reactions), len(item.body), item.body.count("\n"), item.depth)
        if not (item.content_warning or item.collapsed_reason or item.hidden or item.deleted)
        else _shape(item, item.id in revealed)
        for item in items
    ]


def _estimate(shapes: list[tuple[int, int, int, int]], width: int) -> list[int]:
    """Estimated heights at `width`. Word wrap leaves about two cells per line unused and each
    paragraph's last line half empty: lines ~ round(length / (avail - 2) + paragraphs / 2),
    calibrated against exact wrapping (bench/feed_paint.py --layout-only)."""
    widths = [text_width(width, depth) for depth in range(MAX_INDENT_DEPTH + 1)]
    out: list[int] = []
    add = out.append
    for fixed, length, breaks, depth in shapes:
        avail = widths[0 if depth < 0 else min(depth, MAX_INDENT_DEPTH)]
        if length <= avail:
            add(fixed + breaks + (length > 0 or breaks > 0))
        else:
            usable = avail - 2
            add(fixed + (2 * length + (breaks + 2) * usable) // (2 * usable))
    return out


class _Layout:
    """Heights of every post at one width, and the prefix sums that map a row to a post."""

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
    COMPONENT_CLASSES: ClassVar[set[str]] = {f"feed-view--{name}" for name in (*_COMPONENTS, "cursor")}
    DEFAULT_CSS = """
    FeedView {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: scroll;
        & > .feed-view--author { color: $text-primary; text-style: bold; }
        & > .feed-view--meta { color: $text-muted; }
        & > .feed-view--unread { color: $text-accent; text-style: bold; }
        & > .feed-view--cw { color: $text-warning; text-style: italic; }
        & > .feed-view--notice { color: $text-muted; text-style: italic; }
        & > .feed-view--reactions { color: $text-secondary; }
        & > .feed-view--cursor { color: $accent; text-style: bold reverse; }
    }
    """

    class Selected(Message):
        """The cursor moved to a post."""

        def __init__(self, post_id: str, feed_view: FeedView | None = None) -> None:
            super().__init__()
            self.post_id = post_id
            self.feed_view = feed_view

        @property
        def control(self) -> FeedView | None:
            return self.feed_view

    class Activated(Message):
        """Enter was pressed (or the post double-clicked) on a post."""

        def __init__(self, post_id: str, feed_view: FeedView | None = None) -> None:
            super().__init__()
            self.post_id = post_id
            self.feed_view = feed_view

        @property
        def control(self) -> FeedView | None:
            return self.feed_view

    selected_id: reactive[str | None] = reactive(None, always_update=False)
    """The post under the cursor."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._now = self._clock()
        self._items: list[FeedItem] = []
        self._index: dict[str, int] = {}
        self._revealed: set[str] = set()
        self._shapes: list[tuple[int, int, int, int]] = []
        self._layouts: LRUCache[int, _Layout] = LRUCache(4)
        self._layout: _Layout | None = None
        self._blocks: LRUCache[tuple[str, int], _Block] = LRUCache(4096)
        self._strips: LRUCache[tuple, list[Strip]] = LRUCache(1024)
        self._styles: dict[str, Style] | None = None
        self._frame: dict[int, list[Strip]] = {}  # blocks already looked up for this frame
        self._syncing = False
        self._pending_show: tuple[str, bool] | None = None  # (post id, then to the end)

    # -- public interface ------------------------------------------------------------------

    def set_items(self, items: Sequence[FeedItem]) -> None:
        """Replace the content; keep the selection (and what is on screen) if still present."""
        anchor = self._capture_anchor()
        old_selected = self.selected_id
        old_position = self._index.get(old_selected, 0) if old_selected else 0
        old_items = self._items
        self._items = list(items)
        self._index = dict(zip([item.id for item in self._items], range(len(self._items)), strict=True))
        self._revealed &= self._index.keys()
        self._shapes = _shapes(self._items, self._revealed)
        self._layouts.clear()
        self._layout = None
        self._strips.clear()
        if old_selected is not None and old_selected not in self._index:
            # The next surviving post after the old one, else the one before it.
            order = [*old_items[old_position + 1 :], *reversed(old_items[:old_position])]
            survivor = next((item.id for item in order if item.id in self._index), None)
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
        self._shapes[index] = _shape(self._items[index], True)
        for width in list(self._layouts.keys()):
            self._layouts[width].exact[index] = 0
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

    def _block(self, index: int, width: int) -> _Block:
        """Post `index` wrapped at `width`, from the (post id, width) cache when unchanged."""
        item = self._items[index]
        revealed = item.id in self._revealed
        key = (item.id, width)
        block = self._blocks.get(key)
        if block is None or block.revealed != revealed or block.item != item:
            avail = text_width(width, item.depth)
            body = tuple(
                (kind, line)
                for kind, text in _body_pieces(item, revealed)
                for line in wrap(text, avail)
            )
            block = _Block(item, revealed, body)
            self._blocks[key] = block
        return block

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
        at_end = top > 0 and top >= self.max_scroll_y
        index = self._index.get(self.selected_id) if self.selected_id else None
        if index is None or not self._on_screen(layout, index):
            index = layout.post_at(top)
        return self._items[index].id, top - layout.starts[index], at_end

    def _on_screen(self, layout: _Layout, index: int) -> bool:
        top = self.scroll_offset.y
        start, end = self._extent(layout, index)
        return start < top + self._viewport()[1] and end > top

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
                layout = self._layouts.get(width)
                if layout is None:
                    layout = _Layout(width, _estimate(self._shapes, width))
                    self._layouts[width] = layout
                self._layout = layout
            layout = self._layout
            if anchor is not None:
                self._measure_viewport(layout, width, height, self._anchor_row(layout, anchor))
                self._publish_size(layout)
                self._restore_anchor(layout, anchor)
            self._settle(layout, width, height)
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
        self._pending_show = None

    def _anchor_row(self, layout: _Layout, anchor: tuple[str, int, bool]) -> int:
        post_id, offset, _ = anchor
        index = self._index.get(post_id)
        if index is None:
            return self.scroll_offset.y
        if layout.heights and not layout.exact[index]:
            layout.set_exact(index, self._block(index, layout.width).height)
            layout.reindex()
        return max(layout.starts[index] + min(offset, layout.heights[index] - 1), 0)

    def _restore_anchor(self, layout: _Layout, anchor: tuple[str, int, bool]) -> None:
        if anchor[2]:
            self._set_scroll(max(0, layout.total - self._viewport()[1]))
        else:
            self._set_scroll(self._anchor_row(layout, anchor))

    def _measure_viewport(self, layout: _Layout, width: int, height: int, top: int) -> bool:
        """Replace estimates by exact heights for the posts covering rows [top, top+height)."""
        changed = False
        count = len(layout.heights)
        index = layout.post_at(top) if count else 0
        y = layout.starts[index] if count else 0
        while index < count and y < top + height:
            if not layout.exact[index]:
                changed |= layout.set_exact(index, self._block(index, width).height)
            y += layout.heights[index]
            index += 1
        layout.reindex()
        return changed

    def _settle(self, layout: _Layout, width: int, height: int) -> None:
        """Measure what is on screen until nothing changes, keeping the first post that starts
        on screen at the same row, so corrections never make the view jump."""
        for _ in range(16):
            top = self.scroll_offset.y
            at_end = top > 0 and top >= layout.total - height
            count = len(layout.heights)
            first = layout.post_at(top) if count else 0
            anchor = first if count and layout.starts[first] >= top else first + 1
            anchor_start = layout.starts[anchor] if anchor < count else None
            changed = self._measure_viewport(layout, width, height, top)
            self._publish_size(layout)
            if not changed:
                return
            self.refresh()
            if at_end:
                self._set_scroll(max(0, layout.total - height))
            elif anchor_start is not None:
                self._set_scroll(top + layout.starts[anchor] - anchor_start)

    def _publish_size(self, layout: _Layout) -> None:
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
        self._frame.clear()
        self._sync()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        layout = self._layout
        row = self.scroll_offset.y + y
        if layout is None or not self._items or layout.width != width or row >= layout.total:
            return Strip.blank(width, self._palette()["base"])
        index = layout.post_at(row)
        strips = self._frame.get(index)
        if strips is None:
            strips = self._frame[index] = self._render_block(index, width)
        offset = row - layout.starts[index]
        return strips[offset] if offset < len(strips) else Strip.blank(width, self._palette()["base"])

    def _render_block(self, index: int, width: int) -> list[Strip]:
        item = self._items[index]
        selected = item.id == self.selected_id
        label = time_label(item.created_at, self._now)
        key = (item.id, width, selected, label, item.id in self._revealed)
        strips = self._strips.get(key)
        if strips is None:
            strips = self._build_strips(self._block(index, width), width, selected, label)
            self._strips[key] = strips
        return strips

    def _palette(self) -> dict[str, Style]:
        """Rich styles of the widget and its components, until the styles change."""
        if self._styles is None:
            style = self.get_component_rich_style
            cursor = style("feed-view--cursor", partial=True)
            self._styles = {
                "base": self.rich_style,
                "cursor": cursor,
                "gutter": self.rich_style + Style(color=cursor.color, bold=True),
                "body": self.rich_style,
                **{name: style(f"feed-view--{name}") for name in _COMPONENTS},
            }
        return self._styles

    def _build_strips(self, block: _Block, width: int, selected: bool, label: str) -> list[Strip]:
        item = block.item
        styles = self._palette()
        base, meta, cursor = styles["base"], styles["meta"], styles["cursor"]
        indent = indent_of(item.depth)
        lead = [
            Segment(CURSOR_MARK + " ", styles["gutter"])
            if selected
            else Segment(" " * (GUTTER + indent), base)
        ]
        if selected and indent:
            lead.append(Segment(" " * indent, base))
        room = width - GUTTER - indent
        avail = text_width(width, item.depth)

        def line(segments: list[Segment]) -> Strip:
            segments = [s for s in segments if s.text]
            cells = sum(cell_len(s.text) for s in segments)
            if cells >= room:
                return Strip([*lead, *segments]).crop_extend(0, width, base)
            return Strip([*lead, *segments, Segment(" " * (room - cells), base)], width)

        author = shown(item.author) or "?"
        tail = [Segment(" · ", meta), Segment(label, meta)]
        if item.edited:
            tail += [Segment(" · ", meta), Segment("edited", meta)]
        if item.unread:
            tail += [Segment(" · ", meta), Segment(UNREAD_MARK, styles["unread"])]
        head = [Segment("↳ ", meta)] if item.depth > 0 else []
        you = [Segment(" (you)", meta)] if item.is_mine else []
        fits = max(avail - sum(s.cell_length for s in (*head, *you, *tail)), 4)
        if cell_len(author) > fits:
            author = set_cell_size(author, fits - 1) + "…"
        header = [*head, Segment(author, styles["author"]), *you, *tail]
        if selected:
            header = [Segment(s.text, (s.style or Style()) + cursor) for s in header]
        strips = [line(header)]
        strips += [line([Segment(text, styles[kind])]) for kind, text in block.body]
        if item.reactions:
            text = " · ".join(
                f"{shown(kind)} {count}" + (" (you)" if mine else "")
                for kind, count, mine in item.reactions
            )
            if cell_len(text) > avail:
                text = set_cell_size(text, avail - 1) + "…"
            strips.append(line([Segment(text, styles["reactions"])]))
        strips.append(Strip.blank(width, base))
        return strips

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None
        self._strips.clear()

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
            layout.set_exact(index, self._block(index, width).height)
            layout.reindex()
            self._publish_size(layout)
        start, end = self._extent(layout, index)
        top = self.scroll_offset.y
        tall = end - start > height
        if (start > top) if tall else (start < top):
            return start
        if (end < top + height) if tall else (end > top + height):
            return end - height
        return None

    @staticmethod
    def _extent(layout: _Layout, index: int) -> tuple[int, int]:
        """First row and end row of a post, leaving out its blank separator."""
        start = layout.starts[index]
        return start, start + max(layout.heights[index] - 1, 1)

    def _visible_index(self) -> int | None:
        """The selected post if it is on screen, else the first post on screen."""
        layout = self._layout
        if not self._items or layout is None:
            return None
        top = self.scroll_offset.y
        selected = self._index.get(self.selected_id) if self.selected_id else None
        if selected is not None and self._on_screen(layout, selected):
            return selected
        first = layout.post_at(top)
        if layout.starts[first] < top and first + 1 < len(self._items):
            first += self._on_screen(layout, first + 1)
        return first

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
        height = self._viewport()[1]
        top = self.scroll_offset.y
        start, end = self._extent(layout, current)
        step = max(height - 2, 1)
        if delta > 0 and end > top + height:
            self._set_scroll(min(top + step, end - height))
        elif delta < 0 and start < top:
            self._set_scroll(max(top - step, start))
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
