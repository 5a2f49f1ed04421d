"""The feed's layout index (tui/feed_layout.py): row arithmetic and height estimates, no app."""

from __future__ import annotations

from dataclasses import replace

import pytest

from circle.tui.feed_items import FeedItem, nearest_survivor
from circle.tui.feed_layout import FeedLayout, estimate, shape, shapes, text_width
from circle.tui.feed_render import wrap_block
from tests.helpers.feed_items import feed_item

def item(n: int, body: str = "hello", **fields) -> FeedItem:
    return feed_item(n, body, **fields)


def layout(*heights: int) -> FeedLayout:
    return FeedLayout(80, list(heights))


def test_rows_map_to_the_post_covering_them_and_clamp_at_both_ends():
    view = layout(3, 5, 2)  # rows 0-2, 3-7, 8-9
    assert view.total == 10
    assert [view.post_at(y) for y in range(10)] == [0] * 3 + [1] * 5 + [2] * 2
    assert view.post_at(-4) == 0
    assert view.post_at(10) == 2
    assert view.post_at(1000) == 2


def test_an_exact_height_moves_every_later_post_once_reindexed():
    view = layout(3, 3, 3, 3)
    assert view.set_exact(2, 3) is False  # same as the estimate: nothing to move
    assert view.exact[2] == 1
    assert view.set_exact(3, 1) is True
    assert view.set_exact(1, 6) is True  # an earlier post: reindex must start from here
    assert view.starts == [0, 3, 6, 9, 12]  # unchanged until reindexed
    view.reindex()
    assert view.starts == [0, 3, 9, 12, 13]
    assert view.total == 13
    view.reindex()  # nothing stale: the same sums
    assert view.starts == [0, 3, 9, 12, 13]


def test_measure_rows_measures_only_the_posts_on_screen():
    view = layout(*[3] * 10)
    measured = []

    def measure(index: int) -> int:
        measured.append(index)
        return 4

    assert view.measure_rows(7, 5, measure) is True  # rows 7-11: posts 2 and 3
    assert measured == [2, 3]
    assert view.starts[:6] == [0, 3, 6, 10, 14, 17]
    measured.clear()
    assert view.measure_rows(7, 5, measure) is False  # already exact: measured no more
    assert measured == []
    assert view.measure_rows(0, 3, lambda index: 3) is False  # rows 0-2: as estimated
    assert bytes(view.exact) == b"\x01\x00\x01\x01" + b"\x00" * 6


def test_measure_rows_includes_a_post_that_starts_on_the_last_row():
    view = layout(3, 3, 3)
    measured = []
    view.measure_rows(0, 7, lambda index: measured.append(index) or 3)  # rows 0-6
    assert measured == [0, 1, 2]


def test_ensure_exact_measures_once():
    view = layout(2, 2)
    calls = []
    view.ensure_exact(0, lambda index: calls.append(index) or 5)
    view.ensure_exact(0, lambda index: calls.append(index) or 7)
    assert calls == [0]
    assert view.starts == [0, 5, 7]


def test_a_post_on_screen_is_judged_without_its_blank_separator():
    view = layout(4, 1, 3)  # post 0: rows 0-2 and separator row 3
    assert view.extent(0) == (0, 3)
    assert view.extent(1) == (4, 5)  # a one-row post still counts one row
    assert view.on_screen(0, 2, 5)
    assert not view.on_screen(0, 3, 5)  # only its separator is left on screen
    assert not view.on_screen(2, 0, 5)  # starts at row 5, just below the view
    assert view.on_screen(2, 0, 6)


def test_first_post_starting_at_or_below_a_row():
    view = layout(3, 3, 3)
    assert view.first_starting_from(0) == 0
    assert view.first_starting_from(1) == 1
    assert view.first_starting_from(3) == 1
    assert view.first_starting_from(7) is None  # inside the last post
    assert layout().first_starting_from(0) is None


def test_visible_index_prefers_the_cursor_then_the_first_post_that_starts_on_screen():
    view = layout(4, 4, 4, 4)
    assert view.visible_index(0, 6, 1) == 1
    assert view.visible_index(8, 4, 0) == 2  # the cursor post is above the view
    assert view.visible_index(2, 4, None) == 1  # post 0 is cut at the top, post 1 starts
    assert view.visible_index(2, 1, None) == 0  # nothing starts on screen: the top post
    assert view.visible_index(3, 4, None) == 1  # only post 0's separator shows
    assert view.visible_index(13, 4, None) == 3  # the last post has no next one


