"""FeedView: the virtualized feed (DESIGN.md, "Terminal UI")."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from textual.app import App, ComposeResult
from textual.geometry import Region

from circle.domain import untrusted
from circle.tui.feed_items import FeedItem
from circle.tui.feed_render import CURSOR_MARK, wrap
from circle.tui.feed_view import FeedView
from circle.tui.themes import CALM, HIGH_CONTRAST

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


def post(n: int, body: str | None = None, **fields) -> FeedItem:
    values = dict(
        id=f"p{n}",
        author=f"member{n}",
        body=f"body of post {n}" if body is None else body,
        created_at=NOW - timedelta(hours=1, minutes=n),
        depth=0,
        content_warning=None,
        reactions=(),
        deleted=False,
        hidden=False,
        hidden_reason=None,
        edited=False,
        is_mine=False,
        unread=False,
    )
    values.update(fields)
    return FeedItem(**values)


class FeedApp(App):
    def __init__(self, items=()) -> None:
        super().__init__()
        self.items = list(items)
        self.selected: list[str] = []
        self.activated: list[str] = []

    def compose(self) -> ComposeResult:
        yield FeedView(clock=lambda: NOW)

    def on_mount(self) -> None:
        self.query_one(FeedView).set_items(self.items)

    def on_feed_view_selected(self, message: FeedView.Selected) -> None:
        self.selected.append(message.post_id)

    def on_feed_view_activated(self, message: FeedView.Activated) -> None:
        self.activated.append(message.post_id)


def rows(feed: FeedView) -> list[str]:
    """The feed's visible rows, as Textual paints them."""
    region = feed.scrollable_content_region
    return [strip.text.rstrip() for strip in feed.render_lines(Region(0, 0, region.width, region.height))]


def text_rows(feed: FeedView) -> list[str]:
    """The visible rows without the two-cell cursor gutter."""
    return [row[2:] for row in rows(feed)]


def shown(feed: FeedView) -> str:
    return "\n".join(rows(feed))


def selected_rows(feed: FeedView) -> list[str]:
    return [row for row in rows(feed) if row.startswith(CURSOR_MARK)]


def assert_cursor_visible(feed: FeedView) -> None:
    header = f"member{feed.selected_id[1:]} "
    assert any(header in row for row in selected_rows(feed)), (feed.selected_id, rows(feed))


async def test_renders_header_body_reactions_and_separator():
    items = [
        post(1, "first words", reactions=(("hug", 2, True), ("heart", 1, False)), is_mine=True, edited=True),
        post(2, "second words"),
    ]
    app = FeedApp(items)
    async with app.run_test(size=(60, 12)) as pilot:
        await pilot.pause()
        lines = text_rows(app.query_one(FeedView))
        assert lines[0] == "member1 (you) · 1h ago · edited"
        assert lines[1:4] == ["first words", "hug 2 (you) · heart 1", ""]
        assert lines[4:6] == ["member2 · 1h ago", "second words"]


async def test_replies_are_indented_by_depth_up_to_a_cap():
    items = [post(0), post(1, depth=1), post(2, depth=2), post(3, depth=9)]
    app = FeedApp(items)
    async with app.run_test(size=(60, 16)) as pilot:
        app.query_one(FeedView).selected_id = None
        await pilot.pause()
        bodies = [row for row in text_rows(app.query_one(FeedView)) if "body of post" in row]
        indents = [len(row) - len(row.lstrip()) for row in bodies]
        assert indents == [0, 2, 4, 8]


async def test_body_wraps_at_words_and_rewraps_on_resize():
    words = [f"word{i:02d}" for i in range(40)]
    app = FeedApp([post(1, " ".join(words)), post(2)])
    async with app.run_test(size=(40, 30)) as pilot:
        feed = app.query_one(FeedView)
        await pilot.pause()
        narrow = [row.strip() for row in text_rows(feed) if row.startswith("word")]
        assert len(narrow) > 4
        assert all(len(row) <= feed.scrollable_content_region.width - 2 for row in narrow)
        assert " ".join(narrow).split() == words  # no word was split across lines
        narrow_height = feed.virtual_size.height

        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        wide = [row.strip() for row in text_rows(feed) if row.startswith("word")]
        assert len(wide) < len(narrow)
        assert " ".join(wide).split() == words
        assert feed.virtual_size.height == narrow_height - (len(narrow) - len(wide))


