"""Joining a circle: paste the code -> a member lets you in -> read and accept the
guidelines -> the first sync finishes (with real progress) -> the feed.

The circle's name is only known once a member's welcome arrives, so the
guidelines come after joining; the feed opens once they are accepted. "Not
now" leaves them unaccepted: the circle then opens with the guidelines dialog
(tui/guidelines_dialog.py), and the service refuses posts until they are
accepted.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, ContentSwitcher, Footer, Header, Input, LoadingIndicator, ProgressBar, Static

from circle.crypto.invite_code import InviteCodeError
from circle.errors import CircleError
from circle.sync.node import JoinFailed, join_addresses
from circle.tui.base import Page
from circle.tui.messages import SyncProgress
from circle.domain.untrusted import shown
from circle.tui.plain import block, words


def _size(count: int) -> str:
    return f"{count / 1024:.1f} kB" if count >= 1024 else f"{count} B"


class JoinScreen(Page):
    BINDINGS = [
        Binding("escape", "leave", "Back", id="join.back"),
        Binding("ctrl+a", "accept", "Accept guidelines", id="join.accept"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.circle_id: str | None = None  # known once a member let us in
        self.synced = False
        self.accepted = False

    def compose(self) -> ComposeResult:
        yield Header()
        with ContentSwitcher(initial="step-code"):
            with Vertical(id="step-code", classes="join-box") as box:
                box.border_title = "Join a circle"
                yield Static("Paste the invite code a member sent you. It starts with circle1.", markup=False)
                yield Input(placeholder="circle1…", id="code")
                yield Input(placeholder="member's address HOST:PORT (only if the code has none)", id="peer")
                yield Static("", id="join-error", markup=False)
                yield Button("Join", id="join", variant="primary")
            with Vertical(id="step-joining", classes="join-box") as box:
                box.border_title = "Joining"
                yield Static("", id="joining-status", markup=False)
                yield LoadingIndicator()
            with Vertical(id="step-guidelines", classes="join-box") as box:
                box.border_title = "Before you start"
                yield Static("", id="welcome", markup=False)
                with VerticalScroll(id="guidelines-scroll"):
                    yield Static("", id="join-guidelines", markup=False)
                yield Static("", id="sync-status", markup=False)
                yield ProgressBar(id="sync-progress", show_eta=False)
                with Horizontal(classes="join-buttons"):
                    yield Button("I accept (ctrl+a)", id="accept", variant="primary")
                    yield Button("Not now (Esc)", id="not-now")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "join a circle"
        self.query_one("#code", Input).focus()

    # -- step 1: the code ------------------------------------------------------------

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._start()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        {"join": self._start, "accept": self.action_accept, "not-now": self.action_leave}[event.button.id or ""]()

    def _start(self) -> None:
        code = "".join(self.query_one("#code", Input).value.split())
        peer = self.query_one("#peer", Input).value.strip()
        try:
            peers = join_addresses(code, peer or None)
        except InviteCodeError as exc:
            return self._error(f"That code does not work: {exc}")
        if not peers:
            return self._error("This code carries no address: ask the member for theirs and enter it above.")
        self._join(code, peers)

    def _error(self, text: str) -> None:
        self.query_one(ContentSwitcher).current = "step-code"
        self.query_one("#join-error", Static).update(block(text))

    def _asking(self, address: str) -> None:
        self.query_one(ContentSwitcher).current = "step-joining"
        self.query_one("#joining-status", Static).update(block(f"Asking the member at {address} to let you in…"))

    @work(exclusive=True, group="join")
    async def _join(self, code: str, peers: list[str]) -> None:
        node = self.app.sync.node
        try:
            joined = await node.join(code, peers, trying=self._asking)
        except JoinFailed as exc:
            return self._error(f"Could not join: {exc}")
        except CircleError as exc:
            return self._error(str(exc))
        self.circle_id = joined.circle_id
        self._show_guidelines()
        self._sync_status(f"Syncing with {joined.address}…")
        try:
            await node.sync_once(joined.address, emit=lambda e: self.post_message(SyncProgress(e)))
            self._sync_status("Synced: you have everything the member had.", done=True)
        except CircleError as exc:
            self._sync_status(f"Could not finish syncing now ({exc}). circle keeps trying in the background.",
                              done=True)
        node.dial(joined.address)  # and stay in touch
        self.synced = True
        if self.accepted:
            self._open()

    # -- step 2: guidelines and progress ------------------------------------------------

    def _show_guidelines(self) -> None:
        info = self.app.service.info(self.circle_id)
        self.title = words(info.name)
        self.query_one("#welcome", Static).update(block(
            f"Welcome to {shown(info.name)}. {info.purpose}\nPlease read the circle's guidelines before you start."
        ))
        guidelines = info.guidelines or "(this circle has no guidelines yet)"
        self.query_one("#join-guidelines", Static).update(block(guidelines))
        self.query_one(ContentSwitcher).current = "step-guidelines"
        self.query_one("#accept", Button).focus()

    def _sync_status(self, text: str, *, done: bool = False) -> None:
        self.query_one("#sync-status", Static).update(block(text))
        if done:
            bar = self.query_one(ProgressBar)
            bar.update(total=1, progress=1)

    def on_sync_progress(self, message: SyncProgress) -> None:
        event = message.event
        if event.circle_id != self.circle_id or not event.items_expected:
            return
        self.query_one(ProgressBar).update(total=event.items_expected, progress=event.items_done)
        self._sync_status(
            f"Syncing: {event.items_done} of {event.items_expected} items, "
            f"{_size(event.bytes_done)} of {_size(event.bytes_expected)}"
        )

    def action_accept(self) -> None:
        if self.circle_id is None:
            return
        if self.app.service.guidelines_pending(self.circle_id):
            try:
                self.app.service.accept_guidelines(self.circle_id)
            except CircleError as exc:
                self.notify(str(exc), severity="error")
                return
        self.accepted = True
        if self.synced:
            self._open()
        else:
            self._sync_status("Thank you. Finishing the first sync…")

    def _open(self) -> None:
        self.app.open_circle(self.circle_id, replace=True)

    def action_leave(self) -> None:
        self.dismiss()
