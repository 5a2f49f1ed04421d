"""First run: make a profile (display name, passphrase twice, a strength hint)."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, Footer, Header, Input, Static

from circle.errors import CircleError
from circle.service import Service
from circle.tui.base import Page
from circle.tui.passphrase_hint import strength_hint


class FirstRunScreen(Page):

    def __init__(self, home: Path) -> None:
        super().__init__()
        self.home = home

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(classes="gate-box") as box:
            box.border_title = "Welcome to circle"
            yield Static(
                "A private space for your circle. Everything stays encrypted on this computer and is "
                "shared only with members. First, a name the others will see, and a passphrase.",
                markup=False,
            )
            yield Input(placeholder="your name (as the circle will see it)", id="name")
            yield Input(placeholder="passphrase (a few unrelated words work well)", password=True, id="passphrase")
            yield Static(strength_hint(""), id="strength", markup=False)
            yield Input(placeholder="the same passphrase again", password=True, id="confirm")
            yield Static("", id="match", markup=False)
            yield Static(
                "If you lose the passphrase, nobody can recover your circles. Write it down somewhere safe.",
                id="warning", markup=False,
            )
            yield Static("", id="status", markup=False)
            yield Button("Create my profile", id="create", variant="primary")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "first run"
        self.query_one("#name", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        first = self.query_one("#passphrase", Input).value
        second = self.query_one("#confirm", Input).value
        self.query_one("#strength", Static).update(strength_hint(first))
        match = "" if not second else ("Passphrases match." if first == second else "The two passphrases differ.")
        self.query_one("#match", Static).update(match)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        order = ["name", "passphrase", "confirm"]
        index = order.index(event.input.id or "")
        if index < len(order) - 1:
            self.query_one(f"#{order[index + 1]}", Input).focus()
        else:
            self._create()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self._create()

    def _create(self) -> None:
        name = self.query_one("#name", Input).value.strip()
        first = self.query_one("#passphrase", Input).value
        if not name:
            return self._status("Choose a name first.")
        if first != self.query_one("#confirm", Input).value:
            return self._status("The two passphrases differ.")
        self._status("Creating your profile…")
        self.set_timer(0.05, lambda: self._make(name, first))

    def _make(self, name: str, passphrase: str) -> None:
        try:
            service = Service.create_profile(self.home, name, passphrase)
        except CircleError as exc:
            self._status(str(exc))
            return
        self.app.start_session(service)

    def _status(self, text: str) -> None:
        self.query_one("#status", Static).update(text)
