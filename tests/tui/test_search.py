"""`/` on the feed: the search box lists matching posts newest first, Enter on one selects it
in the feed (a post behind a warning stays closed, and its body is not shown), Esc closes."""

from __future__ import annotations

from textual.widgets import OptionList

from circle.tui.circle_screen import CircleScreen
from circle.tui.feed_view import FeedView
from circle.tui.search_dialog import SearchDialog

from .world import make_app, screen_text, type_into, until


async def _search(app, pilot, text: str) -> OptionList:
    await pilot.press("slash")
    await until(pilot, lambda: isinstance(app.screen, SearchDialog), what="the search box")
    await type_into(pilot, "#search-text", text)
    await pilot.press("enter")
    await pilot.pause()
    return app.screen.query_one("#search-hits", OptionList)


async def test_slash_finds_a_post_and_enter_selects_it_in_the_feed(world):
    service = world.ana()
    app = make_app(service)
    async with app.run_test(size=(100, 32)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
        feed = app.screen.query_one(FeedView)
        feed.selected_id = world.posts["reply"]
        hits = await _search(app, pilot, "GATE")
        assert hits.option_count == 1 and hits.has_focus
        shown = screen_text(app)
        assert "1 match" in shown and "Walk on Tuesday? Meet at the north gate at ten." in shown
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the feed again")
        assert feed.selected_id == world.posts["walk"] and feed.has_focus
    service.close()


async def test_a_warned_post_is_found_by_its_warning_but_its_body_stays_closed(world):
    service = world.ana()
    app = make_app(service)
    async with app.run_test(size=(100, 32)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
        feed = app.screen.query_one(FeedView)
        hits = await _search(app, pilot, "sleep")
        assert hits.option_count == 1
        shown = screen_text(app)
        assert "content warning: hospital" in shown and "cannot sleep" not in shown
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the feed again")
        assert feed.selected_id == world.posts["cw"] and feed.is_closed(world.posts["cw"])
    service.close()


async def test_no_match_and_a_bad_query_say_so_and_escape_closes(world):
    service = world.ana()
    app = make_app(service)
    async with app.run_test(size=(100, 32)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
        feed = app.screen.query_one(FeedView)
        before = feed.selected_id
        hits = await _search(app, pilot, "xylophone")
        assert not hits.display and "no matches" in screen_text(app)
        await type_into(pilot, "#search-text", '"..."')
        await pilot.press("enter")
        await pilot.pause()
        assert "search for at least one word" in screen_text(app)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the feed again")
        assert feed.selected_id == before
    service.close()


async def test_another_members_markup_and_escapes_in_a_hit_show_as_plain_text(world):
    ben = world.ben()
    ben.post(world.circle_id, "[@click=app.quit]Q [bold]strolling[/] \x1b]52;c;eA==\x07\u202eevil")
    service = world.ana()
    service.receive_bundle(ben.bundle_for(world.circle_id, service.whoami().device_id))
    ben.close()
    app = make_app(service)
    async with app.run_test(size=(100, 32)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
        hits = await _search(app, pilot, "strolling")
        assert hits.option_count == 1
        await pilot.press("enter")  # were the markup live, this would click app.quit
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the feed again")
        assert app.is_running
        await pilot.press("slash")
        await type_into(pilot, "#search-text", "strolling")
        await pilot.press("enter")
        await pilot.pause()
        assert "[@click=app.quit]Q [bold]strolling[/]" in screen_text(app)
    service.close()
