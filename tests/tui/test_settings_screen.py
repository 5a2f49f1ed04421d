"""The settings screen (F3): each device setting changes through the service or the settings
module and is still there when the app starts again on the same profile; organizers change the
circle's settings there, members see them read-only; a refusal is one line in the dialog."""

from __future__ import annotations

import json
from datetime import timezone

import pytest
from textual.widgets import DataTable, TextArea

from circle.errors import InvalidInput

from circle.tui.app import CircleApp
from circle.tui.circle_screen import CircleScreen
from circle.tui.compose_dialog import ComposeDialog
from circle.tui.dialogs import ChoiceDialog, ConfirmDialog
from circle.tui.filters_dialog import FiltersDialog
from circle.tui.setting_dialogs import EditDialog, GuidelinesEditor, KeysDialog, ResourceDialog
from circle.tui.settings import load_settings, save_keys, save_setting
from circle.tui.settings_screen import ORGANIZERS_ONLY, SettingsScreen

from .world import screen_text, type_into, until

ENV = {"CIRCLE_LISTEN": "", "CIRCLE_DISCOVERY": "0"}


def start(service, home, display_tz=timezone.utc) -> CircleApp:
    """The app as `circle` starts it: settings read from the profile's files."""
    return CircleApp(service, settings=load_settings(home, ENV), environ=ENV, freeze_blink=True,
                     display_tz=display_tz)


async def settings_screen(app, pilot) -> None:
    await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
    await pilot.press("f3")
    await until(pilot, lambda: isinstance(app.screen, SettingsScreen), what="the settings screen")


async def choose(app, pilot, row_id: str, dialog: type) -> None:
    """Select a setting's row and press Enter; wait for its dialog."""
    table = app.screen.query_one("#settings-table", DataTable)
    table.move_cursor(row=table.get_row_index(row_id))
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, dialog), what=f"the dialog of {row_id}")


async def answer(app, pilot, text: str) -> None:
    await type_into(pilot, "#answer", text)
    await pilot.press("enter")


def problem(app) -> str:
    return str(app.screen.query_one("#setting-problem").render())


async def test_device_settings_change_through_the_screen_and_survive_a_restart(world, monkeypatch):
    monkeypatch.delenv("CIRCLE_REGION")  # it would win over the saved region
    service = world.ana()
    app = start(service, world.home)
    async with app.run_test(size=(110, 36)) as pilot:
        await settings_screen(app, pilot)
        await choose(app, pilot, "device.theme", ChoiceDialog)
        await pilot.press("3")
        await until(pilot, lambda: app.theme == "circle-high-contrast", what="the theme")

        await choose(app, pilot, "device.reminder", EditDialog)
        await answer(app, pilot, "25:00")
        await until(pilot, lambda: "HH:MM" in problem(app), what="the refusal, in the dialog")
        assert isinstance(app.screen, EditDialog) and service.checkin_reminder() is None
        await answer(app, pilot, "7:05")
        await until(pilot, lambda: isinstance(app.screen, SettingsScreen), what="back on the settings")

        await choose(app, pilot, "device.region", EditDialog)
        await answer(app, pilot, "France")
        await until(pilot, lambda: "two-letter" in problem(app), what="the refusal")
        await answer(app, pilot, "fr")
        await until(pilot, lambda: isinstance(app.screen, SettingsScreen), what="back on the settings")

        await choose(app, pilot, "device.filters", FiltersDialog)
        await type_into(pilot, "#topic", "Grief")
        await pilot.press("enter", "escape")
        await until(pilot, lambda: isinstance(app.screen, SettingsScreen), what="back on the settings")

        await choose(app, pilot, "device.keys", KeysDialog)
        keys = app.screen.query_one("#keys-table", DataTable)
        keys.move_cursor(row=keys.get_row_index("feed.compose"))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, EditDialog), what="the keys prompt")
        await answer(app, pilot, "ctrl+h+")
        await until(pilot, lambda: "keys look like" in problem(app), what="the refusal")
        await answer(app, pilot, "p")
        await until(pilot, lambda: isinstance(app.screen, KeysDialog), what="back on the keys")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SettingsScreen), what="back on the settings")
        text = screen_text(app)
        for shown in ("circle-high-contrast", "07:05", "FR", "grief", "1 changed in keys.json"):
            assert shown in text, shown
    service.close()

    assert json.loads((world.home / "settings.json").read_text()) == {"theme": "circle-high-contrast"}
    service = world.ana()
    app = start(service, world.home)
    async with app.run_test(size=(110, 36)) as pilot:
        await settings_screen(app, pilot)
        assert app.theme == "circle-high-contrast"
        assert (service.checkin_reminder(), service.region(), service.cw_filters()) == ("07:05", "FR", ("grief",))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
        await pilot.press("p")  # the key saved for feed.compose
        await until(pilot, lambda: isinstance(app.screen, ComposeDialog), what="the compose dialog")
    service.close()


