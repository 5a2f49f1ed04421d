"""Unlock an existing profile with its passphrase (CIRCLE_PASSPHRASE skips the prompt)."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, Footer, Header, Input, Static

from circle.errors import CircleError
from circle.service import Service
from circle.tui.base import Page


class UnlockScreen(Page):

    def __init__(self, home: Path, passphrase: str | None = None) -> None:
        super().__init__()
        self.home = home
        self.preset = passphrase

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(classes="gate-box") as box:
            box.border_title = "Unlock circle"
            yield Static("Your circles are encrypted on this computer. Enter your passphrase to open them.",
                         markup=False)
            yield Input(placeholder="passphrase", password=True, id="passphrase")
            yield Static("", id="status", markup=False)
            yield Button("Unlock", id="unlock", variant="primary")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "unlock"
        if self.preset is not None:
            self._try(self.preset, "Unlocking with CIRCLE_PASSPHRASE…")
        else:
            self.query_one("#passphrase", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._try(event.value, "Unlocking…")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self._try(self.query_one("#passphrase", Input).value, "Unlocking…")

    def _try(self, passphrase: str, note: str) -> None:
        if not passphrase:
            self._status("Enter your passphrase.")
            return
        self._status(note)
        # Argon2id takes a moment; let the note paint first. (It runs on the app's
        # thread because the profile's database connection is bound to it.)
        self.set_timer(0.05, lambda: self._unlock(passphrase))

    def _unlock(self, passphrase: str) -> None:
        try:
            service = Service.unlock(self.home, passphrase)
        except CircleError as exc:
            self._status(str(exc))
            field = self.query_one("#passphrase", Input)
            field.value = ""
            field.focus()
            return
        self.app.start_session(service)

    def _status(self, text: str) -> None:
        self.query_one("#status", Static).update(text)
