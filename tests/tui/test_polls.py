"""Polls in the app: asking under a post, voting in the radio dialog, the results under
the post, and a hostile member's question and options shown as text, never as markup."""

from __future__ import annotations

from textual.widgets import Input, RadioSet, TextArea

from circle.tui.circle_screen import CircleScreen
from circle.tui.feed_view import FeedView
from circle.tui.poll_dialog import PollDialog, VoteDialog

from .test_hostile_text import UNSAFE, painted
from .world import make_app, screen_text, until


def ben_asks(world, question: str, options: list[str]) -> str:
    """Ben asks under Ana's walk post; the poll reaches Ana's device."""
    ben = world.ben()
    try:
        poll = ben.create_poll(world.circle_id, question, options, post=world.posts["walk"]).poll.id
        return poll
    finally:
        ana = world.ana()
        ana.receive_bundle(ben.bundle_for(world.circle_id, ana.whoami().device_id))
        ana.close()
        ben.close()


async def open_walk_post(app, pilot, world) -> FeedView:
    await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
    feed = app.screen.query_one(FeedView)
    feed.selected_id = world.posts["walk"]
    feed.focus()
    await pilot.pause()
    return feed


async def test_asking_a_poll_under_the_selected_post(world):
    service = world.ana()
    app = make_app(service)
    async with app.run_test(size=(100, 34)) as pilot:
        await open_walk_post(app, pilot, world)
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, PollDialog), what="the poll dialog")
        app.screen.query_one("#question", Input).value = "Which gate?"
        app.screen.query_one("#options", TextArea).load_text("North gate\n\nSouth gate\n")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the dialog to close")
        [result] = service.polls(world.circle_id)
        assert (result.poll.question, result.poll.options, result.poll.post_id, result.poll.closes_at) == \
            ("Which gate?", ("North gate", "South gate"), world.posts["walk"], None)
        await until(pilot, lambda: "Poll: Which gate?" in screen_text(app), what="the poll under the post")
        assert "you have not voted" in screen_text(app)
    service.close()


async def test_the_poll_dialog_says_what_is_missing_and_keeps_nothing(world):
    service = world.ana()
    app = make_app(service)
    async with app.run_test(size=(100, 34)) as pilot:
        await open_walk_post(app, pilot, world)
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, PollDialog), what="the poll dialog")
        app.screen.query_one("#question", Input).value = "Which gate?"
        app.screen.query_one("#options", TextArea).load_text("only one")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, PollDialog) and "Give 2 to 10 options" in screen_text(app)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the dialog to close")
    assert service.polls(world.circle_id) == []
    service.close()


async def test_voting_in_the_dialog_counts_and_the_feed_says_what_you_chose(world):
    poll = ben_asks(world, "Which gate?", ["North gate", "South gate", "East gate"])
    service = world.ana()
    app = make_app(service)
    async with app.run_test(size=(100, 34)) as pilot:
        await open_walk_post(app, pilot, world)
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, VoteDialog), what="the vote dialog")
        assert "Which gate?" in screen_text(app)
        await pilot.press("down", "enter")  # the radio set: move to the second option, pick it
        assert app.screen.query_one(RadioSet).pressed_index == 1
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the dialog to close")
        result = service.resolve_poll(world.circle_id, poll)
        assert result.counts == (0, 1, 0) and result.my_choice == 1
        await until(pilot, lambda: "you voted 2 (South gate)" in screen_text(app), what="your vote in the feed")
        # Voting again starts from your vote and replaces it.
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, VoteDialog), what="the vote dialog")
        assert app.screen.query_one(RadioSet).pressed_index == 1
        await pilot.press("down", "down", "enter", "ctrl+s")  # the cursor starts on the first option
        await until(pilot, lambda: service.resolve_poll(world.circle_id, poll).counts == (0, 0, 1),
                    what="the new vote")
    service.close()


async def test_a_closed_poll_takes_no_vote(world):
    poll = ben_asks(world, "Which gate?", ["North gate", "South gate"])
    service = world.ana()
    service.close_poll(world.circle_id, poll)  # Ana organizes: she may close Ben's poll
    app = make_app(service)
    async with app.run_test(size=(100, 34)) as pilot:
        await open_walk_post(app, pilot, world)
        await until(pilot, lambda: "0 votes · closed" in screen_text(app), what="the closed poll")
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, CircleScreen)
        assert any("That poll is closed." in str(n.message) for n in app._notifications)
    service.close()


async def test_a_hostile_question_and_options_show_as_text(world):
    question = "[b]Vote[/b] \x1b]52;c;ZXZpbA==\x07now [@click=app.quit]x[/]"
    ben_asks(world, question, ["[red]North[/red]", "South\x1b[2J\u202egate"])
    service = world.ana()
    app = make_app(service)
    async with app.run_test(size=(120, 34)) as pilot:
        await open_walk_post(app, pilot, world)
        await until(pilot, lambda: "[b]Vote[/b]" in painted(app), what="the question, as written")
        for text in (painted(app), screen_text(app)):
            assert "[@click=app.quit]x[/]" in text and "[red]North[/red]" in text and "Southgate" in text
            assert not UNSAFE.findall(text)
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, VoteDialog), what="the vote dialog")
        await pilot.pause()
        text = painted(app)
        assert "[b]Vote[/b]" in text and "[red]North[/red]" in text and not UNSAFE.findall(text)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the dialog to close")
    service.close()


async def test_a_poll_about_the_guidelines_shows_and_takes_votes_in_the_guidelines_tab(world):
    ben = world.ben()
    poll = ben.create_poll(world.circle_id, "Keep rule 2 as it is?", ["Keep it", "Change it"], guidelines=True).poll
    assert poll.guidelines_version == 1
    ana = world.ana()
    ana.receive_bundle(ben.bundle_for(world.circle_id, ana.whoami().device_id))
    ben.close()
    app = make_app(ana)
    async with app.run_test(size=(100, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
        await pilot.press("5")
        await until(pilot, lambda: "Poll: Keep rule 2 as it is? (about the guidelines, version 1)" in screen_text(app),
                    what="the poll in the Guidelines tab")
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, VoteDialog), what="the vote dialog")
        await pilot.press("enter", "ctrl+s")  # the first option
        await until(pilot, lambda: ana.resolve_poll(world.circle_id, poll.id).counts == (1, 0), what="the vote")
        await until(pilot, lambda: "you voted 1 (Keep it)" in screen_text(app), what="your vote shown")
    ana.close()
