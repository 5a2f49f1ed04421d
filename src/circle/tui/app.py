"""The circle app: a few screens over one Service, with sync on the app's loop.

Launched with an unlocked Service it opens straight into the circles (the
last-used one, or the only one). Launched without, it shows first run (no
profile at home) or unlock (skipped when CIRCLE_PASSPHRASE is set).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import date, tzinfo
from pathlib import Path

from textual.app import App, SystemCommand
from textual.notifications import SeverityLevel
from textual.binding import Binding
from textual.screen import Screen
from textual.signal import Signal

from circle.domain.builtin_resources import builtin_resources, region_from_locale
from circle.errors import CircleError
from circle.profile import Profile, default_home
from circle.service import Service
from circle.tui.circle_list import CircleListScreen
from circle.tui.circle_screen import CircleScreen
from circle.tui.filters_dialog import FiltersDialog
from circle.tui.first_run import FirstRunScreen
from circle.tui.help_panel import HelpScreen, Section
from circle.tui.inbox_tab import headline
from circle.tui.join_flow import JoinScreen
from circle.tui.keymap import known_binding_ids
from circle.tui.messages import ListeningChanged, RelayChanged, StoreChanged, SyncProblem, SyncProgress
from circle.tui.network_panel import NetworkScreen
from circle.tui.network_state import NetworkState
from circle.tui.settings import DEFAULT_THEME, Settings, load_settings
from circle.tui.settings_screen import SettingsScreen
from circle.tui.sync_runner import SyncRunner
from circle.tui.themes import THEMES
from circle.tui.unlock import UnlockScreen
from circle.domain.untrusted import shown

Companion = Callable[[Callable[[str], None]], Awaitable[None]]


class CircleApp(App[None]):
    TITLE = "circle"
    # Each screen's .tcss sits beside its module; the app loads them all once.
    CSS_PATH = [
        "app.tcss", "gate.tcss", "circle_list.tcss", "circle_screen.tcss", "dialogs.tcss",
        "help_panel.tcss", "join_flow.tcss", "network_panel.tcss",
    ]
    BINDINGS = [
        Binding("f1", "help", "Help", priority=True, id="app.help"),
        Binding("ctrl+q", "quit", "Quit", priority=True, id="app.quit"),
        Binding("f2", "network", "Network", id="app.network"),
        Binding("f3", "settings", "Settings", show=False, id="app.settings"),  # listed in the help panel
    ]

    def __init__(
        self,
        service: Service | None = None,
        *,
        home: Path | None = None,
        settings: Settings | None = None,
        companion: Companion | None = None,
        environ: Mapping[str, str] = os.environ,
        freeze_blink: bool = False,
        display_tz: tzinfo | None = None,
    ) -> None:
        """`companion(dial)`, if given, runs beside sync once it starts (the demo's members)."""
        super().__init__()
        self.service = service
        self.owns_service = service is None
        self.home = home or (service.whoami().home if service else default_home())
        self.settings = settings or load_settings(self.home, environ)
        self.environ = environ
        self.companion = companion
        self.freeze_blink = freeze_blink
        self.display_tz = display_tz
        self.network = NetworkState()
        self.sync: SyncRunner | None = None
        self.current_circle: str | None = None
        self.data_changed: Signal[str] = Signal(self, "data-changed")
        self.network_changed: Signal[object] = Signal(self, "network-changed")
        self._unsubscribe: Callable[[], None] | None = None
        self._problems = self.settings.problems
        self._announced: set[str] = set()  # inbox items already told about this session
        self._offered_checkin: date | None = None  # the day the check-in reminder was last shown

    def on_mount(self) -> None:
        for theme in THEMES:
            self.register_theme(theme)
        if self.settings.theme in self.available_themes:
            self.theme = self.settings.theme
        else:
            self.theme = DEFAULT_THEME
            self._problems += (f"Unknown theme {self.settings.theme!r}; using {DEFAULT_THEME}.",)
        self.set_keymap(self.settings.keymap)
        unknown = sorted(set(self.settings.keymap) - known_binding_ids())
        if unknown:
            self._problems += (f"keys.json: no such action {', '.join(map(repr, unknown))} (see docs/tui.md)",)
        if self.service is not None:
            self.start_session(self.service)
        elif Profile.exists(self.home):
            # An empty CIRCLE_PASSPHRASE counts as unset, as in the CLI.
            self.push_screen(UnlockScreen(self.home, self.environ.get("CIRCLE_PASSPHRASE") or None))
        else:
            self.push_screen(FirstRunScreen(self.home))

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every notification, from any screen, as plain text: many carry a member's name or a
        peer's error text, which must neither drive the terminal nor be read as markup."""
        super().notify(shown(message, multiline=True, limit=500), title=shown(title, limit=60),
                       severity=severity, timeout=timeout, markup=False)

    def report_problems(self) -> None:
        """Show (once, on the first real screen) what was wrong with the settings files."""
        problems, self._problems = self._problems, ()
        for problem in problems:
            self.notify(problem, severity="warning", timeout=15)

    # -- the unlocked session ---------------------------------------------------------

    def start_session(self, service: Service) -> None:
        """Start sync and show the circles; opens the last-used (or only) circle."""
        self.service = service
        self._unsubscribe = service.subscribe(self._store_changed)
        self.sync = SyncRunner(service, self.settings, self.post_message)
        self.run_worker(self.sync.run(), name="sync", group="sync", exit_on_error=False)
        if self.companion is not None:
            self.run_worker(self._run_companion(), name="companion", group="sync", exit_on_error=False)
        circles = service.circles()
        target = service.last_circle() or (circles[0].id if len(circles) == 1 else None)
        self.call_later(self._show_circles, target)
        for circle in circles:  # what arrived while the app was closed
            self.announce_inbox(circle.id)
        self.call_later(self.offer_checkin)
        self.set_interval(60, self.offer_checkin)

    def offer_checkin(self) -> bool:
        """Once a day, after the reminder time set on this device and only if no
        check-in was made today, offer one; never more than a quiet toast."""
        assert self.service is not None  # offered only after unlock
        today = self.service.clock().astimezone(self.display_tz).date()
        if self._offered_checkin == today or not self.service.checkin_reminder_due(self.display_tz):
            return False
        self._offered_checkin = today
        self.notify("A moment for a check-in, if you would like one: press c in a circle.",
                    title="Check-in", timeout=30)
        return True

    def _store_changed(self, circle_id: str) -> None:
        self.post_message(StoreChanged(circle_id))

    async def _run_companion(self) -> None:
        # A worker that fails with exit_on_error=False ends without a word: say so.
        try:
            companion, sync = self.companion, self.sync
            assert companion is not None and sync is not None  # start_session runs this only with both
            await companion(sync.node.dial)
        except Exception as exc:
            self.log.error("the companion stopped", exc)  # the traceback, for `textual console`
            self.post_message(SyncProblem(f"the demo members stopped: {type(exc).__name__}: {exc}"))

    async def _show_circles(self, target: str | None) -> None:
        # One step at a time: the unlock screen goes before the list comes.
        if isinstance(self.screen, (UnlockScreen, FirstRunScreen)):
            await self.switch_screen(CircleListScreen())
        else:
            await self.push_screen(CircleListScreen())
        if target is not None:
            self.open_circle(target)

    def open_circle(self, circle_id: str, *, replace: bool = False) -> None:
        """Open a circle; guidelines not yet accepted are asked for there (CircleScreen)."""
        assert self.service is not None  # circles open only after unlock
        self.service.remember_circle(circle_id)
        screen = CircleScreen(circle_id)
        if replace:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def open_join(self) -> None:
        self.push_screen(JoinScreen())

    def open_filters(self) -> None:
        def changed(yes: bool | None) -> None:
            if yes and self.current_circle:
                self.data_changed.publish(self.current_circle)  # the feed folds differently now

        self.push_screen(FiltersDialog(), changed)

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    # -- background news -----------------------------------------------------------------

    def on_store_changed(self, message: StoreChanged) -> None:
        self.announce_inbox(message.circle_id)
        self.data_changed.publish(message.circle_id)

    def announce_inbox(self, circle_id: str) -> None:
        """Tell the member, once per session, about inbox items they have not seen yet: a
        request to reach out or a moderators' warning is for now, not for the next visit."""
        assert self.service is not None  # announced only after unlock
        try:
            fresh = [i for i in self.service.unseen_inbox(circle_id) if i.id not in self._announced]
            if not fresh:
                return
            names = self.service.member_names(circle_id)
            circle = self.service.info(circle_id).name
        except CircleError:
            return  # a circle one cannot read now has nothing to announce
        self._announced |= {item.id for item in fresh}
        what = headline(fresh[0], names) if len(fresh) == 1 else f"{len(fresh)} new private messages"
        warning = any(item.kind == "warning" for item in fresh)
        where = f"The circle's Inbox tab has {'it' if len(fresh) == 1 else 'them'}."
        self.notify(f"{what} ({circle}). {where}", title="Inbox", severity="warning" if warning else "information",
                    timeout=30)

    def on_sync_progress(self, message: SyncProgress) -> None:
        self.network.record(message.event)
        self.network_changed.publish(message.event)

    def on_sync_problem(self, message: SyncProblem) -> None:
        self.network.problem(message.text)
        self.network_changed.publish(None)

    def on_relay_changed(self, message: RelayChanged) -> None:
        self.network.relay(message.circle_id, message.address, message.status)
        self.network_changed.publish(None)

    def on_listening_changed(self, message: ListeningChanged) -> None:
        self.network.listening = message.address
        self.network.discovery = message.discovery
        self.network_changed.publish(None)

    # -- help, network, palette -------------------------------------------------------------

    def help_sections(self) -> list[Section]:
        """The circle's own resources (the open circle's, else every circle's), then built-in ones."""
        sections: list[Section] = []
        if self.service is not None:
            try:
                ids = [self.current_circle] if self.current_circle else [c.id for c in self.service.circles()]
                for circle_id in ids:
                    info = self.service.info(circle_id)
                    if info.resources:
                        sections.append((f"From {info.name}", info.resources))
            except Exception:  # noqa: BLE001 - help must open whatever state the store is in
                pass
        region, how = region_from_locale(), "set CIRCLE_REGION to change"
        if self.service is not None:
            try:
                region, how = self.service.region(), "r changes it, or `circle region XX`"
            except Exception:  # noqa: BLE001 - as above: fall back to the locale
                pass
        if os.environ.get("CIRCLE_REGION"):
            how = "from CIRCLE_REGION"  # it wins over the saved setting
        sections.append((f"Built in for {region or 'every region'} ({how})", builtin_resources(region)))
        return sections

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
        else:
            self.push_screen(HelpScreen(self.help_sections()))

    def check_action(self, action: str, parameters) -> bool | None:
        if action in ("network", "settings") and self.service is None:
            return False  # nothing to show before unlock: hide the key
        return True

    def action_network(self) -> None:
        if not isinstance(self.screen, NetworkScreen):
            self.push_screen(NetworkScreen())

    def action_settings(self) -> None:
        if not isinstance(self.screen, SettingsScreen):
            self.push_screen(SettingsScreen())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield SystemCommand("Need help now?", "Crisis resources (F1)", self.action_help)
        if self.service is not None:
            yield SystemCommand("Network", "Where circle listens, peers, problems (F2)", self.action_network)
            yield SystemCommand("Settings", "Theme, keys, reminder, region, filters; the circle's (F3)",
                                self.action_settings)
            yield SystemCommand("Join a circle", "Paste an invite code", self.open_join)
            yield SystemCommand("Content filters", "Topics that stay folded for you (f in a circle)",
                                self.open_filters)
        yield SystemCommand("High-contrast theme", "Switch to the high-contrast theme",
                            lambda: setattr(self, "theme", "circle-high-contrast"))
        yield from super().get_system_commands(screen)


def run_app(
    service: Service | None = None,
    *,
    home: Path | None = None,
    settings: Settings | None = None,
    companion: Companion | None = None,
) -> int:
    """Run the app until the user quits; closes the service if the app opened it."""
    app = CircleApp(service, home=home, settings=settings, companion=companion)
    try:
        app.run()
    finally:
        if app.owns_service and app.service is not None:
            app.service.close()
    return app.return_code or 0
