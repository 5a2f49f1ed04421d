"""Your circles: unread posts and sync state for each; open, start or join one."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from circle.errors import CircleError
from circle.tui.base import Page
from circle.tui.dialogs import PromptDialog
from circle.tui.plain import cell, row


class CircleListScreen(Page):
    BINDINGS = [
        Binding("n", "new_circle", "New circle", id="circles.new"),
        Binding("j", "join", "Join with a code", id="circles.join"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="intro", markup=False)
        table: DataTable[object] = DataTable(id="circles", cursor_type="row", zebra_stripes=False)
        table.add_columns("Circle", "New", "Members", "Your role", "Sync")
        yield table
        yield Static("", id="network-line", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "your circles"
        self.reload()
        self.query_one(DataTable).focus()

    def on_screen_resume(self) -> None:
        self.reload()  # back from a circle: its unread count changed without any store news

    def reload(self) -> None:
        service = self.app.service
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        circles = service.circles()
        for c in circles:
            unread = service.unread_count(c.id)
            table.add_row(*row(
                c.name,
                f"{unread} unread" if unread else "nothing new",
                f"{c.members}",
                c.role or "-",
                self.app.network.summary(c.id)),
                key=c.id,
            )
        if circles:
            table.move_cursor(row=min(keep, len(circles) - 1))
        intro = (
            "Enter opens a circle. n starts a new one, j joins one with an invite code. F1: need help now?"
            if circles else
            "No circles yet. Press n to start one, or j to join with an invite code someone sent you."
        )
        self.query_one("#intro", Static).update(intro)
        self.on_network_changed()

    def on_network_changed(self) -> None:
        net = self.app.network
        where = f"listening on {net.listening}" if net.listening else "not listening"
        self.query_one("#network-line", Static).update(f"Sync: {where} · F2 network details")
        table = self.query_one(DataTable)
        for row_key in list(table.rows):
            table.update_cell(row_key, table.ordered_columns[4].key, cell(net.summary(row_key.value)))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.app.open_circle(event.row_key.value)

    def action_new_circle(self) -> None:
        def create(name: str | None) -> None:
            if not name:
                return
            try:
                circle_id = self.app.service.create_circle(name)
            except CircleError as exc:
                self.notify(str(exc), severity="error")
                return
            self.reload()
            self.app.open_circle(circle_id)

        self.app.push_screen(PromptDialog("Start a circle", "Name of the new circle"), create)

    def action_join(self) -> None:
        self.app.open_join()
