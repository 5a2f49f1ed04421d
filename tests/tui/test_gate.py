"""First run and unlock: the app opens an existing profile or makes a new one."""

from __future__ import annotations

from circle import cli
from circle.cli import entry
from circle.service import Service
from circle.tui.circle_list import CircleListScreen
from circle.tui.circle_screen import CircleScreen
from circle.tui.first_run import FirstRunScreen
from circle.tui.unlock import UnlockScreen

from .world import PASSPHRASE, make_app, screen_text, type_into, until


async def test_first_run_makes_a_profile_and_shows_the_empty_circle_list(tmp_path):
    home = tmp_path / "new"
    app = make_app(home=home)
    async with app.run_test(size=(100, 32)) as pilot:
        assert isinstance(app.screen, FirstRunScreen)
        await pilot.press(*"Cleo", "enter")  # typed for real once
        await type_into(pilot, "#passphrase", "tea kettle mountain river")
        await pilot.press("enter")
        assert "Strength: fair" in screen_text(app)
        await type_into(pilot, "#confirm", "tea kettle mountain river")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, CircleListScreen), what="the circle list")
        assert "No circles yet" in screen_text(app)
        assert app.service.whoami().name == "Cleo"
    app.service.close()
    Service.unlock(home, "tea kettle mountain river").close()  # the passphrase really is the one typed


async def test_first_run_refuses_differing_passphrases_and_hints_strength(tmp_path):
    home = tmp_path / "new"
    app = make_app(home=home)
    async with app.run_test(size=(100, 32)) as pilot:
        await type_into(pilot, "#name", "Cleo")
        await type_into(pilot, "#passphrase", "short")
        assert "Strength: too short" in screen_text(app)
        await type_into(pilot, "#passphrase", "short and longer words")
        await type_into(pilot, "#confirm", "something else")
        await pilot.press("enter")
        text = screen_text(app)
        assert "The two passphrases differ." in text
        assert isinstance(app.screen, FirstRunScreen)
    assert not (home / "circle.db").exists()


async def test_unlock_rejects_a_wrong_passphrase_then_opens_the_last_circle(world):
    service = world.ana()
    service.remember_circle(world.circle_id)
    service.create_circle("Second")  # two circles: the remembered one opens
    service.close()
    app = make_app(home=world.home)
    async with app.run_test(size=(100, 32)) as pilot:
        assert isinstance(app.screen, UnlockScreen)
        await type_into(pilot, "#passphrase", "not my passphrase")
        await pilot.press("enter")
        await until(pilot, lambda: "wrong passphrase" in screen_text(app), what="the error")
        assert isinstance(app.screen, UnlockScreen)
        await type_into(pilot, "#passphrase", PASSPHRASE)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
        assert app.screen.circle_id == world.circle_id
        assert [type(s) for s in app.screen_stack[1:]] == [CircleListScreen, CircleScreen]
    app.service.close()


async def test_circle_passphrase_skips_the_prompt(world):
    app = make_app(home=world.home, environ={"CIRCLE_PASSPHRASE": PASSPHRASE})
    async with app.run_test(size=(100, 32)) as pilot:
        # the only circle opens straight away
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
    app.service.close()


def test_circle_with_no_command_leaves_unlocking_to_the_app(monkeypatch, tmp_path):
    """`circle` alone must not prompt on the terminal: the app shows first run or unlock."""
    calls = []
    monkeypatch.setattr("circle.tui.app.run_app", lambda **kw: calls.append(kw) or 0)
    monkeypatch.setattr(entry, "read_passphrase", lambda **kw: (_ for _ in ()).throw(AssertionError("prompted")))
    assert cli.main(["--home", str(tmp_path / "h")]) == 0
    assert calls == [{"home": tmp_path / "h"}]
