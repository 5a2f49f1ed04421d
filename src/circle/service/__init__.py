"""The service layer: what the CLI and the TUI call, one `Service` per unlocked profile.

`Service` is a facade. It builds the parts below once, wires them with explicit
references, and forwards each public method to the one part that holds it:

    repo        repository.py   open circles, the write lock, sealing and storing, private records
    prefs       preferences.py  this device's own settings and read marks
    content     content.py      posts, replies, reactions, names; info and roster as seen here
    calendar    events.py       events: planning, editing, cancelling, answering
    mood        checkins.py     mood check-ins, shared in full, as a band, or kept here
    catalog     circles.py      creating, renaming, listing and finding circles
    membership  membership.py   governance actions: invites, roles, removal, moderation, resources
    safety      safety.py       reports, warnings, reach-outs, the moderation log, guidelines
    exchange    exchange.py     bundles to and from other devices (checks in verify.py)
    admission   admission.py    joining with an invite code, both sides
    relaying    relays.py       the circle's relays: listing, registering, syncing through them
                relay_joins.py  (its part) answering join requests newcomers left at a relay
    finder      search.py       full-text search over what this reader may see
    quiet       quiet.py        posts waiting for a reply, and the circle's threshold for that
    polling     polls.py        polls: asking, voting, closing, results
    peer_book   peer_book.py    peers added and forgotten by hand

What runs when others' governance actions arrive is written once, in
`Service._after_new_actions`, and handed to the exchange.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from circle.domain.document import CircleDocument, to_millis
from circle.profile import Profile
from circle.service.admission import Admission
from circle.service.checkins import CheckIns
from circle.service.circles import Circles
from circle.service.content import Content
from circle.service.core import CircleSummary, Clock, IdSource, WhoAmI, clean_text, random_id, utc_now
from circle.service.events import Events
from circle.service.exchange import Exchange, PeerInfo, Received
from circle.service.mailbox_sync import MailboxReport, MailboxSync
from circle.service.membership import InviteInfo, Membership
from circle.service.opened import OpenCircle
from circle.service.peer_book import PeerBook
from circle.service.polls import Polls
from circle.service.preferences import Preferences
from circle.service.quiet import Quiet
from circle.service.repository import COMPACT_AFTER_CHANGES, CircleRepository
from circle.service.relay_joins import RelayJoins
from circle.service.relays import RelayInfo, RelayResult, Relays
from circle.service.safety import Safety
from circle.service.search import Search, SearchHit, SearchResult
from circle.service.verify import BundleRejected
from circle.sync.mailbox import Mailbox

P = ParamSpec("P")
R = TypeVar("R")


class _Forward(Generic[P, R]):
    """`Service.post = _Forward("content", Content.post)`: on an instance, the
    bound method of that part; on the class, the part's function (so signatures
    read as the part's own, e.g. for the SyncHost check)."""

    def __init__(self, part: str, method: Callable[Concatenate[Any, P], R]) -> None:
        self.part, self.method = part, method

    @overload
    def __get__(self, obj: None, owner: type) -> Callable[Concatenate[Any, P], R]: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> Callable[P, R]: ...
    def __get__(self, obj, owner=None):
        if obj is None:
            return self.method
        return getattr(getattr(obj, self.part), self.method.__name__)


