"""A mood check-in in two keystrokes: `c` opens this, 1-5 records it.

Before the number, `n` adds a note, `t` tags and `p` changes who sees it:
the circle (everything), the circle as a band only ("doing okay" / "could use
support"; the rest stays on this device), or only you.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Footer, Input, Static

from circle.domain.models import BANDS, SHARES
from circle.tui.base import Dialog
from circle.tui.mood_chart import MOOD_WORDS
from circle.tui.plain import block


@dataclass(frozen=True)
class CheckInDraft:
    mood: int
    note: str
    tags: tuple[str, ...]
    share: str  # one of SHARES


class CheckInDialog(Dialog):
    BINDINGS = [
        Binding("n", "focus_field('note')", "Note", id="checkin.note"),
        Binding("t", "focus_field('tags')", "Tags", id="checkin.tags"),
        Binding("p", "next_share", "Who sees it", id="checkin.share"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, circle_name: str, *, share: str = "circle") -> None:
        super().__init__()
        self.circle_name = circle_name
        self.share = share

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = "Check in"
            yield Static("How are you right now? Press 1-5.", markup=False)
            with Horizontal(classes="dialog-buttons moods"):
                for mood, word in MOOD_WORDS.items():
                    yield Button(f"{mood} {word}", id=f"mood-{mood}")
            yield Input(placeholder="note (optional, n)", id="note")
            yield Input(placeholder="tags, comma separated (optional, t)", id="tags")
            yield Static("", id="visibility", markup=False)
            yield Static("Enter in a field returns here; then 1-5 records the check-in. Esc cancels.",
                         classes="dialog-hint", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self._show_visibility()
        self.query_one("#mood-3", Button).focus()

    def _show_visibility(self) -> None:
        text = share_text(self.share, self.circle_name) + " (p changes it)"
        self.query_one("#visibility", Static).update(block(text))

    def _typing(self) -> bool:
        return isinstance(self.focused, Input)

    def check_action(self, action: str, parameters) -> bool | None:
        # While typing a note, letters are text, not commands.
        if action in ("focus_field", "next_share") and self._typing():
            return False
        return True

    def on_key(self, event) -> None:
        if not self._typing() and event.character in ("1", "2", "3", "4", "5"):
            event.stop()
            self._record(int(event.character))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#mood-3", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        assert event.button.id is not None  # every button here is made with an id
        self._record(int(event.button.id.split("-")[1]))

    def action_focus_field(self, name: str) -> None:
        self.query_one(f"#{name}", Input).focus()

    def action_next_share(self) -> None:
        self.share = SHARES[(SHARES.index(self.share) + 1) % len(SHARES)]
        self._show_visibility()

    def _record(self, mood: int) -> None:
        tags = tuple(t.strip() for t in self.query_one("#tags", Input).value.split(",") if t.strip())
        self.dismiss(CheckInDraft(mood, self.query_one("#note", Input).value.strip(), tags, self.share))


def share_text(share: str, circle_name: str) -> str:
    """Who will see a check-in, in words."""
    if share == "circle":
        return f"Shared with {circle_name}: mood, note and tags"
    if share == "band":
        return (f"{circle_name} sees only \"{BANDS['okay']}\" or \"{BANDS['support']}\"; "
                "the number, note and tags stay on this device")
    return "Private: stays on this device only"
