"""One circle: Feed, Check-ins, Events, Members, Guidelines, Inbox, Log and (for
moderators) Moderation; and, while this member has not accepted the guidelines in
force, a banner and a dialog asking them to."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Header, Static, TabbedContent, TabPane

from circle.domain.roles import MODERATING
from circle.errors import CircleError
from circle.tui.base import Page
from circle.tui.checkin_dialog import CheckInDialog, CheckInDraft
from circle.tui.checkins_tab import CheckinsTab
from circle.tui.events_tab import EventsTab
from circle.tui.feed_tab import FeedTab
from circle.tui.guidelines_dialog import GuidelinesDialog
from circle.tui.guidelines_tab import GuidelinesTab
from circle.tui.inbox_tab import InboxTab
from circle.tui.log_tab import LogTab
from circle.tui.members_tab import MembersTab
from circle.tui.mood_chart import MOOD_WORDS
from circle.tui.moderation_tab import ModerationTab
from circle.tui.plain import words

TABS = (
    ("feed", "Feed", FeedTab),
    ("checkins", "Check-ins", CheckinsTab),
    ("events", "Events", EventsTab),
    ("members", "Members", MembersTab),
    ("guidelines", "Guidelines", GuidelinesTab),
    ("inbox", "Inbox", InboxTab),
    ("log", "Log", LogTab),
    ("moderation", "Moderation", ModerationTab),  # last: members see 1-7 with no gap
)
WIDGETS = {tab_id: widget for tab_id, _, widget in TABS}
NUMBERS = {tab_id: n for n, (tab_id, _, _) in enumerate(TABS, 1)}


class CircleScreen(Page):
    BINDINGS = [
        Binding("escape", "back", "Circles", id="circle.back"),
        Binding("c", "checkin", "Check in", id="circle.checkin"),
        Binding("f", "filters", "Filters", show=False, id="circle.filters"),
        *(Binding(str(n), f"show_tab('{tab_id}')", label, show=False, id=f"circle.tab.{tab_id}")
          for n, (tab_id, label, _) in enumerate(TABS, 1)),
    ]

    def __init__(self, circle_id: str) -> None:
        super().__init__()
        self.circle_id = circle_id
        self._stale_tabs: set[str] = set()  # reloaded when next shown
        self._asked_version: int | None = None  # the guidelines version the dialog last asked about

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="guidelines-banner", markup=False)
        with TabbedContent(initial="feed"):
            for tab_id, label, widget in TABS:
                with TabPane(f"{NUMBERS[tab_id]} {label}", id=tab_id):
                    yield widget(self.circle_id, id=f"{tab_id}-tab")
        yield Footer()

    def on_mount(self) -> None:
        self.app.current_circle = self.circle_id
        self.reload()
        self.query_one(FeedTab).view.focus()

    def on_screen_resume(self) -> None:
        self.app.current_circle = self.circle_id

    def moderating(self) -> bool:
        return self.app.service.my_role(self.circle_id) in MODERATING

    def reload(self) -> None:
        service = self.app.service
        info = service.info(self.circle_id)
        self.title = words(info.name)
        self.sub_title = words(self.app.network.summary(self.circle_id), limit=120)
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
        unseen = len(service.unseen_inbox(self.circle_id))
        tabs.get_tab("inbox").label = f"{NUMBERS['inbox']} Inbox" + (f" ({unseen} new)" if unseen else "")
        self._check_guidelines()

    def _check_guidelines(self) -> None:
        """While the guidelines in force are not accepted: a banner, and the dialog once
        per version (so "Later" is not asked again at every change)."""
        service = self.app.service
        pending = service.guidelines_pending(self.circle_id)
        banner = self.query_one("#guidelines-banner", Static)
        banner.display = pending
        if not pending:
            return
        banner.update("Posting waits until you accept the circle's guidelines: "
                      f"read them in tab {NUMBERS['guidelines']} and press ctrl+a there.")
        version = service.guidelines_status(self.circle_id).version
        if version != self._asked_version and self.is_current:
            self._asked_version = version
            self.app.push_screen(GuidelinesDialog(self.circle_id), lambda _: self.reload())

    def on_data_changed(self, circle_id: str) -> None:
        if circle_id == self.circle_id:
            self.reload()

    def on_network_changed(self) -> None:
        self.sub_title = words(self.app.network.summary(self.circle_id), limit=120)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        pane = event.pane
        if pane.id == "inbox":  # the member is reading it: the notice has done its work
            self.app.clear_notifications()
        if pane.id in self._stale_tabs:
            self._stale_tabs.discard(pane.id)
            self.query_one(WIDGETS[pane.id]).reload()
            if pane.id == "inbox":  # showing it marked everything seen
                event.tabbed_content.get_tab("inbox").label = f"{NUMBERS['inbox']} Inbox"
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

    def action_filters(self) -> None:
        self.app.open_filters()

    def action_checkin(self) -> None:
        name = self.app.service.info(self.circle_id).name

        def record(draft: CheckInDraft | None) -> None:
            if draft is None:
                return
            try:
                checkin = self.app.service.checkin(self.circle_id, draft.mood, note=draft.note, tags=draft.tags,
                                                   share=draft.share)
            except CircleError as exc:
                self.notify(str(exc), severity="error")
                return
            where = {"circle": f"shared with {name}", "band": f"{name} sees \"{checkin.band_text}\"",
                     "me": "kept on this device"}[draft.share]
            self.notify(f"Checked in: {draft.mood} ({MOOD_WORDS[draft.mood]}), {where}.")
            self.reload()  # a private check-in is no store news: show it now

        self.app.push_screen(CheckInDialog(name), record)