def test_the_anchor_is_the_cursor_post_on_screen_else_the_post_at_the_top():
    view = layout(4, 4, 4, 4)
    assert view.anchor_at(6, 6, 2) == (2, -2)  # the cursor post, two rows below the top
    assert view.anchor_at(6, 6, 0) == (1, 2)  # the cursor is off screen: the top post
    assert view.anchor_at(6, 6, None) == (1, 2)


def test_anchor_row_stays_inside_its_post():
    view = layout(3, 5)
    assert view.anchor_row(1, 2) == 5
    assert view.anchor_row(1, 99) == 7  # the post shrank: its last row
    assert view.anchor_row(0, -5) == 0


@pytest.mark.parametrize(
    ("heights", "index", "top", "height", "expected"),
    [
        ((4, 4, 4), 1, 0, 10, None),  # already in view
        ((4, 4, 4), 2, 0, 8, 3),  # below: scroll until its last row shows
        ((4, 4, 4), 0, 5, 8, 0),  # above: scroll to its first row
        ((4, 20, 4), 1, 0, 8, 4),  # taller than the view, below: its top
        ((4, 20, 4), 1, 10, 8, None),  # taller, fills the view: stay
        ((4, 20, 4), 1, 20, 8, 15),  # taller, its end above the bottom: fill the view
    ],
)
def test_target_for_scrolls_the_least_distance(heights, index, top, height, expected):
    assert layout(*heights).target_for(index, top, height) == expected


def test_scroll_within_a_tall_post_a_page_at_a_time():
    view = layout(4, 30, 4)  # post 1: rows 4-32, separator 33
    assert view.scroll_within(1, 4, 10, +1) == 12  # a page less two rows
    assert view.scroll_within(1, 20, 10, +1) == 23  # not past its last row
    assert view.scroll_within(1, 23, 10, +1) is None  # its end shows: move on
    assert view.scroll_within(1, 15, 10, -1) == 7
    assert view.scroll_within(1, 6, 10, -1) == 4
    assert view.scroll_within(1, 4, 10, -1) is None
    assert view.scroll_within(1, 4, 1, +1) == 5  # a one-row view still moves


VARIANTS = [
    item(0),
    item(1, body=""),
    item(2, body="one\ntwo\n\nfour"),
    item(3, reactions=(("heart", 2, True),)),
    item(4, content_warning="grief"),
    item(5, collapsed_reason="pending review"),
    item(6, content_warning="grief", collapsed_reason="matches your filter"),
    item(7, hidden=True, hidden_reason="spam"),
    item(8, hidden=True, body=""),
    item(9, hidden=True, hidden_reason="spam", content_warning="cw", body="seen by moderators"),
    item(10, deleted=True, body=""),
    item(11, depth=3),
]


@pytest.mark.parametrize("revealed", [False, True])
@pytest.mark.parametrize("post", VARIANTS, ids=lambda post: post.id)
def test_estimate_is_exact_when_every_paragraph_fits_on_a_line(post, revealed):
    """The shape counts the same paragraphs that rendering draws, for every kind of post."""
    width = 200
    guess = estimate([shape(post, revealed)], width)[0]
    assert guess == wrap_block(post, revealed, width).height


WORDS = "today was hard but I went for a walk and called my sister thanks everyone".split()


@pytest.mark.parametrize("words", [20, 60, 200])
@pytest.mark.parametrize("width", [30, 60, 100])
def test_estimate_of_wrapped_prose_is_within_a_line_of_the_exact_wrap(words, width):
    post = item(0, body=" ".join(WORDS[(n * 7) % len(WORDS)] for n in range(words)))
    exact = wrap_block(post, False, width).height
    assert exact > 2 + 1  # it does wrap
    assert abs(estimate([shape(post, False)], width)[0] - exact) <= 1


def test_shapes_inlines_the_plain_post_exactly_as_shape_does():
    posts = [*VARIANTS, replace(VARIANTS[4], id="open")]
    revealed = {"open"}
    assert shapes(posts, revealed) == [shape(post, post.id in revealed) for post in posts]


def test_text_width_indents_replies_up_to_a_depth_and_keeps_a_minimum():
    assert [text_width(40, depth) for depth in (0, 1, 4, 9, -1)] == [38, 36, 30, 30, 38]
    assert text_width(5, 0) == 8


def test_nearest_survivor_is_the_next_post_else_the_one_before():
    old = [item(n) for n in range(5)]
    assert nearest_survivor(old, 2, {"p0", "p1", "p3"}) == "p3"
    assert nearest_survivor(old, 2, {"p0", "p1"}) == "p1"
    assert nearest_survivor(old, 4, {"p0", "p2"}) == "p2"
    assert nearest_survivor(old, 1, set()) is None
