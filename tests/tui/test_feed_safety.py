"""The feed's safety side: reporting a post, posts folded for review or by your own
filters (closed until opened on purpose), posts hidden by moderators, content filters."""

from __future__ import annotations

from circle.tui.circle_screen import CircleScreen
from circle.tui.dialogs import PromptDialog
from circle.tui.filters_dialog import FiltersDialog
from circle.tui.feed_view import FeedView

from .world import make_app, screen_text, type_into, until


async def open_feed(app, pilot) -> FeedView:
    await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
    await pilot.pause()
    return app.screen.query_one(FeedView)


def ben_gets_anas_news(world, ana) -> None:
    ben = world.ben()
    ben.receive_bundle(ana.bundle_for(world.circle_id, ben.whoami().device_id))
    ben.close()


async def test_report_a_post_from_the_feed(world):
    ben = world.ben()
    app = make_app(ben)
    async with app.run_test(size=(100, 32)) as pilot:
        feed = await open_feed(app, pilot)
        feed.selected_id = world.posts["reply"]  # his own: nothing to report
        await pilot.press("!")
        await pilot.pause()
        assert not isinstance(app.screen, PromptDialog)
        assert ben.reports(world.circle_id) == []

        feed.selected_id = world.posts["walk"]
        await pilot.press("!")
        assert isinstance(app.screen, PromptDialog)
        await type_into(pilot, "#answer", "meeting point is unsafe")
        await pilot.press("enter")
        await until(pilot, lambda: ben.reports(world.circle_id), what="the report")
    [report] = ben.reports(world.circle_id)
    assert (report.post_id, report.reason, report.status) == (world.posts["walk"], "meeting point is unsafe", "open")
    ana = world.ana()
    ana.receive_bundle(ben.bundle_for(world.circle_id, ana.whoami().device_id))
    assert [(r.reporter_id, r.reason) for r in ana.reports(world.circle_id)] == [
        (ben.whoami().member_id, "meeting point is unsafe")]  # the moderator can read it
    ana.close()
    ben.close()


async def test_a_post_folded_for_review_stays_closed_until_opened(world):
    ana = world.ana()
    ana.set_report_policy(world.circle_id, 1)
    ben = world.ben()
    ben.receive_bundle(ana.bundle_for(world.circle_id, ben.whoami().device_id))
    ben.report(world.circle_id, world.posts["walk"], "wrong place")
    ana.receive_bundle(ben.bundle_for(world.circle_id, ana.whoami().device_id))  # Ana's device folds it
    ben.receive_bundle(ana.bundle_for(world.circle_id, ben.whoami().device_id))
    ana.close()
    assert "pending moderator review" in next(
        p.collapsed_reason for p in ben.feed(world.circle_id) if p.id == world.posts["walk"])
    app = make_app(ben)
    async with app.run_test(size=(100, 32)) as pilot:
        feed = await open_feed(app, pilot)
        text = screen_text(app)
        assert "Folded: pending moderator review" in text and "north gate" not in text
        feed.selected_id = world.posts["walk"]
        await pilot.press("enter")  # enter opens it first, like a content warning
        await until(pilot, lambda: "north gate" in screen_text(app), what="the body")
        assert "(folded: pending moderator review" in screen_text(app)
    ben.close()


async def test_hidden_posts_cannot_be_opened_by_members_but_moderators_see_them(world):
    ana = world.ana()
    ana.hide(world.circle_id, world.posts["walk"], "shared an address")
    ben_gets_anas_news(world, ana)
    app = make_app(ana)
    async with app.run_test(size=(100, 32)) as pilot:
        await open_feed(app, pilot)
        text = screen_text(app)
        assert "(hidden by moderators: shared an address)" in text and "north gate" in text
    ana.close()

    ben = world.ben()
    app = make_app(ben)
    async with app.run_test(size=(100, 32)) as pilot:
        feed = await open_feed(app, pilot)
        assert "(hidden by moderators: shared an address)" in screen_text(app)
        feed.selected_id = world.posts["walk"]
        await pilot.press("o")
        await pilot.pause()
        assert "north gate" not in screen_text(app)
        assert any("only they can open it" in n.message for n in app._notifications)
        assert not feed.is_closed(world.posts["walk"])  # there is nothing behind the notice
    ben.close()


async def test_content_filters_fold_matching_posts_and_can_be_removed(world):
    ana = world.ana()
    app = make_app(ana)
    async with app.run_test(size=(100, 32)) as pilot:
        feed = await open_feed(app, pilot)
        assert "bring a flask" in screen_text(app)
        await pilot.press("f")
        assert isinstance(app.screen, FiltersDialog)
        await type_into(pilot, "#topic", "Flask")
        await pilot.press("enter")
        assert ana.cw_filters() == ("flask",)
        await pilot.press("escape")
        await until(pilot, lambda: "Folded: matches your filter: flask" in screen_text(app), what="the fold")
        assert "bring a flask" not in screen_text(app)
        feed.selected_id = world.posts["reply"]
        await pilot.press("o")
        await until(pilot, lambda: "bring a flask" in screen_text(app), what="the opened post")

        await pilot.press("f")
        await pilot.press("tab")  # to the list of topics
        await pilot.press("d")
        assert ana.cw_filters() == ()
        await pilot.press("escape")
        await until(pilot, lambda: "Folded:" not in screen_text(app), what="the fold to go")
    ana.close()
