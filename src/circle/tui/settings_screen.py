"""Settings (F3): this device's settings, and the open circle's settings for its organizers.

Each row says what it is and what it is set to; Enter changes it in a dialog. Every
change goes through the service (region, reminder, filters, the circle's settings:
the same checks as the CLI) or through tui/settings.py (theme, keys), so nothing here
writes a file or the store itself. Members who are not organizers see the circle's
settings read-only; the service refuses them anyway.

Rows come from one function per section (`device_rows`, `notification_rows`,
`circle_rows`): a new setting is one more `Row` in its section.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Header, Static

from circle.domain.models import CrisisResource
from circle.domain.roles import Role
from circle.errors import CircleError, InvalidInput
from circle.tui.base import Page
from circle.tui.dialogs import ChoiceDialog, ConfirmDialog
from circle.tui.filters_dialog import FiltersDialog
from circle.tui.help_panel import describe
from circle.tui.keymap import default_keys
from circle.tui.plain import row
from circle.tui.setting_dialogs import EditDialog, GuidelinesEditor, KeysDialog, ResourceDialog
from circle.tui.settings import load_settings, save_keys, save_setting
from circle.tui.themes import THEMES

ORGANIZERS_ONLY = "Only the circle's organizers change its settings."


@dataclass(frozen=True)
class Row:
    id: str
    label: str
    value: str
    change: Callable[[], None] | None = None  # None: nothing to change here
    note: str = ""  # said when Enter has nothing to change


class SettingsScreen(Page):
    BINDINGS = [
        Binding("escape", "close", "Back", id="settings.back"),
        Binding("d,delete", "remove", "Remove resource", show=False, id="settings.remove"),
    ]
    DEFAULT_CSS = """
    SettingsScreen > Vertical { padding: 1 2; }
    SettingsScreen #settings-table { height: 1fr; }
    SettingsScreen #settings-note { color: $text-muted; height: auto; margin-top: 1; }
    .setting-problem { color: $error; }
    .guidelines-editor #guidelines-text { height: 14; }
    .keys #keys-table { height: 16; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, Row] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical():
            table: DataTable[object] = DataTable(id="settings-table", cursor_type="row", zebra_stripes=False)
            table.add_columns("Setting", "Now")
            yield table
            yield Static("Enter changes the selected setting · d removes the selected crisis resource · Esc goes back",
                         id="settings-note", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = "settings"
        self.reload()
        self.query_one(DataTable).focus()

    # -- the rows ------------------------------------------------------------------------

    def reload(self) -> None:
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        self.rows = {}
        sections = [("This device", self.device_rows()), ("Notifications", self.notification_rows())]
        circle = self.app.current_circle
        if circle is not None:
            try:
                sections.append(self.circle_section(circle))
            except CircleError as exc:  # a circle this device can no longer read
                sections.append(("The circle", [Row("circle.unreadable", "Circle settings", str(exc))]))
        else:
            sections.append(("The circle", [Row("circle.none", "Circle settings", "open a circle to see them here")]))
        for title, rows in sections:
            table.add_row(*row(f"— {title} —", ""), key=f"section:{title}")
            for item in rows:
                self.rows[item.id] = item
                table.add_row(*row(f"  {item.label}", item.value), key=item.id)
        table.move_cursor(row=min(keep, table.row_count - 1))

    def device_rows(self) -> list[Row]:
        app, service = self.app, self.app.service
        theme_note = " (CIRCLE_THEME picks it on start)" if app.environ.get("CIRCLE_THEME") else ""
        region_note = " (CIRCLE_REGION wins)" if app.environ.get("CIRCLE_REGION") else ""
        changed = len(load_settings(app.home, {}).keymap)
        filters = service.cw_filters()
        return [
            Row("device.theme", "Theme", app.theme + theme_note, self.change_theme),
            Row("device.keys", "Keys", f"{changed} changed in keys.json" if changed else "the defaults",
                self.change_keys),
            Row("device.reminder", "Check-in reminder", service.checkin_reminder() or "off", self.change_reminder),
            Row("device.region", "Region (built-in crisis resources)",
                (service.region() or "every region") + region_note, self.change_region),
            Row("device.filters", "Content filters", ", ".join(filters) if filters else "none", self.change_filters),
        ]

    def notification_rows(self) -> list[Row]:
        return [Row("notify.placeholder", "Notifications", "see `circle notify`",
                    note="Notifications are set with `circle notify` for now.")]

    def circle_section(self, circle_id: str) -> tuple[str, list[Row]]:
        service = self.app.service
        info = service.info(circle_id)
        organizer = service.my_role(circle_id) == Role.ORGANIZER

        def editable(change: Callable[[], None]) -> Callable[[], None] | None:
            return change if organizer else None

        version = service.guidelines_status(circle_id).version
        rows = [
            Row("circle.name", "Name", info.name, editable(lambda: self.change_details(circle_id, "name")),
                ORGANIZERS_ONLY),
            Row("circle.purpose", "Purpose", info.purpose or "(none)",
                editable(lambda: self.change_details(circle_id, "purpose")), ORGANIZERS_ONLY),
            Row("circle.guidelines", "Guidelines", f"version {version}" if version else "(none yet)",
                editable(lambda: self.change_guidelines(circle_id)), ORGANIZERS_ONLY),
            Row("circle.quiet", "Quiet-post threshold (hours)",
                str(service.quiet_after(circle_id)), editable(lambda: self.change_quiet(circle_id)), ORGANIZERS_ONLY),
        ]
        for resource in info.resources:
            rows.append(Row(f"resource:{resource.id}", "Crisis resource", describe(resource).removeprefix("• "),
                            editable(self._resource_changer(circle_id, resource)), ORGANIZERS_ONLY))
        if organizer:
            rows.append(Row("circle.add_resource", "Add a crisis resource", "…",
                            lambda: self.change_resource(circle_id, None)))
        who = "you are an organizer" if organizer else "read-only: organizers change these"
        return f"{info.name} ({who})", rows

    def _resource_changer(self, circle_id: str, resource: CrisisResource) -> Callable[[], None]:
        return lambda: self.change_resource(circle_id, resource)

    def _selected(self) -> Row | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.rows.get(str(key))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        item = self.rows.get(str(event.row_key.value))
        if item is None:
            return
        if item.change is None:
            if item.note:
                self.notify(item.note, severity="warning" if item.note == ORGANIZERS_ONLY else "information")
            return
        item.change()

    # -- changing them -------------------------------------------------------------------

    def _then_reload(self, changed: bool | None) -> None:
        if changed:
            self.reload()
            if self.app.current_circle:
                self.app.data_changed.publish(self.app.current_circle)

    def change_theme(self) -> None:
        def chosen(name: str | None) -> None:
            if name is None:
                return
            try:
                save_setting(self.app.home, "theme", name)
            except CircleError as exc:
                self.notify(str(exc), severity="error")
                return
            self.app.theme = name
            self.reload()

        options = [(theme.name.removeprefix("circle-"), theme.name) for theme in THEMES]
        self.app.push_screen(ChoiceDialog("Theme", options, "Saved in settings.json, so it lasts."), chosen)

    def change_keys(self) -> None:
        app = self.app

        def save(binding_id: str, keys: str | None) -> None:
            save_keys(app.home, binding_id, keys)
            app.set_keymap(load_settings(app.home, {}).keymap)

        self.app.push_screen(KeysDialog(default_keys(), dict(load_settings(app.home, {}).keymap), save),
                             self._then_reload)

    def change_reminder(self) -> None:
        service = self.app.service
        self.app.push_screen(EditDialog(
            "Check-in reminder", "The time of day (HH:MM, 24-hour, this computer's clock) after which the app "
            "offers a check-in if you have not made one; empty: no reminder.",
            service.checkin_reminder() or "", lambda at: service.set_checkin_reminder(at or None)),
            self._then_reload)

    def change_region(self) -> None:
        service = self.app.service
        self.app.push_screen(EditDialog(
            "Region for built-in resources",
            "Two-letter country code, such as GB or US (empty: follow this computer's locale):",
            service.region() or "", lambda code: service.set_region(code or None)), self._then_reload)

    def change_filters(self) -> None:
        self.app.push_screen(FiltersDialog(), self._then_reload)

    def change_details(self, circle_id: str, field: str) -> None:
        service = self.app.service
        info = service.info(circle_id)
        if field == "name":
            dialog = EditDialog("The circle's name", "What members see it called:", info.name,
                                lambda name: service.set_circle_details(circle_id, name=name))
        else:
            dialog = EditDialog("The circle's purpose", "What the circle is for, in a line (empty: none):",
                                info.purpose, lambda purpose: service.set_circle_details(circle_id, purpose=purpose))
        self.app.push_screen(dialog, self._then_reload)

    def change_guidelines(self, circle_id: str) -> None:
        service = self.app.service
        self.app.push_screen(GuidelinesEditor(service.info(circle_id).guidelines,
                                              lambda text: service.set_guidelines(circle_id, text)),
                             self._then_reload)

    def change_quiet(self, circle_id: str) -> None:
        service = self.app.service

        def save(text: str) -> None:
            if not text.isdigit():
                raise InvalidInput("hours: a whole number, such as 12")
            service.set_quiet_after(circle_id, int(text))

        self.app.push_screen(EditDialog(
            "Waiting for a reply", "Hours without an answer before a post shows as waiting for one (1 to 336):",
            str(service.quiet_after(circle_id)), save), self._then_reload)

    def change_resource(self, circle_id: str, resource: CrisisResource | None) -> None:
        service = self.app.service
        if resource is None:
            dialog = ResourceDialog("Add a crisis resource", None,
                                    lambda new: service.add_resource(circle_id, new))
        else:
            dialog = ResourceDialog("Edit the crisis resource", resource, lambda new: service.edit_resource(
                circle_id, resource.id, name=new.name, contact=new.contact, region=new.region, hours=new.hours))
        self.app.push_screen(dialog, self._then_reload)

    def action_remove(self) -> None:
        item = self._selected()
        circle_id = self.app.current_circle
        if item is None or circle_id is None or not item.id.startswith("resource:"):
            self.notify("Select one of the circle's crisis resources to remove it.", severity="warning")
            return
        if item.change is None:
            self.notify(ORGANIZERS_ONLY, severity="warning")
            return
        resource_id = item.id.removeprefix("resource:")

        def remove(yes: bool | None) -> None:
            if not yes:
                return
            try:
                self.app.service.remove_resource(circle_id, resource_id)
            except CircleError as exc:
                self.notify(str(exc), severity="error")
                return
            self._then_reload(True)

        self.app.push_screen(ConfirmDialog("Remove crisis resource", f"Remove {item.value} for every member?"),
                             remove)

    def action_close(self) -> None:
        self.dismiss()

