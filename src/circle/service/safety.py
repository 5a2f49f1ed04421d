"""Keeping a circle safe: reports and the moderation queue, private warnings,
"reach out to me", the moderation log, guideline acceptance, the report policy.

Reports, warnings and reach-outs are private notes (domain/governance/notes):
they travel in the governance log like everything else, but only their
recipients can open them. Reports and reach-outs are signed outside by a
one-time key, so other members see that something was sent, never by whom.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from circle.crypto.identity import DeviceIdentity
from circle.domain import views
from circle.domain.document import from_millis, to_millis
from circle.domain.governance.actions import sign_action
from circle.domain.governance.modlog import moderation_log
from circle.domain.governance.notes import Note, NoteError, open_note, seal_note
from circle.domain.governance.state import DeviceState, GovernanceState
from circle.domain.models import GuidelinesStatus, InboxItem, ModlogEntry, Report
from circle.domain.refs import resolve as resolve_ref
from circle.domain.roles import MODERATING, Evidence, ReportStatus
from circle.errors import InvalidInput, NotAllowed
from circle.service.content import Content
from circle.service.core import Clock, clean_text
from circle.service.membership import Membership
from circle.service.opened import OpenCircle
from circle.service.preferences import Preferences
from circle.service.repository import CircleRepository

log = logging.getLogger("circle.service")

Recipients = Callable[[GovernanceState], list[DeviceState]]


def _moderator_devices(state: GovernanceState) -> list[DeviceState]:
    return [d for d in state.active_devices() if state.role_of(d.member) in MODERATING]


def _devices_of(state: GovernanceState, *members: str) -> list[DeviceState]:
    return [d for d in state.active_devices() if d.member in members]


def _sealed(sender: DeviceIdentity, circle_id: str, envelope_key: str, kind: str, at: int, body: dict,
            devices: list[DeviceState]) -> dict:
    try:
        return seal_note(sender, circle_id, envelope_key, kind, at, body, [d.dh_pub for d in devices])
    except NoteError as exc:
        raise InvalidInput(f"cannot send this {kind.replace('_', '-')}: {exc}") from None


class Safety:
    def __init__(self, repo: CircleRepository, content: Content, membership: Membership, prefs: Preferences,
                 identity: DeviceIdentity, clock: Clock) -> None:
        self.repo, self.content, self.membership, self.prefs = repo, content, membership, prefs
        self.identity, self.clock = identity, clock

    def now_ms(self) -> int:
        return to_millis(self.clock())

    # -- private notes -------------------------------------------------------------

    def _notes(self, circle: OpenCircle) -> list[tuple[Note, str]]:
        """Every note in the log sealed to this device, with its sender's member id."""
        out = []
        for action_id in circle.state.notes:
            if action_id not in circle.opened_notes:
                try:
                    circle.opened_notes[action_id] = open_note(self.identity.dh_key,
                                                               circle.actions[action_id])
                except NoteError as exc:
                    log.warning("note %s in %s ignored: %s", action_id[:8], circle.id[:8], exc)
                    circle.opened_notes[action_id] = None
            note = circle.opened_notes[action_id]
            device = circle.state.devices.get(note.sender_device) if note else None
            if note is None or device is None:
                continue
            # A departed member's reports and reach-outs stop counting, like their
            # posts (old keys still let them add envelopes). A warning stays: the
            # log checked its author when it was made.
            if circle.actions[action_id].kind == "sealed" and not circle.state.role_of(device.member):
                continue
            out.append((note, device.member))
        return out

    def _send_note(self, circle_id: str, kind: str, body: dict, recipients: Recipients) -> str:
        """Seal a note to `recipients` (and this member's own devices) in an
        envelope signed by a one-time key; returns the envelope's id."""
        with self.repo.writing(circle_id, as_member=True) as circle:
            state, me = circle.state, circle.my_member_id or ""
            devices = recipients(state) + _devices_of(state, me)
            envelope, now = DeviceIdentity.generate(), self.now_ms()
            sealed = _sealed(self.identity, circle.id, envelope.public.sign_pub.hex(), kind, now,
                             body, devices)
            action = sign_action(envelope, circle.id, "sealed", state.parents(), now, sealed)
            self.repo.persist(circle, actions=[action])
        return action.id

    # -- reports ---------------------------------------------------------------------

    def report(self, circle_id: str, post_ref: str, reason: str) -> Report:
        """Report a post to the circle's moderators (they alone can read it)."""
        reason = clean_text(reason, "reason", 500)
        post = self.content.resolve_post(circle_id, post_ref)
        circle = self.repo.open(circle_id)
        if post.author_id == circle.my_member_id:
            raise InvalidInput("that is your own post: edit or delete it instead")
        if post.deleted:
            raise NotAllowed(f"post {post.id} was deleted by its author")
        if post.hidden:
            raise NotAllowed(f"post {post.id} is already hidden by moderators")
        body = {"post": post.id, "reason": reason, "body": post.body,
                "heads": [h.hex() for h in circle.document.heads()]}
        report_id = self._send_note(circle_id, "report", body, _moderator_devices)
        self.review_reports(circle_id)
        return next(r for r in self.reports(circle_id) if r.id == report_id)

    def reports(self, circle_id: str, *, evidence: bool = True) -> list[Report]:
        """Moderators: every report they can read. Members: their own. Oldest first.
        Without `evidence`, the reported text is not looked up (cheaper)."""
        circle = self.repo.open(circle_id)
        state, me = circle.state, circle.my_member_id or ""
        moderating = state.role_of(me) in MODERATING
        out = []
        for note, sender in self._notes(circle):
            if note.kind != "report" or not (moderating or sender == me):
                continue
            post_id = note.body["post"]
            if post_id in state.hidden:
                status = ReportStatus.HIDDEN
            elif note.envelope in state.dismissed or note.envelope in state.reviewed.get(post_id, ()):
                status = ReportStatus.DISMISSED  # closed without hiding, or seen by whoever last hid or unhid it
            elif post_id in state.collapsed:
                status = ReportStatus.COLLAPSED
            else:
                status = ReportStatus.OPEN
            text, author, checked = self._evidence(circle, note.body) if evidence else (None, None, Evidence.PENDING)
            out.append(Report(note.envelope, post_id, note.body["reason"], status, from_millis(note.at),
                              sender, text, author, checked))
        return sorted(out, key=lambda r: (r.created_at, r.id))

    @staticmethod
    def _evidence(circle: OpenCircle, body: dict) -> tuple[str | None, str | None, Evidence]:
        """The reported post as this device's own verified copy held it when the
        report was made: its text and author come from signed changes, not from
        what the reporter says."""
        heads = [bytes.fromhex(h) for h in body["heads"]]
        if not heads or not set(heads) <= circle.known_hashes():
            return None, None, Evidence.PENDING
        post = views.read_post(circle.document, circle.roster(), body["post"], heads)
        if post is None:
            return None, None, Evidence.MISMATCH
        return post.body, post.author_id, Evidence.VERIFIED if post.body == body["body"] else Evidence.MISMATCH

    def resolve_report(self, circle_id: str, ref: str) -> Report:
        reports = {r.id: r for r in self.reports(circle_id, evidence=False)}
        return reports[resolve_ref(ref, ((r.id, "") for r in reports.values()), "report")]

    def dismiss(self, circle_id: str, report_ref: str, reason: str = "") -> list[str]:
        """Close every open report on the reported post as needing no action
        (unfolding it); returns the reports dismissed."""
        reason = clean_text(reason, "reason", 500, allow_empty=True)
        report = self.resolve_report(circle_id, report_ref)
        same_post = [r.id for r in self.reports(circle_id, evidence=False)
                     if r.post_id == report.post_id and r.status in (ReportStatus.OPEN, ReportStatus.COLLAPSED)]
        if not same_post:
            raise NotAllowed(f"report {report.id[:8]} is already {report.status}")
        self.membership.act(circle_id, "dismiss", {"post": report.post_id, "reports": same_post, "reason": reason})
        return same_post

    def review_reports(self, circle_id: str) -> list[str]:
        """As a moderator's device: fold every post with at least the circle's
        threshold of open reports from different members; returns those posts.
        Runs when reports arrive, so a post is folded as soon as any moderator's
        device sees enough reports, with or without a person at it."""
        circle = self.repo.open(circle_id)
        state = circle.state
        if state.collapse_after == 0 or state.role_of(circle.my_member_id or "") not in MODERATING:
            return []
        counted: dict[str, dict[str, str]] = {}  # post -> reporter -> their first open report
        for report in self.reports(circle_id, evidence=False):
            if report.status == ReportStatus.OPEN and state.role_of(report.reporter_id):
                counted.setdefault(report.post_id, {}).setdefault(report.reporter_id, report.id)
        folded = []
        for post_id, by_reporter in sorted(counted.items()):
            if len(by_reporter) >= state.collapse_after:
                # Naming the reports lets a concurrent dismissal of them undo the fold.
                self.membership.act(circle_id, "collapse", {"post": post_id, "reports": sorted(by_reporter.values())})
                folded.append(post_id)
        return folded

    def set_report_policy(self, circle_id: str, collapse_after: int) -> None:
        """Organizers: fold a post for review after this many reports (0: never)."""
        if not 0 <= collapse_after <= 100:
            raise InvalidInput("reports before folding must be 0 (never) to 100")
        self.membership.act(circle_id, "set_policy", {"collapse_after": collapse_after})
        self.review_reports(circle_id)

    def report_policy(self, circle_id: str) -> int:
        return self.repo.open(circle_id).state.collapse_after

    # -- warnings and reach-outs -------------------------------------------------------

    def warn(self, circle_id: str, member_ref: str, reason: str) -> str:
        """Moderators: a private warning. The member and the moderators can read
        it; the moderation log shows everyone that a warning was sent."""
        reason = clean_text(reason, "reason", 2000)
        member = self.content.resolve_member(circle_id, member_ref)
        circle = self.repo.open(circle_id)
        me = circle.my_member_id or ""
        if member.id == me:
            raise InvalidInput("you cannot warn yourself")
        devices = _devices_of(circle.state, member.id, me) + _moderator_devices(circle.state)
        body = _sealed(self.identity, circle_id, self.identity.public.sign_pub.hex(), "warn",
                       self.now_ms(), {"member": member.id, "reason": reason}, devices)
        return self.membership.act(circle_id, "warn", body).id

    def reach_out(self, circle_id: str, member_refs: Iterable[str], note: str = "") -> str:
        """Ask chosen members to get in touch. Only they (and your own devices)
        can read it or tell who sent it."""
        note = clean_text(note, "note", 500, allow_empty=True)
        circle = self.repo.open(circle_id)
        me = circle.my_member_id or ""
        chosen = list(dict.fromkeys(self.content.resolve_member(circle_id, ref).id for ref in member_refs))
        if me in chosen:
            raise InvalidInput("choose members other than yourself")
        if not chosen:
            raise InvalidInput("choose at least one member to reach out to")
        return self._send_note(circle_id, "reach_out", {"note": note, "to": chosen},
                               lambda state: _devices_of(state, *chosen))

    def inbox(self, circle_id: str) -> list[InboxItem]:
        """Warnings to this member and requests to reach out, oldest first."""
        circle = self.repo.open(circle_id)
        me = circle.my_member_id or ""
        out = []
        for note, sender in self._notes(circle):
            at = from_millis(note.at)
            if note.kind == "warn" and note.body["member"] == me:
                out.append(InboxItem(note.envelope, "warning", sender, at, note.body["reason"]))
            elif note.kind == "reach_out" and sender != me and me in note.body["to"]:
                others = tuple(m for m in note.body["to"] if m != me)
                out.append(InboxItem(note.envelope, "reach_out", sender, at, note.body["note"], others))
        return sorted(out, key=lambda item: (item.created_at, item.id))

    def unseen_inbox(self, circle_id: str) -> list[InboxItem]:
        seen = set(self.prefs.get(circle_id, "inbox-seen") or ())
        return [item for item in self.inbox(circle_id) if item.id not in seen]

    def mark_inbox_seen(self, circle_id: str, item_ids: Iterable[str]) -> None:
        seen = set(self.prefs.get(circle_id, "inbox-seen") or ())
        fresh = set(item_ids) - seen
        if fresh:
            self.prefs.put(circle_id, "inbox-seen", sorted(seen | fresh))

    # -- the moderation log ------------------------------------------------------------

    def modlog(self, circle_id: str) -> list[ModlogEntry]:
        circle = self.repo.open(circle_id)
        warnings = {note.envelope: (note.body["member"], note.body["reason"])
                    for note, _ in self._notes(circle) if note.kind == "warn"}
        return moderation_log(circle.state, circle.actions, circle.tampered, self.content.member_names(circle_id),
                              warnings)

    # -- guidelines -------------------------------------------------------------------

    def guidelines_status(self, circle_id: str) -> GuidelinesStatus:
        circle = self.repo.open(circle_id)
        state, me = circle.state, circle.my_member_id or ""
        return GuidelinesStatus(state.guidelines_version, state.must_accept_guidelines(me), me in state.accepted)

    def guidelines_pending(self, circle_id: str) -> bool:
        """True while this member has not accepted the circle's current guidelines."""
        return self.guidelines_status(circle_id).pending

    def accept_guidelines(self, circle_id: str) -> int:
        """Accept the guidelines in force; returns their version."""
        state = self.repo.open(circle_id).state
        if state.guidelines_id is None:
            raise NotAllowed("this circle has no guidelines to accept yet")
        if self.guidelines_pending(circle_id):
            self.membership.act(circle_id, "accept_guidelines", {"version": state.guidelines_id})
        return state.guidelines_version

    def guideline_acceptance(self, circle_id: str) -> dict[str, bool]:
        """Active member -> whether they accepted the current guidelines."""
        state = self.repo.open(circle_id).state
        return {m.id: not state.must_accept_guidelines(m.id) for m in state.active_members()}