class Service:
    """One unlocked profile: its circles, their content, governance, safety
    tools, exchange and this device's own preferences."""

    def __init__(self, profile: Profile, *, clock: Clock = utc_now, new_id: IdSource = random_id) -> None:
        self.profile, self.clock, self.new_id = profile, clock, new_id
        identity = profile.identity
        self.repo = CircleRepository(profile)
        self.prefs = Preferences(self.repo)
        self.content = Content(self.repo, self.prefs, clock, new_id)
        self.calendar = Events(self.repo, clock, new_id)
        self.mood = CheckIns(self.repo, self.prefs, profile.member_id, clock, new_id)
        self.catalog = Circles(self.repo, self.content, identity, profile.member_id, profile.name, clock)
        self.membership = Membership(self.repo, self.content, identity, clock)
        self.safety = Safety(self.repo, self.content, self.membership, self.prefs, identity, clock)
        self.exchange = Exchange(self.repo, self.content, identity, clock, self._after_new_actions)
        self.admission = Admission(self.repo, self.exchange, self.membership, identity, profile.name, clock)
        joins = RelayJoins(self.repo, lambda request, area: self.admission.admit_request(request, area=area))
        self.relaying = Relays(self.repo, self.membership, identity,
                               lambda mailbox, circles: MailboxSync(self).run(mailbox, circles), joins)
        self.finder = Search(self.repo, self.content, self.prefs)
        self.quiet = Quiet(self.repo, self.content, self.membership, clock)
        self.polling = Polls(self.repo, self.content, clock, new_id)
        self.peer_book = PeerBook(self.prefs, self.exchange)

    def _after_new_actions(self, circle_id: str) -> None:
        """What this device does when others' governance actions arrive: mend a
        stale key first (a removal's rotation), then fold posts reported enough."""
        self.membership.heal_keys(circle_id)
        self.safety.review_reports(circle_id)

    # -- the profile ------------------------------------------------------------------

    @classmethod
    def create_profile(cls, home: Path, name: str, passphrase: str, *, clock: Clock = utc_now,
                       new_id: IdSource = random_id) -> Service:
        name = clean_text(name, "name", 80)
        return cls(Profile.create(home, name, passphrase, clock()), clock=clock, new_id=new_id)

    @classmethod
    def unlock(cls, home: Path, passphrase: str, *, clock: Clock = utc_now, new_id: IdSource = random_id) -> Service:
        return cls(Profile.unlock(home, passphrase), clock=clock, new_id=new_id)

    def close(self) -> None:
        self.profile.close()

    def whoami(self) -> WhoAmI:
        p = self.profile
        return WhoAmI(p.member_id, p.identity.device_id, p.name, p.home)

    def now_ms(self) -> int:
        return to_millis(self.clock())

    def static_key(self) -> X25519PrivateKey:
        """This device's X25519 private key, for the Noise sessions of sync/ (no front end sees it)."""
        return self.profile.identity.dh_key

    def sync_folder(self, folder: Mailbox) -> MailboxReport:
        """One run over a shared folder (a FolderMailbox), or any other mailbox:
        see service/mailbox_sync.py."""
        return MailboxSync(self).run(folder)

    def write_many(self, circle_id: str, writes: Iterable[Callable[[CircleDocument], list[bytes]]]) -> list[bytes]:
        """Many writes made durable in one transaction: for generating large circles (bench/)."""
        return self.repo.write(circle_id, *writes)

    def open_circle(self, circle_id: str) -> OpenCircle:
        return self.repo.open(circle_id)

    subscribe = _Forward("repo", CircleRepository.subscribe)
    refresh = _Forward("repo", CircleRepository.refresh)
    refresh_all = _Forward("repo", CircleRepository.refresh_all)

    # -- circles and what members write -------------------------------------------------

    create_circle = _Forward("catalog", Circles.create_circle)
    set_circle_details = _Forward("catalog", Circles.set_circle_details)
    circles = _Forward("catalog", Circles.circles)
    resolve_circle = _Forward("catalog", Circles.resolve_circle)

    info = _Forward("content", Content.info)
    members = _Forward("content", Content.members)
    member_names = _Forward("content", Content.member_names)
    my_role = _Forward("content", Content.my_role)
    last_seen = _Forward("content", Content.last_seen)
    resolve_member = _Forward("content", Content.resolve_member)
    rename = _Forward("content", Content.rename)
    feed = _Forward("content", Content.feed)
    unread_count = _Forward("content", Content.unread_count)
    resolve_post = _Forward("content", Content.resolve_post)
    post = _Forward("content", Content.post)
    edit = _Forward("content", Content.edit)
    delete = _Forward("content", Content.delete)
    react = _Forward("content", Content.react)
    events = _Forward("calendar", Events.events)
    resolve_event = _Forward("calendar", Events.resolve_event)
    local_zone = _Forward("calendar", Events.local_zone)
    add_event = _Forward("calendar", Events.add_event)
    edit_event = _Forward("calendar", Events.edit_event)
    cancel_event = _Forward("calendar", Events.cancel_event)
    rsvp = _Forward("calendar", Events.rsvp)

    checkin = _Forward("mood", CheckIns.checkin)
    checkins = _Forward("mood", CheckIns.checkins)
    my_checkins = _Forward("mood", CheckIns.my_checkins)

    quiet_posts = _Forward("quiet", Quiet.quiet_posts)
    quiet_after = _Forward("quiet", Quiet.quiet_after)
    set_quiet_after = _Forward("quiet", Quiet.set_quiet_after)

    polls = _Forward("polling", Polls.polls)
    resolve_poll = _Forward("polling", Polls.resolve_poll)
    create_poll = _Forward("polling", Polls.create_poll)
    vote = _Forward("polling", Polls.vote)
    close_poll = _Forward("polling", Polls.close_poll)

    search = _Forward("finder", Search.search)
    search_all = _Forward("finder", Search.search_all)

    # -- this device's preferences ------------------------------------------------------

    last_circle = _Forward("prefs", Preferences.last_circle)
    remember_circle = _Forward("prefs", Preferences.remember_circle)
    seen_posts = _Forward("prefs", Preferences.seen_posts)
    mark_seen = _Forward("prefs", Preferences.mark_seen)
    cw_filters = _Forward("prefs", Preferences.cw_filters)
    set_cw_filters = _Forward("prefs", Preferences.set_cw_filters)
    region = _Forward("prefs", Preferences.region)
    set_region = _Forward("prefs", Preferences.set_region)
    checkin_reminder = _Forward("prefs", Preferences.checkin_reminder)
    set_checkin_reminder = _Forward("prefs", Preferences.set_checkin_reminder)
    checkin_reminder_due = _Forward("mood", CheckIns.checkin_reminder_due)

    # -- governance -----------------------------------------------------------------------

    rotate_key = _Forward("membership", Membership.rotate_key)
    heal_keys = _Forward("membership", Membership.heal_keys)
    invite = _Forward("membership", Membership.invite)
    invites = _Forward("membership", Membership.invites)
    revoke_invite = _Forward("membership", Membership.revoke_invite)
    set_role = _Forward("membership", Membership.set_role)
    remove = _Forward("membership", Membership.remove)
    leave = _Forward("membership", Membership.leave)
    hide = _Forward("membership", Membership.hide)
    unhide = _Forward("membership", Membership.unhide)
    mute = _Forward("membership", Membership.mute)
    unmute = _Forward("membership", Membership.unmute)
    muted = _Forward("membership", Membership.muted)
    set_guidelines = _Forward("membership", Membership.set_guidelines)
    add_resource = _Forward("membership", Membership.add_resource)
    resolve_resource = _Forward("membership", Membership.resolve_resource)
    edit_resource = _Forward("membership", Membership.edit_resource)
    remove_resource = _Forward("membership", Membership.remove_resource)

    # -- safety ---------------------------------------------------------------------------

    report = _Forward("safety", Safety.report)
    reports = _Forward("safety", Safety.reports)
    resolve_report = _Forward("safety", Safety.resolve_report)
    dismiss = _Forward("safety", Safety.dismiss)
    review_reports = _Forward("safety", Safety.review_reports)
    set_report_policy = _Forward("safety", Safety.set_report_policy)
    report_policy = _Forward("safety", Safety.report_policy)
    warn = _Forward("safety", Safety.warn)
    reach_out = _Forward("safety", Safety.reach_out)
    inbox = _Forward("safety", Safety.inbox)
    unseen_inbox = _Forward("safety", Safety.unseen_inbox)
    mark_inbox_seen = _Forward("safety", Safety.mark_inbox_seen)
    modlog = _Forward("safety", Safety.modlog)
    guidelines_status = _Forward("safety", Safety.guidelines_status)
    guidelines_pending = _Forward("safety", Safety.guidelines_pending)
    accept_guidelines = _Forward("safety", Safety.accept_guidelines)
    guideline_acceptance = _Forward("safety", Safety.guideline_acceptance)

    # -- exchange and joining ----------------------------------------------------------------

    delta_for = _Forward("exchange", Exchange.delta_for)
    bundle_for = _Forward("exchange", Exchange.bundle_for)
    leave_delivered = _Forward("exchange", Exchange.leave_delivered)
    sync_state = _Forward("exchange", Exchange.sync_state)
    note_peer = _Forward("exchange", Exchange.note_peer)
    known_addresses = _Forward("peer_book", PeerBook.known_addresses)
    added_peers = _Forward("peer_book", PeerBook.added_peers)
    add_peer = _Forward("peer_book", PeerBook.add_peer)
    forget_peer = _Forward("peer_book", PeerBook.forget_peer)
    peers = _Forward("exchange", Exchange.peers)
    discovery_tags = _Forward("exchange", Exchange.discovery_tags)
    shared_circles = _Forward("exchange", Exchange.shared_circles)
    receive_bundle = _Forward("exchange", Exchange.receive_bundle)

    relays = _Forward("relaying", Relays.relays)
    add_relay = _Forward("relaying", Relays.add_relay)
    remove_relay = _Forward("relaying", Relays.remove_relay)
    sync_relays = _Forward("relaying", Relays.sync_relays)
    relay_addresses = _Forward("relaying", Relays.relay_addresses)

    join_request = _Forward("admission", Admission.join_request)
    accept_welcome = _Forward("admission", Admission.accept_welcome)
    admit_request = _Forward("admission", Admission.admit_request)


__all__ = [
    "COMPACT_AFTER_CHANGES", "BundleRejected", "CircleSummary", "InviteInfo", "PeerInfo", "Received",
    "RelayInfo", "RelayResult", "SearchHit", "SearchResult", "Service", "WhoAmI", "clean_text",
]
