"""Keeping the feed still while heights are measured (tui/feed_scroll.py), without an app."""

from __future__ import annotations

from circle.tui.feed_layout import FeedLayout
from circle.tui.feed_scroll import ScrollPort, hold, settle


class View:
    """A scrolled view `height` rows tall over the layout it was last told about; like
    Textual's, it clamps the first row to what the content allows."""

    def __init__(self, layout: FeedLayout, top: int, height: int) -> None:
        self.total = layout.total
        self.row = top
        self.height = height
        self.port = ScrollPort(lambda: self.row, self.scroll_to, self.publish)

    def scroll_to(self, y: int) -> None:
        self.row = min(max(y, 0), max(self.total - self.height, 0))

    def publish(self, layout: FeedLayout) -> None:
        self.total = layout.total


def grows(by: int, layout: FeedLayout):
    """A measure that finds every post `by` rows taller than its estimate."""
    return lambda index: layout.heights[index] + by


def test_a_post_growing_on_screen_does_not_move_the_next_post_on_screen():
    layout = FeedLayout(40, [4] * 20)
    view = View(layout, top=5, height=6)  # post 1 is cut at the top, post 2 starts 3 rows down
    assert settle(layout, 6, grows(2, layout), view.port) is True
    anchor = layout.first_starting_from(view.row)
    assert anchor == 2 and layout.starts[2] - view.row == 3  # post 2 is still 3 rows down
    on_screen = range(layout.post_at(view.row), layout.post_at(view.row + 5) + 1)
    assert all(layout.exact[index] for index in on_screen)
    assert view.total == layout.total == sum(layout.heights)


def test_shrinking_posts_keep_the_anchor_too():
    layout = FeedLayout(40, [6] * 10)
    view = View(layout, top=13, height=8)  # post 2 (rows 12-17) cut, post 3 starts at 18
    settle(layout, 8, lambda index: 3, view.port)
    assert layout.starts[3] - view.row == 5


def test_the_end_of_the_feed_stays_at_the_end():
    layout = FeedLayout(40, [4] * 10)
    view = View(layout, top=32, height=8)
    settle(layout, 8, grows(3, layout), view.port)
    assert view.row == layout.total - 8 > 32


def test_nothing_to_correct_is_reported_as_such():
    layout = FeedLayout(40, [4] * 10)
    view = View(layout, top=8, height=8)
    assert settle(layout, 8, lambda index: 4, view.port) is False
    assert view.row == 8
    assert settle(layout, 8, lambda index: 99, view.port) is False  # already measured


def test_hold_puts_the_same_row_of_the_anchor_post_back_at_the_top():
    layout = FeedLayout(40, [4] * 10)
    view = View(layout, top=0, height=6)
    hold(layout, 2, 1, False, 6, lambda index: 7, view.port)
    assert layout.exact[2] and layout.heights[2] == 7
    assert view.row == layout.starts[2] + 1 == 9
    hold(layout, 2, 50, False, 6, lambda index: 7, view.port)  # past its end: its last row
    assert view.row == layout.starts[2] + 6


def test_hold_at_the_end_goes_to_the_new_end():
    layout = FeedLayout(40, [4] * 10)
    view = View(layout, top=34, height=6)
    hold(layout, 9, 2, True, 6, lambda index: 9, view.port)
    assert view.row == layout.total - 6
    assert layout.heights[9] == 9


def test_hold_without_its_post_measures_where_the_view_is():
    layout = FeedLayout(40, [4] * 10)
    view = View(layout, top=10, height=6)
    hold(layout, None, 3, False, 6, lambda index: 5, view.port)
    assert view.row == 10
    assert bytes(layout.exact[1:5]) == b"\x00\x01\x01\x00"  # rows 10-15: posts 2 and 3


def test_hold_measures_the_rows_that_will_be_on_screen_after_the_anchor_grew():
    layout = FeedLayout(40, [4] * 10)
    view = View(layout, top=0, height=2)
    hold(layout, 2, 6, False, 2, lambda index: 7, view.port)  # row 6 of post 2: past its estimate
    assert view.row == layout.starts[2] + 6 == 14
    assert layout.exact[3]  # row 15, the view's second row, is post 3's first
