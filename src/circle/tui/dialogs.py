"""Small modal dialogs: a one-line prompt, a yes/no question, a keyed choice, a code to copy."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Footer, Input, Static

from circle.tui.base import Dialog
from circle.tui.plain import block, line


class PromptDialog(Dialog):
    """Ask for one line of text; returns it (stripped), or None if cancelled. An empty
    answer counts as cancelled unless `optional`, when it returns ""."""

    def __init__(self, title: str, label: str, value: str = "", *, optional: bool = False) -> None:
        super().__init__()
        self.title_text, self.label, self.value, self.optional = title, label, value, optional

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = line(self.title_text)
            yield Static(block(self.label))
            yield Input(value=self.value, id="answer")
            yield Static("Enter to confirm, Esc to cancel.", classes="dialog-hint", markup=False)
        yield Footer()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        answer = event.value.strip()
        self.dismiss(answer if answer or self.optional else None)


class ConfirmDialog(Dialog):
    """A yes/no question; returns True only for yes."""

    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n", "answer(False)", "No")]

    def __init__(self, title: str, question: str) -> None:
        super().__init__()
        self.title_text, self.question = title, question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = line(self.title_text)
            yield Static(block(self.question))
            with Horizontal(classes="dialog-buttons"):
                yield Button("Yes (y)", id="yes", variant="warning")
                yield Button("No (n)", id="no")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class ChoiceDialog(Dialog):
    """Pick one of a few options by its key (1, 2, 3...); returns its value."""

    def __init__(self, title: str, options: Sequence[tuple[str, object]], note: str = "") -> None:
        super().__init__()
        self.title_text, self.options, self.note = title, list(options), note

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = line(self.title_text)
            if self.note:
                yield Static(block(self.note))
            with Horizontal(classes="dialog-buttons"):
                for index, (label, _) in enumerate(self.options, 1):
                    yield Button(line(f"{index} {label}"), id=f"choice-{index}")
            yield Static(f"Press 1-{len(self.options)}, or Esc to cancel.", classes="dialog-hint", markup=False)
        yield Footer()

    def on_key(self, event) -> None:
        if event.character and event.character.isdigit():
            index = int(event.character)
            if 1 <= index <= len(self.options):
                event.stop()
                self.dismiss(self.options[index - 1][1])

    def on_button_pressed(self, event: Button.Pressed) -> None:
        assert event.button.id is not None  # every button here is made with an id
        self.dismiss(self.options[int(event.button.id.split("-")[1]) - 1][1])


class CodeDialog(Dialog):
    """Show a code to pass on (an invite), with a copy button."""

    BINDINGS = [Binding("c", "copy", "Copy"), Binding("enter", "cancel", "Close")]

    def __init__(self, title: str, note: str, code: str) -> None:
        super().__init__()
        self.title_text, self.note, self.code = title, note, code

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = line(self.title_text)
            yield Static(block(self.note))
            yield Input(self.code, id="code")
            yield Static("c copies it to the clipboard; Esc closes.", classes="dialog-hint", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#code", Input).can_focus = False

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.code)
        self.notify("Invite code copied.")
