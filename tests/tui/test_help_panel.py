"""F1 opens "Need help now?" from every screen, over any focused widget, offline; Esc closes it."""

from __future__ import annotations

from textual.widgets import Input, TextArea

from circle.errors import StoreDamaged
from circle.tui.circle_list import CircleListScreen
from circle.tui.circle_screen import CircleScreen
from circle.tui.dialogs import PromptDialog
from circle.tui.help_panel import HelpScreen

from .world import make_app, screen_text, type_into, until

BUILT_IN = "Samaritans: Call 116 123"  # CIRCLE_REGION=GB in these tests


async def assert_help(pilot, *, circle_resource: bool | None = None, look: bool = False) -> None:
    """F1 opens the panel over whatever is on screen; Esc returns to exactly that."""
    app = pilot.app
    before, focused = app.screen, app.focused
    await pilot.press("f1")
    assert isinstance(app.screen, HelpScreen), f"F1 did not open help over {before}"
    listed = "\n".join(f"{r.name}: {r.contact}" for _, resources in app.screen.sections for r in resources)
    assert BUILT_IN in listed
    if circle_resource is not None:
        assert ("Walkers phone tree: Ana: 07700 900123" in listed) == circle_resource
    if look:  # what the panel shows, not just what it holds
        text = screen_text(app)
        assert "Need help now?" in text and BUILT_IN in text
    await pilot.press("escape")
    assert app.screen is before and app.focused is focused


async def test_help_before_any_profile_exists(tmp_path):
    app = make_app(home=tmp_path / "none")
    async with app.run_test(size=(100, 32)) as pilot:
        assert isinstance(app.focused, Input)  # typing a name
        await assert_help(pilot, look=True)


async def test_help_on_the_unlock_screen(world):
    app = make_app(home=world.home)
    async with app.run_test(size=(100, 32)) as pilot:
        assert isinstance(app.focused, Input)  # the passphrase field
        await assert_help(pilot)


async def test_help_from_every_screen_of_an_unlocked_app(world):
    service = world.ana()
    app = make_app(service)
    async with app.run_test(size=(110, 36)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
        await pilot.pause()
        for tab in "12345678":
            await pilot.press(tab)
            await assert_help(pilot, circle_resource=True, look=tab == "1")
        await pilot.press("1", "n")  # compose: the text area has focus and takes most keys
        assert isinstance(app.focused, TextArea)
        await pilot.press(*"half a sentence")
        await assert_help(pilot)
        assert app.focused.text == "half a sentence"  # nothing typed was lost or eaten
        await pilot.press("escape", "c")  # the check-in dialog
        await assert_help(pilot)
        await pilot.press("n")  # ...with its note field focused
        await assert_help(pilot)
        await pilot.press("escape", "escape", "escape")
        assert isinstance(app.screen, CircleListScreen)
        await assert_help(pilot, circle_resource=True)  # every circle's resources from the list
        await pilot.press("n")  # a prompt with an input
        await assert_help(pilot)
        await pilot.press("escape", "j")  # the join screen
        await assert_help(pilot)
        await pilot.press("escape", "f2")  # the network panel
        await assert_help(pilot)
        await pilot.press("f1")
        await pilot.press("f1")  # F1 again closes it too
        assert not isinstance(app.screen, HelpScreen)
    service.close()


async def test_help_opens_even_when_the_store_fails(world, monkeypatch):
    service = world.ana()
    app = make_app(service)
    async with app.run_test(size=(100, 32)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")

        def broken(*_):
            raise StoreDamaged("profile database is damaged")

        monkeypatch.setattr(service, "info", broken)
        await assert_help(pilot, circle_resource=False)
    service.close()


async def test_the_built_in_list_follows_the_profiles_region_and_can_change_it(world, monkeypatch):
    monkeypatch.delenv("CIRCLE_REGION")
    service = world.ana()
    service.set_region("US")
    app = make_app(service)
    async with app.run_test(size=(110, 36)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
        await pilot.press("f1")
        text = screen_text(app)
        assert "Built in for US (r changes it, or `circle region XX`)" in text
        assert "988 Suicide & Crisis Lifeline" in text and BUILT_IN not in text
        await pilot.press("r")
        assert isinstance(app.screen, PromptDialog)
        await type_into(pilot, "#answer", "gb")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen) and "Built in for GB" in screen_text(app),
                    what="the panel for GB")
        assert BUILT_IN in screen_text(app) and "988" not in screen_text(app)
    assert service.region() == "GB"
    service.close()


async def test_circle_region_wins_and_the_panel_says_so(world):
    service = world.ana()
    service.set_region("US")  # CIRCLE_REGION=GB in these tests
    app = make_app(service)
    async with app.run_test(size=(110, 36)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
        await pilot.press("f1")
        assert "Built in for GB (from CIRCLE_REGION)" in screen_text(app)
    service.close()


async def test_f1_lists_only_the_corrected_resource(world):
    service = world.ana()
    [old] = service.info(world.circle_id).resources
    service.edit_resource(world.circle_id, old.id, contact="Ana: 07700 900999")
    app = make_app(service)
    async with app.run_test(size=(110, 36)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        assert "Walkers phone tree: Ana: 07700 900999" in text
        assert "07700 900123" not in text and text.count("Walkers phone tree") == 1
        await pilot.press("escape")
    service.close()
