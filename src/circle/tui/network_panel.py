"""The network panel: where this device listens, each peer's session and its last
contact, discovery, and recent problems. Updates live; times tick every second."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Header, Static

from circle.errors import CircleError
from circle.tui.base import Page
from circle.tui.when import seconds_ago
from circle.domain.untrusted import shown
from circle.tui.plain import block, row


def _progress(event) -> str:
    if not event.items_expected:
        return "-"
    return f"{event.items_done}/{event.items_expected} items, {event.bytes_done}/{event.bytes_expected} B"


class NetworkScreen(Page):
    BINDINGS = [Binding("escape", "close", "Back", id="network.back")]

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static("", id="listening", markup=False)
            yield Static("Peers", classes="section-title", markup=False)
            table: DataTable[object] = DataTable(id="peer-table", cursor_type="row")
            table.add_columns("Peer", "State", "Circle", "Progress", "Last contact", "Detail")
            yield table
            yield Static("Relays", classes="section-title", markup=False)
            relays: DataTable[object] = DataTable(id="relay-table", cursor_type="row")
            relays.add_columns("Relay", "Circle", "State")
            yield relays
            yield Static("Recent problems", classes="section-title", markup=False)
            yield Static("", id="problems", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "network"
        self.on_network_changed()
        self.set_interval(1.0, self.on_network_changed)
        self.query_one("#peer-table", DataTable).focus()

    def on_network_changed(self) -> None:
        net = self.app.network
        now = time.time()
        where = f"Listening on {net.listening}" if net.listening else "Not listening (no incoming syncs)"
        self.query_one("#listening", Static).update(
            f"{where}\nLAN discovery: {net.discovery}\n"
            "Members reach you at this address; all traffic is end-to-end encrypted (Noise XX)."
        )
        relays = self.query_one("#relay-table", DataTable)
        relays.clear()
        for circle_id, address in sorted(net.relays):
            relays.add_row(*row(address, self._circle_name(circle_id), net.relay_state(circle_id, address, now)))
        if not net.relays:
            relays.add_row("(no relays: an organizer adds one with `circle relays CIRCLE --add`)", "", "")
        table = self.query_one("#peer-table", DataTable)
        table.clear()
        for peer, event in sorted(net.sessions.items()):
            circles = ", ".join(sorted(self._circle_name(c) for c in net.circles_of.get(peer, ()))) or "-"
            table.add_row(*row(peer, event.state, circles, _progress(event),
                               seconds_ago(event.last_contact, now), event.detail or ""), key=peer)
        if not net.sessions:
            table.add_row("(no peers yet)", "", "", "", "", "")
        problems = [f"{seconds_ago(at, now)}: {text}" for at, text in reversed(net.problems)]
        self.query_one("#problems", Static).update(block("\n".join(shown(p) for p in problems[:15]) or "none"))

    def _circle_name(self, circle_id: str) -> str:
        try:
            return self.app.service.info(circle_id).name
        except CircleError:
            return circle_id[:8]

    def action_close(self) -> None:
        self.dismiss()
