"""Content filters: topics whose posts stay folded for you until you open them.

They belong to this profile (every circle) and never leave the device. Each
change is saved at once; the dialog returns True if anything changed.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Input, OptionList, Static

from circle.errors import CircleError
from circle.tui.base import Dialog


class FiltersDialog(Dialog):
    BINDINGS = [
        Binding("delete,d", "remove", "Remove topic", id="filters.remove"),
        Binding("escape", "close", "Close"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.changed = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog filters") as box:
            box.border_title = "Content filters"
            yield Static("Posts that name one of these topics (in a content warning or the text) stay folded "
                         "for you until you open them. Only this device knows your list.", markup=False)
            yield Input(placeholder="add a topic, e.g. grief, then Enter", id="topic")
            yield OptionList(id="topics")
            yield Static("Enter adds · Tab moves to the list · d or Delete removes the selected topic · "
                         "Esc closes", classes="dialog-hint", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self._show(self.app.service.cw_filters())
        self.query_one("#topic", Input).focus()

    def _show(self, topics: tuple[str, ...]) -> None:
        options = self.query_one(OptionList)
        keep = options.highlighted or 0
        options.clear_options()
        options.add_options(topics or ["(no topics: only posts with a content warning fold)"])
        options.disabled = not topics
        if topics:
            options.highlighted = min(keep, len(topics) - 1)  # d always has a topic to remove

    def _save(self, topics: list[str]) -> None:
        try:
            saved = self.app.service.set_cw_filters(topics)
        except CircleError as exc:
            self.notify(str(exc), severity="error")
            return
        self.changed = True
        self._show(saved)

    def check_action(self, action: str, parameters) -> bool | None:
        # While typing a topic, d is a letter.
        if action == "remove" and isinstance(self.focused, Input):
            return False
        return True

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        topic = event.value.strip()
        if topic:
            self._save([*self.app.service.cw_filters(), topic])
            event.input.value = ""

    def action_remove(self) -> None:
        topics = list(self.app.service.cw_filters())
        index = self.query_one(OptionList).highlighted
        if index is not None and index < len(topics):
            del topics[index]
            self._save(topics)

    def action_close(self) -> None:
        self.dismiss(self.changed)
