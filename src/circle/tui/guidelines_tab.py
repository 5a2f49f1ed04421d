"""The Guidelines tab: what the circle is for, its guidelines (with their version and,
while you have not accepted them, an Accept button), who has not accepted yet
(organizers and moderators), the circle's polls about its guidelines, and its own
crisis resources."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Button, Static

from circle.domain import polls as poll_rules
from circle.domain.models import PollResult
from circle.domain.roles import MODERATING
from circle.errors import CircleError
from circle.tui.feed_items import poll_stamp
from circle.tui.guidelines_dialog import accept, pending_text
from circle.tui.help_panel import describe
from circle.tui.poll_dialog import PollDialog, PollDraft, VoteDialog
from circle.tui.plain import block


class GuidelinesTab(VerticalScroll):
    BINDINGS = [
        Binding("ctrl+a", "accept", "Accept guidelines", id="guidelines.accept"),
        Binding("p", "ask", "Poll", show=False, id="guidelines.poll"),
        Binding("v", "vote", "Vote", show=False, id="guidelines.vote"),
    ]

    def __init__(self, circle_id: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.circle_id = circle_id

    def compose(self) -> ComposeResult:
        yield Static("", id="purpose", markup=False)
        yield Static("Guidelines", id="guidelines-title", classes="section-title", markup=False)
        yield Static("", id="guidelines-text", markup=False)
        yield Static("", id="guidelines-status", markup=False)
        yield Button("I accept (ctrl+a)", id="accept-guidelines", variant="primary")
        yield Static("", id="guidelines-acceptance", markup=False)
        yield Static("Polls about the guidelines (v votes in the newest open one · p asks one)",
                     id="guideline-polls-title", classes="section-title", markup=False)
        yield Static("", id="guideline-polls", markup=False)
        yield Static("This circle's crisis resources (F1 shows them with the built-in list)",
                     classes="section-title", markup=False)
        yield Static("", id="circle-resources", markup=False)

    def reload(self) -> None:
        service = self.app.service
        info = service.info(self.circle_id)
        status = service.guidelines_status(self.circle_id)
        version, pending = status.version, status.pending
        self.query_one("#purpose", Static).update(block(f"{info.name}: {info.purpose or 'no purpose written yet'}"))
        self.query_one("#guidelines-title", Static).update(
            f"Guidelines, version {version}" if version else "Guidelines")
        self.query_one("#guidelines-text", Static).update(block(info.guidelines or "(no guidelines yet)"))
        status = (pending_text(service, self.circle_id) if pending
                  else f"You accepted version {version}." if version else "")
        self.query_one("#guidelines-status", Static).update(block(status))
        self.query_one("#accept-guidelines", Button).display = pending
        self.refresh_bindings()
        self.query_one("#guidelines-acceptance", Static).update(block(self._acceptance() if version else ""))
        polls = self._polls()
        self.query_one("#guideline-polls-title", Static).display = bool(polls)
        self.query_one("#guideline-polls", Static).display = bool(polls)
        names = service.member_names(self.circle_id)
        self.query_one("#guideline-polls", Static).update(block("\n".join(
            text for result in polls for text in poll_rules.lines(result, names, poll_stamp))))
        self.query_one("#circle-resources", Static).update(block(
            "\n".join(describe(r) for r in info.resources) or "(none added; the built-in list is on F1)"
        ))

    def _acceptance(self) -> str:
        """For organizers and moderators: who has not accepted the version in force."""
        service = self.app.service
        if service.my_role(self.circle_id) not in MODERATING:
            return ""
        names = service.member_names(self.circle_id)
        waiting = sorted(names.get(m, "?") for m, done in service.guideline_acceptance(self.circle_id).items()
                         if not done)
        return ("Not accepted yet (they cannot post until they do): " + ", ".join(waiting) if waiting
                else "Every member has accepted this version.")

    def _polls(self) -> list[PollResult]:
        return [r for r in self.app.service.polls(self.circle_id) if r.poll.guidelines_version]

    def action_ask(self) -> None:
        if not self.app.service.guidelines_status(self.circle_id).version:
            self.notify("This circle has no guidelines yet for a poll to be about.", severity="warning")
            return

        def ask(draft: PollDraft | None) -> None:
            if draft:
                try:
                    self.app.service.create_poll(self.circle_id, draft.question, draft.options, guidelines=True,
                                                 closes_in=draft.closes_in)
                except CircleError as exc:
                    self.notify(str(exc), severity="error")

        self.app.push_screen(PollDialog("A poll about the guidelines"), ask)

    def action_vote(self) -> None:
        open_ones = [r for r in self._polls() if r.open]
        if not open_ones:
            self.notify("No open poll about the guidelines (p asks one).", severity="warning")
            return
        result = open_ones[-1]

        def vote(number: int | None) -> None:
            if number is not None:
                try:
                    self.app.service.vote(self.circle_id, result.poll.id, number)
                except CircleError as exc:
                    self.notify(str(exc), severity="error")

        self.app.push_screen(VoteDialog(result), vote)

    def check_action(self, action: str, parameters) -> bool | None:
        # Shown (and working) only while there is something to accept.
        return action != "accept" or self.app.service.guidelines_pending(self.circle_id)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_accept()

    def action_accept(self) -> None:
        accept(self, self.circle_id)
        self.screen.reload()