async def test_an_organizer_changes_the_circles_settings_and_they_last(world):
    service = world.ana()
    app = start(service, world.home)
    cid = world.circle_id
    async with app.run_test(size=(110, 36)) as pilot:
        await settings_screen(app, pilot)
        await choose(app, pilot, "circle.name", EditDialog)
        await answer(app, pilot, "   ")
        await until(pilot, lambda: "circle name" in problem(app), what="the refusal")
        await answer(app, pilot, "Thursday Walkers")
        await until(pilot, lambda: service.info(cid).name == "Thursday Walkers", what="the name")

        await choose(app, pilot, "circle.purpose", EditDialog)
        await answer(app, pilot, "Walk, talk, tea after.")
        await until(pilot, lambda: service.info(cid).purpose == "Walk, talk, tea after.", what="the purpose")

        await choose(app, pilot, "circle.quiet", EditDialog)
        await answer(app, pilot, "a day")
        await until(pilot, lambda: "whole number" in problem(app), what="the refusal")
        await answer(app, pilot, "400")
        await until(pilot, lambda: "1 to 336" in problem(app), what="the service's refusal")
        await answer(app, pilot, "6")
        await until(pilot, lambda: service.quiet_after(cid) == 6, what="the threshold")

        await choose(app, pilot, "circle.guidelines", GuidelinesEditor)
        app.screen.query_one(TextArea).text = "1. Be kind.\n2. Tea is optional."
        await pilot.press("ctrl+s")
        await until(pilot, lambda: service.info(cid).guidelines == "1. Be kind.\n2. Tea is optional.",
                    what="the guidelines")
        assert service.guidelines_status(cid).version == 2

        await choose(app, pilot, "circle.add_resource", ResourceDialog)
        await type_into(pilot, "#resource-name", "Samaritans")
        await pilot.press("enter")
        await until(pilot, lambda: "contact" in problem(app), what="the refusal: no contact")
        await type_into(pilot, "#resource-contact", "116 123")
        await type_into(pilot, "#resource-hours", "24/7")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: len(service.info(cid).resources) == 2, what="the new resource")
        added = next(r for r in service.info(cid).resources if r.name == "Samaritans")

        await choose(app, pilot, f"resource:{added.id}", ResourceDialog)
        await type_into(pilot, "#resource-region", "GB")
        await pilot.press("enter")
        await until(pilot, lambda: service.resolve_resource(cid, added.id).region == "GB", what="the edit")

        first = next(r for r in service.info(cid).resources if r.name == "Walkers phone tree")
        table = app.screen.query_one("#settings-table", DataTable)
        table.move_cursor(row=table.get_row_index(f"resource:{first.id}"))
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the question")
        await pilot.press("y")
        await until(pilot, lambda: [r.name for r in service.info(cid).resources] == ["Samaritans"], what="removed")
        await until(pilot, lambda: "Samaritans: 116 123" in screen_text(app), what="the list")
    service.close()

    service = world.ana()
    info = service.info(cid)
    assert (info.name, info.purpose, service.quiet_after(cid)) == ("Thursday Walkers", "Walk, talk, tea after.", 6)
    assert [(r.name, r.contact, r.region, r.hours) for r in info.resources] == [("Samaritans", "116 123", "GB", "24/7")]
    service.close()


async def test_a_member_sees_the_circles_settings_read_only(world):
    service = world.ben()
    app = start(service, world.ben_home)
    async with app.run_test(size=(110, 36), notifications=True) as pilot:
        await settings_screen(app, pilot)
        assert "read-only: organizers change these" in screen_text(app)
        for row_id in ("circle.name", "circle.guidelines", "circle.quiet"):
            table = app.screen.query_one("#settings-table", DataTable)
            table.move_cursor(row=table.get_row_index(row_id))
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, SettingsScreen), row_id  # no dialog to change it
        resource = service.info(world.circle_id).resources[0]
        table.move_cursor(row=table.get_row_index(f"resource:{resource.id}"))
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)
        assert "circle.add_resource" not in app.screen.rows
        await until(pilot, lambda: ORGANIZERS_ONLY in screen_text(app), what="the reason")
    assert service.info(world.circle_id).name == "Tuesday Walkers"
    service.close()


def test_saving_keeps_the_rest_of_the_file_and_never_overwrites_a_broken_one(tmp_path):
    (tmp_path / "settings.json").write_text(json.dumps({"peers": ["192.0.2.1:7654"], "colour": "blue"}))
    save_setting(tmp_path, "theme", "circle-calm-light")
    assert json.loads((tmp_path / "settings.json").read_text()) == {
        "peers": ["192.0.2.1:7654"], "colour": "blue", "theme": "circle-calm-light"}
    with pytest.raises(InvalidInput):
        save_setting(tmp_path, "theme", 7)
    save_keys(tmp_path, "feed.compose", "P, ctrl+n")  # P is shift+p: case is kept
    save_keys(tmp_path, "app.help", "f1,ctrl+h")
    save_keys(tmp_path, "app.help", None)
    assert json.loads((tmp_path / "keys.json").read_text()) == {"feed.compose": "P,ctrl+n"}
    (tmp_path / "settings.json").write_text('{"theme": "circle-calm",')  # someone mid-edit
    with pytest.raises(InvalidInput, match="settings.json ignored"):
        save_setting(tmp_path, "theme", "circle-high-contrast")
    assert (tmp_path / "settings.json").read_text() == '{"theme": "circle-calm",'
