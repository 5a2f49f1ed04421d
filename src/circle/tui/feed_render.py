"""Turning feed posts into rows: word wrap, the paragraphs of a post, and its rendered strips.

Everything here is a function of the post, the width and the styles it is given; the widget
(`feed_view.py`) decides what to draw and caches the results (`feed_cache.py`).
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from collections.abc import Callable, Mapping
from typing import NamedTuple

from rich.cells import cell_len, chop_cells, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from circle.domain.times import readable
from circle.domain.untrusted import shown
from circle.tui.feed_items import FeedItem
from circle.tui.feed_layout import GUTTER, indent_of, text_width

CURSOR_MARK = "▌"
UNREAD_MARK = "● new"
WAITING_MARK = "○ waiting for a reply"
COMPONENTS = ("author", "meta", "unread", "cw", "notice", "reactions", "poll")
COMPONENT_CLASSES = {f"feed-view--{name}" for name in (*COMPONENTS, "cursor")}
FEED_CSS = """
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
    & > .feed-view--poll { color: $text-secondary; }
    & > .feed-view--cursor { color: $accent; text-style: bold reverse; }
}
"""
"""The feed's default look: the widget and each component `build_strips` draws with."""


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


def time_label(created: datetime, now: datetime, tz: tzinfo | None = None) -> str:
    """'just now', '5m ago', '3h ago', '2d ago' within a week; after that, when, on the clock
    of `tz` (the local zone if None)."""
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
    return readable(created, tz)


class Block(NamedTuple):
    """A post wrapped at one width: its body lines as (component, text) pairs."""

    item: FeedItem
    revealed: bool
    body: tuple[tuple[str, str], ...]

    @property
    def height(self) -> int:
        return 2 + len(self.body) + bool(self.item.reactions)


def body_pieces(item: FeedItem, revealed: bool) -> list[tuple[str, str]]:
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
            if item.poll_lines and not item.hidden:
                pieces += [("poll", text) for text in item.poll_lines]
    return pieces


def wrap_block(item: FeedItem, revealed: bool, width: int) -> Block:
    """Post `item` wrapped for a view `width` cells wide."""
    avail = text_width(width, item.depth)
    body = tuple(
        (kind, line)
        for kind, text in body_pieces(item, revealed)
        for line in wrap(text, avail)
    )
    return Block(item, revealed, body)


def palette(base: Style, component: Callable[..., Style]) -> dict[str, Style]:
    """The styles `build_strips` draws with: the widget's `base` style and, from
    `component(class name, partial=...)`, the cursor's and each component's."""
    cursor = component("feed-view--cursor", partial=True)
    return {
        "base": base,
        "cursor": cursor,
        "gutter": base + Style(color=cursor.color, bold=True),
        "body": base,
        **{name: component(f"feed-view--{name}") for name in COMPONENTS},
    }


def build_strips(
    block: Block, width: int, selected: bool, label: str, styles: Mapping[str, Style]
) -> list[Strip]:
    """The rows of a wrapped post, drawn with `styles` (the widget's base, cursor and gutter
    styles and one per component); the cursor post is marked and drawn reversed."""
    item = block.item
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
    if item.waiting:  # calm, like the time: an invitation to answer, not an alarm
        tail += [Segment(" · ", meta), Segment(WAITING_MARK, meta)]
    head = [Segment("↳ ", meta)] if item.depth > 0 else []
    you = [Segment(" (you)", meta)] if item.is_mine else []
    fits = max(avail - sum(s.cell_length for s in (*head, *you, *tail)), 4)
    if cell_len(author) > fits:
        author = set_cell_size(author, fits - 1) + "…"
    header = [*head, Segment(author, styles["author"]), *you, *tail]
    if selected:
        header = [Segment(s.text, (s.style or Style.null()) + cursor) for s in header]
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
