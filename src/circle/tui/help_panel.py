"""'Need help now?': crisis resources, one key (F1) from every screen, offline.

The app gathers the circle's own resources (from its signed governance log,
held locally) and the built-in list shipped with the package; nothing here
touches the network.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from circle.domain.models import CrisisResource
from circle.errors import CircleError
from circle.tui.dialogs import PromptDialog
from circle.domain.untrusted import shown
from circle.tui.plain import line

Section = tuple[str, Sequence[CrisisResource]]


def describe(resource: CrisisResource) -> str:
    """One line for a resource; a circle's own resources are written by its organizers, so
    every field is sanitized."""
    extra = ", ".join(shown(x) for x in (resource.region, resource.hours) if x)
    return f"• {shown(resource.name)}: {shown(resource.contact)}" + (f"  ({extra})" if extra else "")


class HelpScreen(ModalScreen):
    BINDINGS = [
        Binding("escape", "close", "Close", id="help.close"),
        Binding("r", "region", "Change region", id="help.region"),
    ]

    def __init__(self, sections: Sequence[Section]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box") as box:
            box.border_title = "Need help now?"
            yield Static(
                "If you or someone else is in danger right now, call your local emergency number.\n"
                "You are not a burden. Reaching out is the right thing to do.",
                id="help-lead", markup=False,
            )
            for title, resources in self.sections:
                yield Static(line(title, limit=120), classes="help-section")
                if resources:
                    yield Static("\n".join(describe(r) for r in resources), classes="help-list", markup=False)
                else:
                    yield Static("(none listed)", classes="help-list", markup=False)
            yield Static("This list is stored on this device and works offline. Esc closes it.\n"
                         "Other keys everywhere: F2 network · F3 settings (theme, keys, reminder, region, "
                         "filters; the circle's) · ctrl+p every command.", id="help-foot", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#help-box").focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def check_action(self, action: str, parameters) -> bool | None:
        # The region is a saved setting of the unlocked profile: nothing to change before.
        return action != "region" or self.app.service is not None

    def action_region(self) -> None:
        async def save(code: str | None) -> None:
            if code is None:
                return
            try:
                region = self.app.service.set_region(code or None)
            except CircleError as exc:
                self.notify(str(exc), severity="error")
                return
            self.notify(f"Built-in resources now for {region}." if region else "Showing every built-in resource.")
            self.sections = self.app.help_sections()
            await self.recompose()
            self.query_one("#help-box").focus()

        self.app.push_screen(PromptDialog(
            "Region for built-in resources",
            "Two-letter country code, such as GB or US (empty: follow this computer's locale):",
            self.app.service.region() or "", optional=True,
        ), save)
