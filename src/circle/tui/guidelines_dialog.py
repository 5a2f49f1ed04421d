"""Read and accept a circle's guidelines, when they changed or were never accepted.

Posting waits until the member accepts the version in force (the service
refuses it); reading, check-ins and reach-outs never wait. So this is a
dialog over the circle, not a gate in front of it: "Later" keeps it open.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Footer, Static

from circle.errors import CircleError
from circle.tui.base import Dialog
from circle.tui.plain import block


def pending_text(service, circle_id: str) -> str:
    """Why this member is asked to accept: changed guidelines, or never accepted."""
    status = service.guidelines_status(circle_id)
    name = service.info(circle_id).name
    if status.accepted_before:
        return (f"The guidelines of {name} changed (now version {status.version}). "
                "Please read them again: posting waits until you accept.")
    return f"Before you post in {name}, please read its guidelines and accept them."


def accept(widget, circle_id: str) -> bool:
    """Accept the guidelines in force, telling the member; False (and why) if refused."""
    try:
        version = widget.app.service.accept_guidelines(circle_id)
    except CircleError as exc:
        widget.notify(str(exc), severity="error")
        return False
    widget.notify(f"Thank you: you accepted version {version} of the guidelines.")
    return True


class GuidelinesDialog(Dialog):
    """The guidelines in force with an Accept button; dismisses True once accepted."""

    BINDINGS = [
        Binding("ctrl+a", "accept", "Accept", id="guidelines.accept"),
        Binding("escape", "cancel", "Later"),
    ]

    def __init__(self, circle_id: str, note: str = "") -> None:
        """`note` says what waits for the acceptance (e.g. the post being written)."""
        super().__init__()
        self.circle_id, self.note = circle_id, note

    def compose(self) -> ComposeResult:
        service = self.app.service
        with Vertical(classes="dialog guidelines-dialog") as box:
            box.border_title = "Guidelines"
            yield Static(block(" ".join(x for x in (pending_text(service, self.circle_id), self.note) if x)),
                         id="guidelines-why")
            with VerticalScroll(id="guidelines-read"):
                yield Static(block(service.info(self.circle_id).guidelines or "(no guidelines)"))
            with Horizontal(classes="dialog-buttons"):
                yield Button("I accept (ctrl+a)", id="accept", variant="primary")
                yield Button("Later (Esc)", id="later")
            yield Static("Check-ins and reach-outs work meanwhile; tab 5 has the guidelines too.",
                         classes="dialog-hint", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#accept", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "accept":
            self.action_accept()
        else:
            self.dismiss(False)

    def action_accept(self) -> None:
        if accept(self, self.circle_id):
            self.dismiss(True)