async def test_keyboard_moves_the_cursor_and_posts_messages():
    app = FeedApp([post(n) for n in range(30)])
    async with app.run_test(size=(60, 12)) as pilot:
        feed = app.query_one(FeedView)
        await pilot.pause()
        assert feed.selected_id == "p0"  # focus puts the cursor on the first post on screen
        await pilot.press("down", "j")
        assert feed.selected_id == "p2"
        await pilot.press("up")
        assert feed.selected_id == "p1"
        await pilot.press("k")
        assert feed.selected_id == "p0"
        await pilot.press("end")
        assert feed.selected_id == "p29"
        await pilot.pause()
        assert_cursor_visible(feed)
        await pilot.press("home")
        assert feed.selected_id == "p0"
        await pilot.press("pagedown")
        assert feed.selected_id == "p4"  # a 12-row page holds 4 three-row posts
        await pilot.press("pageup")
        assert feed.selected_id == "p0"
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.selected == ["p0", "p1", "p2", "p1", "p0", "p29", "p0", "p4", "p0", "p1"]
        assert app.activated == ["p1"]


async def test_cursor_is_marked_without_colour(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = FeedApp([post(1), post(2)])
    async with app.run_test(size=(60, 10)) as pilot:
        feed = app.query_one(FeedView)
        await pilot.press("down")
        region = feed.scrollable_content_region
        strips = feed.render_lines(Region(0, 0, region.width, region.height))
        assert app.no_color
        assert strips[0].text.startswith("  member1")
        assert strips[3].text.startswith(CURSOR_MARK + " member2")
        assert strips[4].text.startswith(CURSOR_MARK)
        assert any(seg.style and seg.style.reverse for seg in strips[3] if "member2" in seg.text)
        assert not any(seg.style and seg.style.reverse for seg in strips[0])


def _contrast(style) -> float:
    def luminance(color) -> float:
        def channel(value: int) -> float:
            value /= 255
            return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

        red, green, blue = color.get_truecolor()
        return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)

    light, dark = sorted((luminance(style.color), luminance(style.bgcolor)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize(("theme", "minimum"), [(HIGH_CONTRAST, 7.0), (CALM, 4.5)])
async def test_every_part_is_legible_in_the_app_themes(theme, minimum):
    items = [
        post(1, unread=True, reactions=(("hug", 1, True),)),
        post(2, depth=1, content_warning="grief", edited=True, is_mine=True),
        post(3, "", hidden=True, hidden_reason="spam"),
        post(4, deleted=True),
    ]
    app = FeedApp(items)
    async with app.run_test(size=(60, 16)) as pilot:
        app.register_theme(theme)
        app.theme = theme.name
        await pilot.pause()
        feed = app.query_one(FeedView)
        region = feed.scrollable_content_region
        segments = [
            segment
            for strip in feed.render_lines(Region(0, 0, region.width, region.height))
            for segment in strip
            if segment.text.strip()
        ]
        assert {"(deleted)", "● new", "edited", "CW: grief — press enter to read"} <= {s.text for s in segments}
        worst = min(segments, key=lambda segment: _contrast(segment.style))
        assert _contrast(worst.style) >= minimum, worst


async def test_scrolling_keeps_the_cursor_in_view():
    items = [post(n, "a longer body that needs two lines " * (n % 3)) for n in range(60)]
    app = FeedApp(items)
    async with app.run_test(size=(50, 10)) as pilot:
        feed = app.query_one(FeedView)
        for _ in range(25):
            await pilot.press("down")
            assert_cursor_visible(feed)
        for _ in range(3):
            await pilot.press("pagedown")
            assert_cursor_visible(feed)
        for _ in range(10):
            await pilot.press("up")
            assert_cursor_visible(feed)


async def test_a_post_taller_than_the_view_is_read_through_not_skipped():
    long_body = "\n".join(f"line {i:02d}" for i in range(30))
    app = FeedApp([post(0), post(1, long_body), post(2)])  # rows 0-2, 3-34, 35-37
    async with app.run_test(size=(60, 10)) as pilot:
        feed = app.query_one(FeedView)
        await pilot.pause()
        for key, after in (("down", "p2"), ("up", "p0")):
            seen: set[str] = set()
            selections = []
            for _ in range(5):
                await pilot.press(key)
                selections.append(feed.selected_id)
                if feed.selected_id == "p1":
                    seen.update(row.strip() for row in text_rows(feed))
            assert selections == ["p1", "p1", "p1", "p1", after]
            assert {f"line {i:02d}" for i in range(30)} <= seen

        tops = []
        for _ in range(4):
            await pilot.press("pagedown")
            tops.append((feed.selected_id, feed.scroll_offset.y))
        assert tops == [("p1", 10), ("p1", 20), ("p1", 28), ("p2", 28)]


async def test_mouse_click_selects_and_double_click_activates():
    app = FeedApp([post(n) for n in range(5)])
    async with app.run_test(size=(60, 12)) as pilot:
        feed = app.query_one(FeedView)
        await pilot.click(FeedView, offset=(5, 7))  # rows 6-8 are the third post
        assert feed.selected_id == "p2"
        await pilot.click(FeedView, offset=(5, 4), times=2)
        assert feed.selected_id == "p1"
        assert app.activated == ["p1"]


async def test_content_warning_collapsed_until_revealed():
    items = [post(1, "the hard part", content_warning="grief"), post(2, "other", content_warning="loss")]
    app = FeedApp(items)
    async with app.run_test(size=(60, 12)) as pilot:
        feed = app.query_one(FeedView)
        await pilot.pause()
        text = shown(feed)
        assert "CW: grief — press enter to read" in text
        assert "the hard part" not in text and "other" not in text

        feed.reveal("p1")
        await pilot.pause()
        assert "the hard part" in shown(feed)
        assert "CW: grief" in shown(feed) and "press enter to read" in shown(feed)  # p2 still closed

        await pilot.press("down", "enter")  # enter on a collapsed warning opens it, not the post
        await pilot.pause()
        assert "other" in shown(feed)
        assert app.activated == []
        await pilot.press("enter")
        assert app.activated == ["p2"]


async def test_folded_posts_stay_closed_until_opened_and_enter_opens_them_first():
    items = [
        post(1, "reported words", collapsed_reason="pending moderator review (3 reports)"),
        post(2, "about my grief", collapsed_reason="matches your filter: grief", content_warning="loss"),
        post(3, "", hidden=True, hidden_reason="spam", collapsed_reason="matches your filter: spam"),
    ]
    app = FeedApp(items)
    async with app.run_test(size=(80, 14)) as pilot:
        feed = app.query_one(FeedView)
        await pilot.pause()
        lines = text_rows(feed)
        assert lines[1] == "Folded: pending moderator review (3 reports) — press enter to read"
        assert lines[4] == "Folded: matches your filter: grief · CW: loss — press enter to read"
        assert "reported words" not in shown(feed) and "about my grief" not in shown(feed)
        assert not feed.is_closed("p3")  # a member's hidden post: nothing behind the notice

        await pilot.press("enter")  # on the first post: opens the fold, does not activate the post
        await pilot.pause()
        assert app.activated == []
        assert text_rows(feed)[1:3] == ["(folded: pending moderator review (3 reports))", "reported words"]
        await pilot.press("enter")
        assert app.activated == ["p1"]


async def test_deleted_and_hidden_posts():
    items = [
        post(1, "gone text", deleted=True),
        post(2, "", hidden=True, hidden_reason="off topic", content_warning="not shown either"),
        post(3, "moderators see this", hidden=True, hidden_reason="spam"),
    ]
    app = FeedApp(items)
    async with app.run_test(size=(60, 14)) as pilot:
        await pilot.pause()
        lines = text_rows(app.query_one(FeedView))
        assert lines[1] == "(deleted)" and "gone text" not in "\n".join(lines)
        assert lines[4:6] == ["(hidden by moderators: off topic)", ""]
        assert lines[7:9] == ["(hidden by moderators: spam)", "moderators see this"]


async def test_unread_marker_is_text():
    app = FeedApp([post(1, unread=True), post(2)])
    async with app.run_test(size=(60, 10)) as pilot:
        await pilot.pause()
        lines = text_rows(app.query_one(FeedView))
        assert lines[0] == "member1 · 1h ago · ● new"
        assert "new" not in lines[3]


async def test_relative_and_absolute_times():
    items = [post(1, created_at=NOW - timedelta(seconds=20)), post(2, created_at=NOW - timedelta(days=3)),
             post(3, created_at=NOW - timedelta(days=40))]
    app = FeedApp(items)
    async with app.run_test(size=(60, 10)) as pilot:
        await pilot.pause()
        headers = text_rows(app.query_one(FeedView))[0:9:3]
        assert [h.split(" · ")[1] for h in headers] == ["just now", "3d ago", "Mon 20 Jan 2025 12:00"]


async def test_set_items_keeps_the_selection_and_the_view():
    app = FeedApp([post(n) for n in range(40)])
    async with app.run_test(size=(60, 12)) as pilot:
        feed = app.query_one(FeedView)
        for _ in range(20):
            await pilot.press("down")
        assert feed.selected_id == "p20"
        before = rows(feed)
        feed.set_items([post(100), post(101)] + [post(n) for n in range(40)] + [post(102)])
        await pilot.pause()
        assert feed.selected_id == "p20"
        assert rows(feed) == before  # inserting above did not move what is on screen
        app.selected.clear()
        feed.set_items([post(n) for n in range(40) if n != 20])
        await pilot.pause()
        assert feed.selected_id == "p21"  # the post that took its place
        assert app.selected == ["p21"]


async def test_untrusted_text_is_stripped_of_controls():
    evil_author = "\x1b[31mMallory\x1b[0m\x07"
    evil_body = "hi\x1b]0;pwned\x07 there\x1b[2J\u202eeert\x9b5m\x00\r\nnext\tline"
    items = [post(1, evil_body, author=evil_author, reactions=(("hug\x1b[5m", 1, False),))]
    app = FeedApp(items)
    async with app.run_test(size=(60, 10)) as pilot:
        await pilot.pause()
        text = shown(app.query_one(FeedView))
        assert "Mallory · 1h ago" in text
        assert "hi there" in text and "next    line" in text and "hug 1" in text
        assert not any(ord(ch) < 32 and ch != "\n" or 0x7F <= ord(ch) <= 0x9F for ch in text)
        assert "[31m" not in text and "pwned" not in text and "\u202e" not in text


def test_shown_and_wrap_units():
    assert untrusted.shown("a\x1b[1;31mb\x1b[0m\x1bPq#0\x1b\\c\u2066d\x7f") == "abcd"
    assert untrusted.shown("one\r\ntwo\u2028three", multiline=True) == "one\ntwo\nthree"
    assert untrusted.shown("one\ntwo") == "one two"
    assert wrap("aaa bbb ccc", 7) == ["aaa bbb", "ccc"]
    assert wrap("x" * 10, 4) == ["xxxx", "xxxx", "xx"]
    assert wrap("日本語のテキスト", 6) == ["日本語", "のテキ", "スト"]
    assert wrap("para one\n\npara two", 20) == ["para one", "", "para two"]


async def test_estimated_heights_never_make_the_view_jump():
    # Words just over half the line each take a whole line, so the length-based estimate is
    # far too low: every post that scrolls into view gets corrected.
    items = [post(n, " ".join(["x" * 25] * (2 + n % 5))) for n in range(400)]
    app = FeedApp(items)
    async with app.run_test(size=(50, 20)) as pilot:
        feed = app.query_one(FeedView)
        feed.scroll_to(y=feed.virtual_size.height // 2, animate=False, immediate=True)
        await pilot.pause()
        previous = rows(feed)
        for _ in range(40):  # upwards, into posts measured only now
            feed.scroll_to(y=feed.scroll_offset.y - 1, animate=False, immediate=True)
            await pilot.pause()
            current = rows(feed)
            assert current[1:] == previous[:-1]
            previous = current
        for _ in range(40):
            feed.scroll_to(y=feed.scroll_offset.y + 1, animate=False, immediate=True)
            await pilot.pause()
            current = rows(feed)
            assert current[:-1] == previous[1:]
            previous = current

        # Dragged to the bottom, onto estimated posts: it stays at the bottom once measured.
        feed.scroll_to(y=feed.max_scroll_y, animate=False, immediate=True)
        await pilot.pause()
        assert feed.scroll_offset.y == feed.max_scroll_y
        assert text_rows(feed)[-2].strip() == "x" * 25  # the last line of the last post
        assert any(row.startswith("member399 ") for row in text_rows(feed))


async def test_resize_keeps_the_cursor_or_the_top_post_in_place():
    items = [post(n, "some words to wrap " * (1 + n % 6)) for n in range(300)]
    app = FeedApp(items)
    async with app.run_test(size=(80, 20)) as pilot:
        feed = app.query_one(FeedView)
        feed.selected_id = "p120"
        await pilot.pause()
        assert_cursor_visible(feed)
        await pilot.resize_terminal(40, 20)
        await pilot.pause()
        assert_cursor_visible(feed)

        # With the cursor scrolled away, the post at the top stays at the top.
        feed.scroll_to(y=feed.scroll_offset.y + 200, animate=False, immediate=True)
        await pilot.pause()
        header = next(i for i, row in enumerate(text_rows(feed)) if row.startswith("member"))
        feed.scroll_to(y=feed.scroll_offset.y + header, animate=False, immediate=True)
        await pilot.pause()
        top = text_rows(feed)[0]
        assert top.startswith("member")
        await pilot.resize_terminal(90, 20)
        await pilot.pause()
        assert text_rows(feed)[0] == top


async def test_jump_to_latest_selects_the_newest_post():
    items = [post(n) for n in range(50)]
    items[10] = replace(items[10], created_at=NOW)
    app = FeedApp(items)
    async with app.run_test(size=(60, 12)) as pilot:
        feed = app.query_one(FeedView)
        feed.jump_to_latest()
        await pilot.pause()
        assert feed.selected_id == "p10"
        assert_cursor_visible(feed)


async def test_jump_to_latest_before_the_first_layout():
    class EarlyApp(FeedApp):
        def on_mount(self) -> None:
            feed = self.query_one(FeedView)
            feed.set_items(self.items)
            feed.jump_to_latest()

    app = EarlyApp([post(n, created_at=NOW - timedelta(minutes=60 - n)) for n in range(50)])
    async with app.run_test(size=(60, 12)) as pilot:
        feed = app.query_one(FeedView)
        await pilot.pause()
        assert feed.selected_id == "p49"
        assert feed.scroll_offset.y == feed.max_scroll_y > 0
        assert_cursor_visible(feed)


async def test_at_the_end_new_posts_stay_in_view():
    items = [post(n, created_at=NOW - timedelta(minutes=60 - n)) for n in range(50)]
    app = FeedApp(items)
    async with app.run_test(size=(60, 12)) as pilot:
        feed = app.query_one(FeedView)
        feed.jump_to_latest()
        await pilot.pause()
        assert feed.selected_id == "p49"
        assert feed.scroll_offset.y == feed.max_scroll_y
        feed.set_items([*items, post(50, "a new arrival", created_at=NOW)])
        await pilot.pause()
        assert feed.scroll_offset.y == feed.max_scroll_y
        assert "a new arrival" in shown(feed)
        assert feed.selected_id == "p49"


async def test_ten_thousand_posts_mount_and_scroll_to_the_end_quickly():
    items = [post(n, "word " * (n % 50)) for n in range(10_000)]
    start = time.perf_counter()
    app = FeedApp(items)
    async with app.run_test(size=(80, 24)) as pilot:
        feed = app.query_one(FeedView)
        await pilot.pause()
        assert "member0 " in shown(feed)
        await pilot.press("end")
        await pilot.pause()
        assert feed.selected_id == "p9999"
        assert feed.scroll_offset.y == feed.max_scroll_y > 0
        assert "member9999 " in shown(feed)
    assert time.perf_counter() - start < 5  # a ListView of 10k posts takes tens of seconds


def test_snapshot(snap_compare):
    items = [
        post(1, "Walked by the river today. It helped more than I expected.", unread=True,
             reactions=(("hug", 2, True), ("heart", 1, False))),
        post(2, "So glad to hear it. Same time next week?", depth=1, is_mine=True, edited=True),
        post(3, "details", depth=1, content_warning="hospital stay"),
        post(4, "", deleted=True),
        post(5, "", hidden=True, hidden_reason="shared someone's private story"),
    ]
    assert snap_compare(FeedApp(items), press=["down"], terminal_size=(64, 20))
