"""The Members tab: who is in the circle, their role, status and when last heard from;
ask chosen members to reach out to you; organizers invite."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from circle.domain.roles import MemberStatus, Role
from circle.errors import CircleError
from circle.tui.invite_dialog import InviteChoice, InviteDialog
from circle.tui.dialogs import CodeDialog, PromptDialog
from circle.domain.times import readable
from circle.tui.plain import row


class MembersTab(Vertical):
    BINDINGS = [
        Binding("space", "choose", "Choose", id="members.choose"),
        Binding("r", "reach_out", "Ask to reach out", id="members.reach_out"),
        Binding("i", "invite", "Invite", id="members.invite"),
    ]

    def __init__(self, circle_id: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.circle_id = circle_id
        self.chosen: set[str] = set()  # members to ask to reach out

    def compose(self) -> ComposeResult:
        yield Static("", id="members-hint", classes="tab-hint", markup=False)
        table: DataTable[object] = DataTable(id="member-table", cursor_type="row")
        table.add_columns("Name", "Role", "Status", "Joined", "Last seen", "Ask")
        yield table

    def reload(self) -> None:
        service = self.app.service
        me = service.whoami().member_id
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        members = service.members(self.circle_id, include_departed=True)
        self.chosen &= {m.id for m in members if m.status == MemberStatus.ACTIVE}
        last_seen = service.last_seen(self.circle_id)
        for m in members:
            name = f"{m.name} (you)" if m.id == me else m.name
            joined = readable(m.joined_at, self.app.display_tz) if m.joined_at else "-"
            seen = readable(last_seen[m.id], self.app.display_tz) if m.id in last_seen else "-"
            mark = "✓ chosen" if m.id in self.chosen else ""
            table.add_row(*row(name, m.role, m.status, joined, seen, mark), key=m.id)
        table.move_cursor(row=min(keep, len(members) - 1))
        active = sum(1 for m in members if m.status == MemberStatus.ACTIVE)
        invite = " · i creates an invite code" if service.my_role(self.circle_id) == Role.ORGANIZER else ""
        self.query_one("#members-hint", Static).update(
            f"{active} active members · space chooses, r asks the chosen (or selected) members "
            f"to reach out to you; only they see it{invite}")

    def _selected(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def action_choose(self) -> None:
        member = self._selected()
        if member is None or member == self.app.service.whoami().member_id:
            return
        self.chosen ^= {member}
        self.reload()

    def action_reach_out(self) -> None:
        service = self.app.service
        me = service.whoami().member_id
        chosen = sorted(self.chosen) or [m for m in [self._selected()] if m and m != me]
        if not chosen:
            self.notify("Choose members first (space), not yourself.", severity="warning")
            return
        names = service.member_names(self.circle_id)
        who = ", ".join(names.get(m, "?") for m in chosen)

        def send(note: str | None) -> None:
            if note is None:
                return
            try:
                service.reach_out(self.circle_id, chosen, note)
            except CircleError as exc:
                self.notify(str(exc), severity="error")
                return
            self.chosen.clear()
            self.reload()
            self.notify(f"Asked {who} to reach out to you. Only they can see it.")

        self.app.push_screen(PromptDialog(
            f"Ask {who} to reach out",
            f"{who} will be asked to get in touch with you; no one else sees it. A note (optional):",
            optional=True,
        ), send)

    def action_invite(self) -> None:
        service = self.app.service
        if service.my_role(self.circle_id) != Role.ORGANIZER:
            self.notify("Only organizers can invite.", severity="warning")
            return

        def make(choice: InviteChoice | None) -> None:
            if choice is None:
                return
            try:
                code = service.invite(self.circle_id, uses=choice.uses, expires_in=choice.expires_in,
                                      hints=choice.hints)
            except CircleError as exc:
                self.notify(str(exc), severity="error")
                return
            people = "one person" if choice.uses == 1 else f"{choice.uses} people"
            days = choice.expires_in.days
            note = (f"Send this code privately to the person you are inviting. It admits {people} and "
                    f"expires in {days} day{'s' * (days != 1)}."
                    + (f" It tells them to reach you at {choice.hints[0]}; keep circle open while they join."
                       if choice.hints else " It names no address: they join with --peer HOST:PORT."))
            self.app.push_screen(CodeDialog("Invite code", note, code))

        self.app.push_screen(InviteDialog(self.app.network.listening), make)
