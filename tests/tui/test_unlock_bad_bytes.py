"""`circle` alone with a CIRCLE_PASSPHRASE that is not UTF-8 (Python hands it over with a
lone surrogate): the unlock screen says so and still takes the right passphrase."""

from __future__ import annotations

from circle.tui.circle_screen import CircleScreen
from circle.tui.unlock import UnlockScreen

from .world import PASSPHRASE, make_app, screen_text, type_into, until


async def test_a_passphrase_variable_that_is_not_utf8_is_one_clear_line(world):
    app = make_app(home=world.home, environ={"CIRCLE_PASSPHRASE": PASSPHRASE + "\udcff"})
    async with app.run_test(size=(100, 32)) as pilot:
        await until(pilot, lambda: "passphrase is not valid UTF-8" in screen_text(app), what="the error")
        assert isinstance(app.screen, UnlockScreen)
        await type_into(pilot, "#passphrase", PASSPHRASE)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
    app.service.close()
