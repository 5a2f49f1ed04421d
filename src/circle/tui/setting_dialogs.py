"""Dialogs that change one setting: each hands what was typed to a `save` callable
(the service, or the settings module) and stays open with its one-line refusal if
that raises a CircleError; a saved change closes it with True.

What they start from may have been written by another organizer, so it is shown
(and so edited) sanitized, like every other member's text."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Input, Label, Static, TextArea

from circle.domain.models import CrisisResource
from circle.domain.untrusted import shown
from circle.errors import CircleError
from circle.tui.base import Dialog
from circle.tui.plain import block, line, row, words


class SavingDialog(Dialog):
    """Runs `save` and closes on success; a refusal shows in #setting-problem."""

    def attempt(self, save: Callable[[], object]) -> None:
        try:
            save()
        except CircleError as exc:
            self.query_one("#setting-problem", Static).update(line(str(exc), limit=200))
            return
        self.dismiss(True)

    @staticmethod
    def problem_line() -> Static:
        return Static("", id="setting-problem", classes="setting-problem", markup=False)


class EditDialog(SavingDialog):
    """One line of text; an empty answer is saved as "" (the caller's `save` decides what it means)."""

    def __init__(self, title: str, label: str, value: str, save: Callable[[str], object]) -> None:
        super().__init__()
        self.title_text, self.label, self.value, self.save = title, label, value, save

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = line(self.title_text)
            yield Static(block(self.label))
            yield Input(value=shown(self.value), id="answer")
            yield self.problem_line()
            yield Static("Enter saves, Esc cancels.", classes="dialog-hint", markup=False)
        yield Footer()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.attempt(lambda: self.save(event.value.strip()))


class GuidelinesEditor(SavingDialog):
    """The circle's guidelines in a text area; ctrl+s saves them (a new version for every member)."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True, id="guidelines_editor.save"),
        Binding("escape", "cancel", "Cancel", id="guidelines_editor.cancel"),
    ]

    def __init__(self, text: str, save: Callable[[str], object]) -> None:
        super().__init__()
        self.text, self.save = text, save

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog guidelines-editor") as box:
            box.border_title = "The circle's guidelines"
            yield Static("Saving makes a new version: every member is asked to read and accept it before "
                         "they post again.", markup=False)
            yield TextArea(shown(self.text, multiline=True), id="guidelines-text", soft_wrap=True)
            yield self.problem_line()
            yield Static("ctrl+s saves · Esc cancels", classes="dialog-hint", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(TextArea).focus()

    def action_save(self) -> None:
        self.attempt(lambda: self.save(self.query_one(TextArea).text))


class ResourceDialog(SavingDialog):
    """A crisis resource's four fields; Enter in any field or ctrl+s saves."""

    BINDINGS = [Binding("ctrl+s", "save", "Save", priority=True, id="resource.save")]
    FIELDS = (("name", "Name"), ("contact", "Contact"), ("region", "Region"), ("hours", "Hours"))

    def __init__(self, title: str, resource: CrisisResource | None, save: Callable[[CrisisResource], object]) -> None:
        super().__init__()
        self.title_text, self.resource, self.save = title, resource, save

    def compose(self) -> ComposeResult:
        current = self.resource or CrisisResource("", "", "", "")
        hints = {"contact": "a number, a website or how to reach them", "region": "e.g. GB (optional)",
                 "hours": "e.g. 24/7 (optional)"}
        with Vertical(classes="dialog event-form") as box:
            box.border_title = line(self.title_text)
            for field, label in self.FIELDS:
                with Horizontal(classes="event-field"):
                    yield Label(label)
                    yield Input(shown(getattr(current, field)), placeholder=hints.get(field, ""),
                                id=f"resource-{field}")
            yield self.problem_line()
            yield Static("Enter or ctrl+s saves · Esc cancels · Tab moves between fields", classes="dialog-hint",
                         markup=False)
        yield Footer()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        values = [self.query_one(f"#resource-{field}", Input).value.strip() for field, _ in self.FIELDS]
        self.attempt(lambda: self.save(CrisisResource(*values)))


class KeysDialog(Dialog):
    """Every action id with its default keys and this profile's own; Enter rebinds the selected one."""

    BINDINGS = [Binding("escape", "close", "Close", id="keys.close")]

    def __init__(self, defaults: dict[str, str], mine: dict[str, str],
                 save: Callable[[str, str | None], object]) -> None:
        super().__init__()
        self.defaults, self.mine, self.save = defaults, dict(mine), save
        self.changed = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog keys") as box:
            box.border_title = "Keys"
            table: DataTable[object] = DataTable(id="keys-table", cursor_type="row")
            table.add_columns("Action", "Default", "Yours")
            yield table
            yield Static("Enter changes the selected action's keys (saved in keys.json) · Esc closes",
                         classes="dialog-hint", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self._show()
        self.query_one(DataTable).focus()

    def _show(self) -> None:
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        for binding_id, keys in self.defaults.items():
            table.add_row(*row(binding_id, keys, self.mine.get(binding_id, "")), key=binding_id)
        table.move_cursor(row=keep)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        binding_id = str(event.row_key.value)

        def save(keys: str) -> None:
            self.save(binding_id, keys or None)
            if keys:
                self.mine[binding_id] = keys.replace(" ", "")
            else:
                self.mine.pop(binding_id, None)

        def saved(yes: bool | None) -> None:
            if yes:
                self.changed = True
                self._show()

        self.app.push_screen(EditDialog(
            f"Keys for {binding_id}",
            f"Default: {words(self.defaults[binding_id])}. Type keys such as f3 or ctrl+h (a comma between "
            "several); empty goes back to the default.",
            self.mine.get(binding_id, ""), save), saved)

    def action_close(self) -> None:
        self.dismiss(self.changed)
