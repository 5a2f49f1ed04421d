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
from circle.tui.dialogs import ConfirmDialog, PromptDialog
from circle.tui.when import seconds_ago
from circle.domain.untrusted import shown
from circle.tui.plain import block, row


def _progress(event) -> str:
    if not event.items_expected:
        return "-"
    return f"{event.items_done}/{event.items_expected} items, {event.bytes_done}/{event.bytes_expected} B"


class NetworkScreen(Page):
    BINDINGS = [
        Binding("escape", "close", "Back", id="network.back"),
        Binding("a", "add_peer", "Add peer", id="network.add_peer"),
        Binding("x,delete", "forget_peer", "Forget peer", id="network.forget_peer"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static("", id="listening", markup=False)
            yield Static("Peers", classes="section-title", markup=False)
            table: DataTable[object] = DataTable(id="peer-table", cursor_type="row")
            table.add_columns("Peer", "State", "Circle", "Progress", "Last contact", "Detail")
            yield table
            yield Static("Dialled (a: add a peer, x: forget the selected one)", classes="section-title", markup=False)
            dialled: DataTable[object] = DataTable(id="dial-table", cursor_type="row")
            dialled.add_columns("Address", "Why", "State")
            yield dialled
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
        self._show_dialled(now)
        problems = [f"{seconds_ago(at, now)}: {text}" for at, text in reversed(net.problems)]
        self.query_one("#problems", Static).update(block("\n".join(shown(p) for p in problems[:15]) or "none"))

    def _dialled(self) -> list[tuple[str, str]]:
        """(address, why it is dialled), in the order the table shows them."""
        service, from_file = self.app.service, self.app.settings.peers
        added = set(service.added_peers())
        rows = [(a, "settings.json") for a in from_file]
        rows += [(a, "added by you" if a in added else "synced before")
                 for a in service.known_addresses() if a not in from_file]
        return rows

    def _show_dialled(self, now: float) -> None:
        net = self.app.network
        dialled = self.query_one("#dial-table", DataTable)
        cursor = dialled.cursor_row
        dialled.clear()
        rows = self._dialled()
        for address, why in rows:
            event = net.sessions.get(address)
            state = (f"{event.state}, last contact {seconds_ago(event.last_contact, now)}" if event
                     else "dialling (no answer yet)")
            dialled.add_row(*row(address, why, state), key=address)
        if not rows:
            dialled.add_row("(none: press a to add a member's HOST:PORT)", "", "")
        elif cursor < len(rows):
            dialled.move_cursor(row=cursor)

    def _selected_dialled(self) -> tuple[str, str] | None:
        cursor, rows = self.query_one("#dial-table", DataTable).cursor_row, self._dialled()
        return rows[cursor] if 0 <= cursor < len(rows) else None

    def action_add_peer(self) -> None:
        runner = self.app.sync
        if runner is None:
            self.notify("sync is not running", severity="warning")
            return

        def add(text: str | None) -> None:
            if not text:
                return
            try:
                address = runner.node.add_peer(text)
            except CircleError as exc:
                self.notify(str(exc), severity="error", markup=False)
                return
            self.notify(f"dialling {address}", markup=False)
            self.on_network_changed()

        self.app.push_screen(PromptDialog("Add a peer", "A member's address, HOST:PORT (they run circle serve "
                                          "or the app listening there):"), add)

    def action_forget_peer(self) -> None:
        runner, selected = self.app.sync, self._selected_dialled()
        if runner is None or selected is None:
            return
        address, why = selected
        if why == "settings.json":
            self.notify(f"{address} is listed in settings.json: remove it there", markup=False)
            return

        def forget(yes: bool | None) -> None:
            if yes:
                self.app.run_worker(self._forget(runner, address), group="network")

        self.app.push_screen(ConfirmDialog("Forget peer", f"Stop dialling {address}, now and after a restart?"),
                             forget)

    async def _forget(self, runner, address: str) -> None:
        try:
            await runner.node.forget_peer(address)
        except CircleError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.notify(f"{address} forgotten", markup=False)
        self.on_network_changed()

    def _circle_name(self, circle_id: str) -> str:
        try:
            return self.app.service.info(circle_id).name
        except CircleError:
            return circle_id[:8]

    def action_close(self) -> None:
        self.dismiss()
