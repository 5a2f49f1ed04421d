"""The Guidelines tab: what the circle is for, its guidelines and its own crisis resources."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from circle.tui.help_panel import describe


class GuidelinesTab(VerticalScroll):
    def __init__(self, circle_id: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.circle_id = circle_id

    def compose(self) -> ComposeResult:
        yield Static("", id="purpose", markup=False)
        yield Static("Guidelines", classes="section-title", markup=False)
        yield Static("", id="guidelines-text", markup=False)
        yield Static("This circle's crisis resources (F1 shows them with the built-in list)",
                     classes="section-title", markup=False)
        yield Static("", id="circle-resources", markup=False)

    def reload(self) -> None:
        info = self.app.service.info(self.circle_id)
        self.query_one("#purpose", Static).update(f"{info.name}: {info.purpose or 'no purpose written yet'}")
        self.query_one("#guidelines-text", Static).update(info.guidelines or "(no guidelines yet)")
        self.query_one("#circle-resources", Static).update(
            "\n".join(describe(r) for r in info.resources) or "(none added; the built-in list is on F1)"
        )
