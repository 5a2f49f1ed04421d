"""Making an invite in the app: how many people it admits, how long it lasts, and
the address the newcomer's computer should reach — the same choices as `circle invite`.

The address offered is where this device listens, unless that is only reachable
from this computer (loopback) or names no interface (0.0.0.0): an invite sent
to another person's computer must not point them at their own machine.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import timedelta

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input, Label, Static

from circle.errors import InvalidInput
from circle.sync.address import peer_address
from circle.tui.base import Dialog
from circle.tui.plain import line

MAX_USES = 1000
MAX_DAYS = 90


@dataclass(frozen=True)
class InviteChoice:
    uses: int
    expires_in: timedelta
    hints: tuple[str, ...]


def reachable_default(listening: str | None) -> str:
    """`listening` if another computer could dial it, else ""."""
    if not listening:
        return ""
    host = listening.rpartition(":")[0].strip("[]")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return listening  # a host name: the person who set it knows where it points
    return "" if ip.is_loopback or ip.is_unspecified else listening


class InviteDialog(Dialog):
    """Returns an InviteChoice, or None if cancelled."""

    BINDINGS = [
        Binding("ctrl+s", "make", "Make code", priority=True, id="invite.make"),
        Binding("escape", "cancel", "Cancel", id="invite.cancel"),
    ]

    def __init__(self, listening: str | None) -> None:
        super().__init__()
        self.listening = listening

    def compose(self) -> ComposeResult:
        fields = [
            ("People", Input("1", id="uses", type="integer")),
            ("Days valid", Input("7", id="days", type="integer")),
            ("Reach me at", Input(reachable_default(self.listening), placeholder="HOST:PORT (optional)",
                                  id="address")),
        ]
        with Vertical(classes="dialog event-form") as box:
            box.border_title = line("Invite someone")
            for label, widget in fields:
                with Horizontal(classes="event-field"):
                    yield Label(label)
                    yield widget
            yield Static("Reach me at: the address their computer can reach yours at (your LAN or public "
                         "address and port). Without one, they join with `circle join CODE --peer HOST:PORT`.",
                         classes="dialog-hint", markup=False)
            yield Static("", id="invite-problem", markup=False)
            yield Static("ctrl+s or Enter makes the code · Esc cancels · Tab moves between fields",
                         classes="dialog-hint", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#uses", Input).focus()

    def _value(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value.strip()

    def _problem(self, text: str) -> None:
        self.query_one("#invite-problem", Static).update(text)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_make()

    def action_make(self) -> None:
        uses = int(self._value("uses")) if self._value("uses").isdigit() else 0
        if not 1 <= uses <= MAX_USES:
            return self._problem(f"People: 1 to {MAX_USES}.")
        days = int(self._value("days")) if self._value("days").isdigit() else 0
        if not 1 <= days <= MAX_DAYS:
            return self._problem(f"Days valid: 1 to {MAX_DAYS}.")
        address = self._value("address")
        if address:
            try:
                address = peer_address(address)
            except InvalidInput as exc:
                return self._problem(str(exc))
        self.dismiss(InviteChoice(uses, timedelta(days=days), (address,) if address else ()))
