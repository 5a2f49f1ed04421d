"""One circle: Feed, Check-ins, Events, Members, Guidelines and (for moderators) Moderation."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Header, TabbedContent, TabPane

from circle.errors import CircleError
from circle.service.core import MODERATING_ROLES
from circle.tui.base import Page
from circle.tui.checkin_dialog import CheckInDialog, CheckInDraft
from circle.tui.checkins_tab import CheckinsTab
from circle.tui.events_tab import EventsTab
from circle.tui.feed_tab import FeedTab
from circle.tui.guidelines_tab import GuidelinesTab
from circle.tui.members_tab import MembersTab
from circle.tui.mood_chart import MOOD_WORDS
from circle.tui.moderation_tab import ModerationTab

TABS = (
    ("feed", "1 Feed", FeedTab),
    ("checkins", "2 Check-ins", CheckinsTab),
    ("events", "3 Events", EventsTab),
    ("members", "4 Members", MembersTab),
    ("guidelines", "5 Guidelines", GuidelinesTab),
    ("moderation", "6 Moderation", ModerationTab),
)
WIDGETS = {tab_id: widget for tab_id, _, widget in TABS}


class CircleScreen(Page):
    BINDINGS = [
        Binding("escape", "back", "Circles", id="circle.back"),
        Binding("c", "checkin", "Check in", id="circle.checkin"),
        *(Binding(str(n), f"show_tab('{tab_id}')", label, show=False, id=f"circle.tab.{tab_id}")
          for n, (tab_id, label, _) in enumerate(TABS, 1)),
    ]

    def __init__(self, circle_id: str) -> None:
        super().__init__()
        self.circle_id = circle_id
        self._stale_tabs: set[str] = set()  # reloaded when next shown

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="feed"):
            for tab_id, label, widget in TABS:
                with TabPane(label, id=tab_id):
                    yield widget(self.circle_id, id=f"{tab_id}-tab")
        yield Footer()

    def on_mount(self) -> None:
        self.app.current_circle = self.circle_id
        self.reload()
        self.query_one(FeedTab).view.focus()

    def on_screen_resume(self) -> None:
        self.app.current_circle = self.circle_id

    def moderating(self) -> bool:
        return self.app.service.my_role(self.circle_id) in MODERATING_ROLES

    def reload(self) -> None:
        info = self.app.service.info(self.circle_id)
        self.title = info.name
        self.sub_title = self.app.network.summary(self.circle_id)
        tabs = self.query_one(TabbedContent)
        if self.moderating():
            tabs.show_tab("moderation")
        else:
            if tabs.active == "moderation":
                tabs.active = "feed"
            tabs.hide_tab("moderation")
        for tab_id, _, widget in TABS:
            if tab_id == tabs.active:
                self.query_one(widget).reload()
            else:
                self._stale_tabs.add(tab_id)  # only what is on screen is worked out now

    def on_data_changed(self, circle_id: str) -> None:
        if circle_id == self.circle_id:
            self.reload()

    def on_network_changed(self) -> None:
        self.sub_title = self.app.network.summary(self.circle_id)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        pane = event.pane
        if pane.id in self._stale_tabs:
            self._stale_tabs.discard(pane.id)
            self.query_one(WIDGETS[pane.id]).reload()
        target = pane.query_one(FeedTab).view if pane.id == "feed" else pane.children[0]
        focusable = target if target.can_focus else next(iter(target.query("DataTable")), None)
        if focusable is not None:
            focusable.focus()

    def action_show_tab(self, tab_id: str) -> None:
        if tab_id == "moderation" and not self.moderating():
            self.notify("Moderation is for organizers and moderators.", severity="warning")
            return
        self.query_one(TabbedContent).active = tab_id

    def action_back(self) -> None:
        self.app.current_circle = None
        self.dismiss()

    def action_checkin(self) -> None:
        name = self.app.service.info(self.circle_id).name

        def record(draft: CheckInDraft | None) -> None:
            if draft is None:
                return
            try:
                self.app.service.checkin(self.circle_id, draft.mood, note=draft.note, tags=draft.tags,
                                         private=draft.private)
            except CircleError as exc:
                self.notify(str(exc), severity="error")
                return
            where = "kept on this device" if draft.private else f"shared with {name}"
            self.notify(f"Checked in: {draft.mood} ({MOOD_WORDS[draft.mood]}), {where}.")
            self.reload()  # a private check-in is no store news: show it now

        self.app.push_screen(CheckInDialog(name), record)
