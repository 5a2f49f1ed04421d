"""Writing a post, a reply or an edit: multi-line text and an optional content warning."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Input, Static, TextArea

from circle.errors import CircleError
from circle.tui.base import Dialog
from circle.tui.external_editor import edit_text
from circle.tui.plain import block, line


@dataclass(frozen=True)
class Draft:
    body: str
    content_warning: str | None


class ComposeDialog(Dialog):
    """Returns a Draft, or None if cancelled. Nothing is saved until ctrl+s."""

    BINDINGS = [
        Binding("ctrl+s", "send", "Post", priority=True, id="compose.send"),
        # priority: the text area would take ctrl+e as "end of line"
        Binding("ctrl+e", "external", "Editor", priority=True, id="compose.editor"),
        Binding("escape", "cancel", "Cancel", id="compose.cancel"),
    ]

    def __init__(self, title: str, context: str = "", body: str = "", cw: str = "",
                 *, allow_cw: bool = True) -> None:
        super().__init__()
        self.title_text, self.context, self.body, self.cw, self.allow_cw = title, context, body, cw, allow_cw

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog compose") as box:
            box.border_title = line(self.title_text)
            if self.context:
                yield Static(block(self.context), id="context")
            yield TextArea(self.body, id="body", soft_wrap=True, show_line_numbers=False)
            if self.allow_cw:
                yield Input(self.cw, placeholder="content warning (optional), e.g. \"grief\"", id="cw")
            yield Static("ctrl+s posts · Esc cancels · Tab moves between fields", classes="dialog-hint", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        area = self.query_one("#body", TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    def action_send(self) -> None:
        body = self.query_one("#body", TextArea).text
        if not body.strip():
            self.notify("Write something first (or Esc to cancel).", severity="warning")
            return
        cw = self.query_one("#cw", Input).value.strip() if self.allow_cw else ""
        self.dismiss(Draft(body, cw or None))

    def action_external(self) -> None:
        if not self.app.settings.external_editor:
            self.notify("The external editor is off: it may leave copies on disk. "
                        "Turn it on with \"external_editor\": true in settings.json (see docs/tui.md).",
                        severity="warning", timeout=8)
            return
        area = self.query_one("#body", TextArea)
        try:
            with self.app.suspend():
                text = edit_text(area.text)
        except SuspendNotSupported:
            self.notify("This terminal cannot hand over to an editor.", severity="warning")
            return
        except CircleError as exc:
            self.notify(str(exc), severity="error")
            return
        area.load_text(text.rstrip("\n"))
