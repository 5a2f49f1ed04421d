"""Answering the join requests newcomers left at a relay while no member was online.

Each time this device syncs a circle with a relay (service/relays.py) it lists
the circle's unanswered requests, opens each one whose join area belongs to an
invite in the log, and leaves the answer: the welcome (Admission.admit_request,
which never uses an invite twice for one device) or a sealed refusal saying why
(revoked, used up, expired, closed, a wrong proof, unreadable). A request this
device cannot judge is left for another member: one whose invite it does not
know yet, or any while it is not an active member holding the current key.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from circle.crypto.aead import SealError
from circle.crypto.relay_join import MAX_REASON_BYTES, REFUSAL, WELCOME, JoinArea, join_area
from circle.errors import CircleError
from circle.service.repository import CircleRepository
from circle.sync.mailbox import MailboxError
from circle.sync.relay_client import RelayMailbox
from circle.sync.relay_wire import JoinRequest

log = logging.getLogger("circle.sync")

Admit = Callable[[bytes, tuple[str, str]], bytes]  # (request, (circle, invite)) -> welcome


class RelayJoins:
    def __init__(self, repo: CircleRepository, admit: Admit) -> None:
        self.repo, self.admit = repo, admit

    def answer_waiting(self, mailbox: RelayMailbox, circle_id: str) -> int:
        """Answer what waits in the circle's join areas at `mailbox`'s relay; how many
        newcomers were admitted (their admissions still have to reach the relay)."""
        circle = self.repo.open(circle_id)
        if not circle.is_active_member() or circle.state.write_epoch not in circle.keys:
            return 0
        areas: dict[bytes, JoinArea] = {}
        for invite in circle.state.invites.values():
            known = join_area(bytes.fromhex(invite.key), circle_id, invite.id)
            areas[known.area_id] = known
        admitted = 0
        for pending in mailbox.join_requests():
            area = areas.get(pending.area_id)
            if area is None:
                continue  # an invite this device has not heard of yet
            kind, answer = self._answer(area, pending)
            try:
                mailbox.answer_join(pending.request_id, answer)
            except MailboxError as exc:
                if not str(exc).startswith("relay refused"):
                    raise
                log.warning("relay %s kept no answer to a join request: %s", mailbox.address, exc)
                continue
            admitted += kind == WELCOME
        return admitted

    def _answer(self, area: JoinArea, pending: JoinRequest) -> tuple[int, bytes]:
        try:
            request = area.open_request(pending.sealed)
        except SealError:
            return REFUSAL, area.seal_answer(pending.request_id, REFUSAL, b"the join request could not be read")
        try:
            welcome = self.admit(request, (area.circle_id, area.invite_id))
        except CircleError as exc:
            reason = str(exc).encode()[:MAX_REASON_BYTES]
            return REFUSAL, area.seal_answer(pending.request_id, REFUSAL, reason)
        return WELCOME, area.seal_answer(pending.request_id, WELCOME, welcome)

