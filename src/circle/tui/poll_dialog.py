"""Asking the circle (question, options one per line, when it closes) and voting (radio options)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Input, RadioButton, RadioSet, Select, Static, TextArea

from circle.domain import polls as poll_rules
from circle.domain.models import PollResult
from circle.tui.base import Dialog
from circle.tui.plain import line

CLOSES_IN = {"open": ("stays open until closed", None), "1d": ("closes in 1 day", timedelta(days=1)),
             "3d": ("closes in 3 days", timedelta(days=3)), "1w": ("closes in 1 week", timedelta(weeks=1))}


@dataclass(frozen=True)
class PollDraft:
    question: str
    options: list[str]
    closes_in: timedelta | None


class PollDialog(Dialog):
    """Returns a PollDraft, or None if cancelled; the service checks the rest (lengths, repeats)."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Ask", priority=True, id="poll.save"),
        Binding("escape", "cancel", "Cancel", id="poll.cancel"),
    ]

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog poll-form") as box:
            box.border_title = line(self.title_text)
            yield Input(placeholder="the question", id="question", max_length=poll_rules.MAX_QUESTION_CHARS)
            yield Static(f"Options, one per line ({poll_rules.MIN_OPTIONS} to {poll_rules.MAX_OPTIONS}):",
                         markup=False)
            yield TextArea("", id="options", soft_wrap=True, show_line_numbers=False)
            yield Select([(label, key) for key, (label, _) in CLOSES_IN.items()], value="open", allow_blank=False,
                         id="closes")
            yield Static("", id="poll-problem", markup=False)
            yield Static("ctrl+s asks · Esc cancels · Tab moves between fields", classes="dialog-hint", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#question", Input).focus()

    def action_save(self) -> None:
        question = self.query_one("#question", Input).value.strip()
        options = [o.strip() for o in self.query_one("#options", TextArea).text.splitlines() if o.strip()]
        problem = self.query_one("#poll-problem", Static)
        if not question:
            problem.update("Write the question first.")
            return
        if not poll_rules.MIN_OPTIONS <= len(options) <= poll_rules.MAX_OPTIONS:
            problem.update(f"Give {poll_rules.MIN_OPTIONS} to {poll_rules.MAX_OPTIONS} options, one per line.")
            return
        closes = CLOSES_IN[str(self.query_one("#closes", Select).value)][1]
        self.dismiss(PollDraft(question, options, closes))


class VoteDialog(Dialog):
    """Pick one option of an open poll; returns its number (1 first), or None if cancelled."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Vote", priority=True, id="vote.save"),
        Binding("escape", "cancel", "Cancel", id="vote.cancel"),
    ]

    def __init__(self, result: PollResult) -> None:
        super().__init__()
        self.result = result

    def compose(self) -> ComposeResult:
        poll = self.result.poll
        with Vertical(classes="dialog vote-form") as box:
            box.border_title = line("Vote")
            yield Static(line(poll.question, limit=poll_rules.MAX_QUESTION_CHARS), id="vote-question")
            with RadioSet(id="vote-options"):
                for index, option in enumerate(poll.options):
                    yield RadioButton(line(option, limit=poll_rules.MAX_OPTION_CHARS),
                                      value=index == self.result.my_choice)
            note = "A new vote replaces your earlier one. " if self.result.my_choice is not None else ""
            yield Static(f"{note}Space or Enter picks · ctrl+s votes · Esc cancels. "
                         "The circle sees counts only.", classes="dialog-hint", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(RadioSet).focus()

    def action_save(self) -> None:
        chosen = self.query_one(RadioSet).pressed_index
        if chosen < 0:
            self.notify("Pick an option first (up/down, then space).", severity="warning")
            return
        self.dismiss(chosen + 1)
