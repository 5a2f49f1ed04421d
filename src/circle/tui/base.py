"""Base classes for the app's screens: pages that follow the data, and dialogs."""

from __future__ import annotations

from textual.binding import ActiveBinding
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, TextArea


HELP_ID = "app.help"


class HelpFirst:
    """Puts F1 (help) first among the footer's keys, so it is never cut off; on
    dialogs too, where Textual leaves the app's keys out of the footer (the
    binding itself is an app-level priority binding and works everywhere)."""

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        bindings = super().active_bindings  # type: ignore[misc]  # a mixin: the Screen after it has them
        first = {key: b for key, b in bindings.items() if b.binding.id == HELP_ID}
        if not first:
            first = {key: ActiveBinding(self.app, binding, True, binding.tooltip)
                     for key, binding in self.app._bindings if binding.id == HELP_ID}
        return {**first, **{key: b for key, b in bindings.items() if key not in first}}


def _settle_cursors(screen: Screen) -> None:
    """With the app's freeze_blink (snapshot tests), cursors do not blink."""
    if getattr(screen.app, "freeze_blink", False):
        for widget in screen.query(Input):
            widget.cursor_blink = False
        for area in screen.query(TextArea):
            area.cursor_blink = False


class Page(HelpFirst, Screen):
    """A full screen that reloads when the store or the network changes.

    Subclasses implement `reload()`; while another screen covers this one, a
    change only marks it stale, and it reloads when it is shown again.
    """

    _stale = False

    def on_mount(self) -> None:
        _settle_cursors(self)
        self.call_after_refresh(self.app.report_problems)
        self.app.data_changed.subscribe(self, self._on_data_changed)
        self.app.network_changed.subscribe(self, self._on_network_changed)

    def _on_data_changed(self, circle_id: str) -> None:
        if self.is_current:
            self.on_data_changed(circle_id)
        else:
            self._stale = True

    def _on_network_changed(self, _event) -> None:
        if self.is_current:
            self.on_network_changed()

    def on_screen_resume(self) -> None:
        if self._stale:
            self._stale = False
            self.reload()
        self.on_network_changed()

    def on_data_changed(self, circle_id: str) -> None:
        self.reload()

    def on_network_changed(self) -> None:
        pass

    def reload(self) -> None:
        pass


class Dialog(HelpFirst, ModalScreen):
    """A modal dialog; escape closes it with no result."""

    BINDINGS = [("escape", "cancel", "Cancel")]

    def on_mount(self) -> None:
        _settle_cursors(self)

    def action_cancel(self) -> None:
        self.dismiss(None)
