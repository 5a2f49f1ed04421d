"""The Feed tab: compose, reply, react, edit, delete, content warnings, unread, latest."""

from __future__ import annotations

from textual.widgets import Input, TextArea

from circle.tui.circle_screen import CircleScreen
from circle.tui.compose_dialog import ComposeDialog
from circle.tui.feed_view import FeedView

from .world import make_app, screen_text, until


async def open_feed(app, pilot) -> FeedView:
    await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
    await pilot.pause()
    return app.screen.query_one(FeedView)


def body(service, circle_id, post_id):
    return next(p for p in service.feed(circle_id) if p.id == post_id)


async def test_compose_a_post_with_a_content_warning(world):
    service = world.ana()
    app = make_app(service)
    async with app.run_test(size=(100, 32)) as pilot:
        feed = await open_feed(app, pilot)
        await pilot.press("n")
        assert isinstance(app.screen, ComposeDialog)
        await pilot.press(*"Hard day", "enter", *"x")  # multi-line: enter is a newline here
        app.screen.query_one("#cw", Input).value = "work stress"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the dialog to close")
        mine = [p for p in service.feed(world.circle_id) if p.author_id == service.whoami().member_id]
        newest = max(mine, key=lambda p: p.created_at)
        assert (newest.body, newest.content_warning) == ("Hard day\nx", "work stress")
        await until(pilot, lambda: newest.id in feed._index, what="the post in the feed")
        assert feed.selected_id == newest.id  # the cursor follows what you just wrote
    service.close()


async def test_cancel_keeps_nothing(world):
    service = world.ana()
    before = len(service.feed(world.circle_id))
    app = make_app(service)
    async with app.run_test(size=(100, 32)) as pilot:
        await open_feed(app, pilot)
        await pilot.press("n", *"never mind", "escape")
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the dialog to close")
    assert len(service.feed(world.circle_id)) == before
    service.close()


async def test_reply_goes_under_the_selected_post(world):
    service = world.ana()
    app = make_app(service)
    async with app.run_test(size=(100, 32)) as pilot:
        feed = await open_feed(app, pilot)
        feed.selected_id = world.posts["walk"]
        await pilot.press("r")
        assert "Walk on Tuesday?" in screen_text(app)  # the dialog quotes what you answer
        app.screen.query_one(TextArea).text = "See you there"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: any(p.body == "See you there" for p in service.feed(world.circle_id)),
                    what="the reply")
        reply = next(p for p in service.feed(world.circle_id) if p.body == "See you there")
        assert reply.reply_to == world.posts["walk"]
        await until(pilot, lambda: reply.id in feed._index, what="the reply in the feed")
        items = feed._items
        assert items[feed._index[reply.id]].depth == 1
    service.close()


async def test_react_and_take_it_back(world):
    service = world.ana()
    me = service.whoami().member_id
    app = make_app(service)
    async with app.run_test(size=(100, 32)) as pilot:
        feed = await open_feed(app, pilot)
        feed.selected_id = world.posts["reply"]
        await pilot.press("a", "1")  # 1 = heart
        hearts = lambda: body(service, world.circle_id, world.posts["reply"]).reactions.get("heart", ())  # noqa: E731
        await until(pilot, lambda: me in hearts(), what="the heart")
        await until(pilot, lambda: "heart 1 (you)" in screen_text(app), what="the reaction on screen")
        await pilot.press("a", "1")  # again: taken back
        await until(pilot, lambda: not hearts(), what="the heart to go")
    service.close()


async def test_edit_and_delete_own_posts_only(world):
    service = world.ana()
    app = make_app(service)
    async with app.run_test(size=(100, 32)) as pilot:
        feed = await open_feed(app, pilot)
        feed.selected_id = world.posts["reply"]  # Ben's
        await pilot.press("e")
        assert isinstance(app.screen, CircleScreen)
        await pilot.press("d")
        assert isinstance(app.screen, CircleScreen)

        feed.selected_id = world.posts["walk"]  # Ana's own
        await pilot.press("e")
        area = app.screen.query_one(TextArea)
        assert area.text.startswith("Walk on Tuesday?")
        area.text = "Walk on Wednesday instead."
        await pilot.press("ctrl+s")
        walk = lambda: body(service, world.circle_id, world.posts["walk"])  # noqa: E731
        await until(pilot, lambda: walk().body == "Walk on Wednesday instead.", what="the edit")
        await until(pilot, lambda: "edited" in screen_text(app), what="the edited mark")

        await pilot.press("d", "n")  # asked first; no keeps it
        await pilot.pause()
        assert not walk().deleted
        await pilot.press("d", "y")
        await until(pilot, lambda: walk().deleted, what="the delete")
        await until(pilot, lambda: "(deleted)" in screen_text(app), what="the tombstone")
    service.close()


async def test_content_warning_stays_collapsed_until_opened(world):
    service = world.ana()
    app = make_app(service)
    async with app.run_test(size=(100, 32)) as pilot:
        feed = await open_feed(app, pilot)
        text = screen_text(app)
        assert "CW: hospital" in text and "cannot sleep" not in text
        feed.selected_id = world.posts["cw"]
        await pilot.press("o")
        await until(pilot, lambda: "cannot sleep" in screen_text(app), what="the body")
    service.close()


async def test_unread_marker_shows_this_visit_and_clears_for_the_next(world):
    service = world.ana()
    app = make_app(service)
    async with app.run_test(size=(100, 32)) as pilot:
        await open_feed(app, pilot)
        assert screen_text(app).count("● new") == 2  # Ben's two posts; never your own
        assert "3 posts, 2 new" in screen_text(app)
    assert service.unread_count(world.circle_id) == 0
    app = make_app(service)
    async with app.run_test(size=(100, 32)) as pilot:
        await open_feed(app, pilot)
        assert "● new" not in screen_text(app)
    service.close()


async def test_new_posts_from_another_process_arrive_and_jump_to_latest(world):
    service = world.ana()
    other = world.ana()  # a second connection: what `circle post` in another terminal does
    app = make_app(service)
    async with app.run_test(size=(100, 24)) as pilot:
        feed = await open_feed(app, pilot)
        feed.selected_id = world.posts["walk"]
        for n in range(6):
            world.clock.now = world.clock.now.replace(minute=n + 1)
            other.post(world.circle_id, f"note {n} from the command line")
        await until(pilot, lambda: len(feed._items) == 9, what="the new posts")
        assert feed.selected_id == world.posts["walk"]  # arrivals never move your cursor
        await pilot.press("G")
        assert "note 5 from the command line" in screen_text(app)
        assert feed._items[feed._index[feed.selected_id]].body == "note 5 from the command line"
    other.close()
    service.close()
