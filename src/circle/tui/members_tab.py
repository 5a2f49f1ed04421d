"""The Members tab: who is in the circle, their role, status and when last heard from; organizers invite."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from circle.errors import CircleError
from circle.tui.dialogs import CodeDialog
from circle.tui.when import moment


class MembersTab(Vertical):
    BINDINGS = [Binding("i", "invite", "Invite", id="members.invite")]

    def __init__(self, circle_id: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.circle_id = circle_id

    def compose(self) -> ComposeResult:
        yield Static("", id="members-hint", classes="tab-hint", markup=False)
        table = DataTable(id="member-table", cursor_type="row")
        table.add_columns("Name", "Role", "Status", "Joined", "Last seen")
        yield table

    def reload(self) -> None:
        service = self.app.service
        me = service.whoami().member_id
        table = self.query_one(DataTable)
        table.clear()
        members = service.members(self.circle_id, include_departed=True)
        last_seen = service.last_seen(self.circle_id)
        for m in members:
            name = f"{m.name} (you)" if m.id == me else m.name
            joined = moment(m.joined_at, self.app.display_tz) if m.joined_at else "-"
            seen = moment(last_seen[m.id], self.app.display_tz) if m.id in last_seen else "-"
            table.add_row(name, m.role, m.status, joined, seen, key=m.id)
        active = sum(1 for m in members if m.status == "active")
        invite = " · i creates an invite code" if service.my_role(self.circle_id) == "organizer" else ""
        self.query_one("#members-hint", Static).update(f"{active} active members{invite}")

    def action_invite(self) -> None:
        service = self.app.service
        if service.my_role(self.circle_id) != "organizer":
            self.notify("Only organizers can invite.", severity="warning")
            return
        address = self.app.network.listening
        try:
            code = service.invite(self.circle_id, hints=(address,) if address else ())
        except CircleError as exc:
            self.notify(str(exc), severity="error")
            return
        note = ("Send this code privately to the person you are inviting. It works once and expires in 7 days."
                + (f" It tells them to reach you at {address}; keep circle open while they join." if address else ""))
        self.app.push_screen(CodeDialog("Invite code", note, code))
