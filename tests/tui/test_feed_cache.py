"""The feed's caches (tui/feed_cache.py) and drawing (tui/feed_render.py), without an app."""

from __future__ import annotations

from dataclasses import replace

from rich.style import Style

from circle.tui.feed_cache import LAYOUTS, FeedCache
from circle.tui.feed_items import FeedItem
from circle.tui.feed_layout import estimate, shapes
from circle.tui.feed_render import CURSOR_MARK, build_strips, palette, wrap_block
from tests.helpers.feed_items import feed_item

def item(n: int, body: str = "a few words to wrap here", **fields) -> FeedItem:
    return feed_item(n, body, **fields)


class Builds:
    """A strip builder that counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> list:
        self.calls += 1
        return [f"rows #{self.calls}"]


def test_a_wrapped_post_is_reused_until_the_post_or_its_fold_changes():
    cache = FeedCache()
    post = item(1, content_warning="grief")
    first = cache.block(post, False, 20)
    assert cache.block(post, False, 20) is first
    assert cache.block(replace(post), False, 20) is first  # an equal post is the same post
    opened = cache.block(post, True, 20)
    assert opened is not first and opened == wrap_block(post, True, 20)
    assert cache.block(post, True, 20) is opened  # the opened post is kept, not re-wrapped
    edited = replace(post, body="changed entirely, and longer than before")
    rewrapped = cache.block(edited, True, 20)
    assert rewrapped == wrap_block(edited, True, 20)
    assert cache.block(edited, True, 20) is rewrapped
    assert cache.block(post, False, 40) == wrap_block(post, False, 40)  # widths kept apart


def test_wrapped_posts_survive_a_new_list_of_posts():
    cache = FeedCache()
    post = item(1)
    first = cache.block(post, False, 20)
    cache.posts_changed()
    assert cache.block(post, False, 20) is first


def test_one_layout_per_width_until_the_posts_change():
    cache = FeedCache()
    posts = [item(n, body="word " * (n * 10)) for n in range(6)]
    shaped = shapes(posts, set())
    narrow = cache.layout(30, shaped)
    assert narrow.heights == estimate(shaped, 30)
    narrow.set_exact(2, 99)
    assert cache.layout(60, shaped) is not narrow
    assert cache.layout(30, shaped) is narrow  # measurements kept across a resize
    cache.posts_changed()
    fresh = cache.layout(30, shaped)
    assert fresh is not narrow and not any(fresh.exact)


def test_only_the_last_few_widths_are_kept():
    cache = FeedCache()
    shaped = shapes([item(0)], set())
    first = cache.layout(20, shaped)
    for width in range(21, 21 + LAYOUTS):
        cache.layout(width, shaped)
    assert cache.layout(20, shaped) is not first


def test_revealing_a_post_makes_its_height_an_estimate_again_at_every_width():
    cache = FeedCache()
    shaped = shapes([item(n) for n in range(3)], set())
    layouts = [cache.layout(width, shaped) for width in (30, 50)]
    for layout in layouts:
        for index in range(3):
            layout.set_exact(index, 3)
    cache.revealed(1)
    assert [bytes(layout.exact) for layout in layouts] == [b"\x01\x00\x01"] * 2


def test_rendered_rows_are_rebuilt_after_the_posts_or_the_styles_change():
    cache = FeedCache()
    key = ("p1", 40, False, "1h ago", False)
    build = Builds()
    assert cache.strips(key, build) == ["rows #1"]
    assert cache.strips(key, build) == ["rows #1"]
    assert cache.strips(("p1", 40, True, "1h ago", False), build) == ["rows #2"]
    cache.styles_changed()
    assert cache.strips(key, build) == ["rows #3"]
    cache.posts_changed()
    assert cache.strips(key, build) == ["rows #4"]
    assert build.calls == 4


def test_the_palette_is_resolved_once_per_change_of_styles():
    cache = FeedCache()
    resolved = []

    def resolve() -> dict:
        resolved.append(1)
        return {"base": Style(bold=len(resolved) > 1)}

    assert cache.palette(resolve) is cache.palette(resolve)
    cache.styles_changed()
    assert cache.palette(resolve)["base"].bold
    assert len(resolved) == 2


def test_rows_by_index_last_one_frame():
    cache = FeedCache()
    build = Builds()
    assert cache.frame_strips(0, build) == ["rows #1"]
    assert cache.frame_strips(0, build) == ["rows #1"]
    cache.new_frame()
    assert cache.frame_strips(0, build) == ["rows #2"]


STYLES = palette(
    Style(color="white"),
    lambda name, partial=False: Style(color="red", reverse=True) if name.endswith("cursor") else Style(),
)


def test_every_row_of_a_post_fills_the_width_and_the_cursor_post_is_marked():
    post = item(1, body="a long body " * 8, depth=2, reactions=(("heart", 3, True),), unread=True)
    block = wrap_block(post, False, 30)
    plain = build_strips(block, 30, False, "1h ago", STYLES)
    marked = build_strips(block, 30, True, "1h ago", STYLES)
    assert len(plain) == len(marked) == block.height
    assert all(strip.cell_length == 30 for strip in (*plain, *marked))
    texts = [strip.text for strip in marked]
    assert texts[0].startswith(CURSOR_MARK) and not plain[0].text.startswith(CURSOR_MARK)
    assert "ana" in texts[0] and "1h ago" in texts[0] and "● new" in texts[0]
    assert "heart 3 (you)" in texts[-2] and texts[-1].strip() == ""
    assert STYLES["gutter"].color == STYLES["cursor"].color
