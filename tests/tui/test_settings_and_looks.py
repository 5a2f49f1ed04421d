"""keys.json rebinding, settings.json, themes (high contrast), NO_COLOR, ctrl+q, the palette."""

from __future__ import annotations

import json
import re

from circle.tui.app import CircleApp
from circle.tui.circle_screen import CircleScreen
from circle.tui.compose_dialog import ComposeDialog
from circle.tui.help_panel import HelpScreen
from circle.tui.settings import load_settings

from .world import make_app, screen_text, until


async def test_keys_json_rebinds_actions_by_id(world):
    (world.home / "keys.json").write_text(json.dumps({"feed.compose": "p", "app.help": "f1,ctrl+h",
                                                      "feed.compse": "x"}))
    service = world.ana()
    app = CircleApp(service, settings=load_settings(world.home, {"CIRCLE_LISTEN": ""}), freeze_blink=True)
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
        await pilot.pause()
        await pilot.press("n")
        assert isinstance(app.screen, CircleScreen)  # n no longer composes
        await pilot.press("p")
        assert isinstance(app.screen, ComposeDialog)
        await pilot.press("escape", "ctrl+h")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert " p New post " in screen_text(app)
        assert "keys.json: no such action 'feed.compse'" in screen_text(app)
    service.close()


def test_broken_settings_files_are_reported_not_fatal(tmp_path):
    (tmp_path / "keys.json").write_text("{not json")
    (tmp_path / "settings.json").write_text(json.dumps({"listen": 7, "colour": "blue", "external_editor": True}))
    settings = load_settings(tmp_path, {"CIRCLE_LISTEN": "", "CIRCLE_THEME": "circle-high-contrast"})
    assert settings.listen is None  # the environment wins: empty means do not listen
    assert settings.theme == "circle-high-contrast"
    assert settings.external_editor is True
    assert settings.keymap == {}
    assert any("keys.json ignored" in p for p in settings.problems)
    assert "settings.json: unknown setting 'colour'" in settings.problems
    assert "settings.json: 'listen' has the wrong type" in settings.problems


async def test_problems_are_shown_and_the_high_contrast_theme_applies(world):
    (world.home / "keys.json").write_text("[1, 2]")
    service = world.ana()
    settings = load_settings(world.home, {"CIRCLE_THEME": "circle-high-contrast", "CIRCLE_LISTEN": ""})
    app = CircleApp(service, settings=settings, freeze_blink=True)
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
        await pilot.pause()
        assert app.theme == "circle-high-contrast"
        await until(pilot, lambda: "keys.json ignored: it must hold a JSON object" in screen_text(app),
                    what="the problem, in a notification")
        svg = app.export_screenshot()
        assert "#000000" in svg and "#ffffff" in svg.lower()
    service.close()


def _chromatic(svg: str) -> set[str]:
    """Colours in a screenshot whose red, green and blue differ noticeably."""
    out = set()
    for hex_colour in re.findall(r"#([0-9a-fA-F]{6})\b", svg):
        r, g, b = (int(hex_colour[i:i + 2], 16) for i in (0, 2, 4))
        if max(r, g, b) - min(r, g, b) > 24:
            out.add(hex_colour)
    return out


async def test_no_color_gives_a_monochrome_screen(world, monkeypatch):
    service = world.ana()
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(service)
    async with app.run_test(size=(100, 32)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
        await pilot.pause()
        svg = re.sub(r"<circle [^>]*/>", "", app.export_screenshot())  # the window's traffic lights
        assert not _chromatic(svg.split("</style>")[-1])
        # ...and the feed still says in words and symbols what colour would have
        text = screen_text(app)
        assert "● new" in text and "CW: hospital" in text and "(you)" in text
    monkeypatch.delenv("NO_COLOR")
    colour_app = make_app(service)
    async with colour_app.run_test(size=(100, 32)) as pilot:
        await until(pilot, lambda: isinstance(colour_app.screen, CircleScreen), what="the circle")
        await pilot.pause()
        svg = re.sub(r"<circle [^>]*/>", "", colour_app.export_screenshot())
        assert _chromatic(svg.split("</style>")[-1])  # the check above can see colour
    service.close()


async def test_ctrl_q_quits_from_a_dialog_with_a_text_area(world):
    service = world.ana()
    app = make_app(service)
    async with app.run_test(size=(100, 32)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
        await pilot.press("n")
        assert isinstance(app.screen, ComposeDialog)
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0 and not app.is_running
    service.close()


async def test_command_palette_offers_help(world):
    service = world.ana()
    app = make_app(service)
    async with app.run_test(size=(100, 32)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
        await pilot.press("ctrl+p")
        await pilot.press(*"need help")
        await until(pilot, lambda: "Need help now?" in screen_text(app), what="the command")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help panel")
    service.close()
