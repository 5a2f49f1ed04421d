"""Governance actions from this device: invites, roles, removal, moderation,
settings and crisis resources. Every one is signed here, checked against the
state it would produce (domain/governance/resolver.py), and only then stored."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives import serialization

from circle.crypto.invite_code import InviteCode, InviteCodeError, invite_key
from circle.crypto.identity import DeviceIdentity
from circle.domain.document import from_millis, to_millis
from circle.domain.governance.actions import Action, sign_action
from circle.domain.governance.admission import usable
from circle.domain.governance.keyring import rotation_body
from circle.domain.governance.state import InviteState
from circle.domain.models import CircleInfo, CrisisResource, Member
from circle.domain.refs import resolve as resolve_ref
from circle.domain.roles import MemberStatus, Role
from circle.domain.times import readable
from circle.errors import InvalidInput, NotAllowed, NotFound
from circle.service.content import Content
from circle.service.core import Clock, clean_text
from circle.service.opened import OpenCircle
from circle.service.repository import CircleRepository

MAX_INVITE_USES = 1000
MAX_INVITE_DAYS = 90


@dataclass(frozen=True)
class InviteInfo:
    id: str
    uses: int
    used: int
    expires_at: int
    revoked: bool
    created_by: str
    for_device: bool = False
    closed: bool = False  # by a removal: the member removed might know the code
    readmit: str | None = None  # the removed member it brings back

    @classmethod
    def of(cls, invite: InviteState) -> InviteInfo:
        return cls(invite.id, invite.uses, invite.used, invite.expires, invite.revoked, invite.created_by,
                   invite.for_member is not None, invite.closed_by is not None, invite.readmit)


class Membership:
    def __init__(self, repo: CircleRepository, content: Content, identity: DeviceIdentity, clock: Clock) -> None:
        self.repo, self.content, self.identity, self.clock = repo, content, identity, clock

    def now_ms(self) -> int:
        return to_millis(self.clock())

    def act(self, circle_id: str, kind: str, body: dict, *, rekey: bool = False) -> Action:
        """Sign, check and durably record a governance action.

        The action is checked against the state it would produce; if the rules
        refuse it, nothing is written and the reason is the error message. With
        `rekey`, a key rotation computed from that new state is recorded in the
        same transaction, so a removal never lands without its rotation.
        """
        with self.repo.writing(circle_id, as_member=True) as circle:
            action = self._sign(circle, kind, body, circle.state.parents())
            state = circle.resolve_with(action)
            verdict = next(entry for entry in state.log if entry.action.id == action.id)
            if not verdict.valid:
                raise NotAllowed(f"refused: {verdict.reason}")
            actions = [action]
            if rekey:
                rotation, _ = rotation_body(state, circle.keys)
                actions.append(self._sign(circle, "rotate", rotation, state.parents()))
            self.repo.persist(circle, actions=actions)
        return action

    def _sign(self, circle: OpenCircle, kind: str, body: dict, parents: list[str]) -> Action:
        return sign_action(self.identity, circle.id, kind, parents, self.now_ms(), body)

    def rotate_key(self, circle_id: str) -> str:
        """Give every active device a fresh epoch key; returns the epoch id."""
        circle = self.repo.open(circle_id)
        body, _ = rotation_body(circle.state, circle.keys)
        self.act(circle_id, "rotate", body)
        return body["epoch"]

    def heal_keys(self, circle_id: str) -> bool:
        """Rotate if governance says the current key is stale and we may rotate.

        Only the most senior organizer mends what stops nobody reading or
        writing (two key chains): two organizers healing at once would each
        start a chain, see the other's, and heal again forever."""
        circle = self.repo.open(circle_id)
        state, me = circle.state, circle.my_member_id or ""
        if not state.needs_rekey or state.role_of(me) != Role.ORGANIZER:
            return False
        active = {device.id for device in state.active_devices()}
        stuck = state.write_epoch is None or state.holders(state.write_epoch) != active
        if not stuck and me != min(state.organizers(), key=lambda m: m.rank).id:
            return False
        self.rotate_key(circle_id)
        return True

    # -- invites ----------------------------------------------------------------

    def invite(self, circle_id: str, *, uses: int = 1, expires_in: timedelta = timedelta(days=7),
               hints: tuple[str, ...] = (), device: bool = False, readmit: str | None = None,
               relays: tuple[str, ...] | None = None) -> str:
        """An invite code; with `device`, one that adds another device of yours;
        with `readmit`, one that brings back that removed member (organizers).
        It names `relays` for joining while no member is online (by default every
        relay the circle lists)."""
        if readmit is not None and (device or uses != 1):
            raise InvalidInput("a readmit code brings back one member and is used once")
        readmitted = self._removed_member(circle_id, readmit) if readmit is not None else None
        if not 1 <= uses <= MAX_INVITE_USES:
            raise InvalidInput(f"uses must be 1 to {MAX_INVITE_USES}")
        if device and uses != 1:
            raise InvalidInput("a device link code is for one device")
        if not timedelta(minutes=1) <= expires_in <= timedelta(days=MAX_INVITE_DAYS):
            raise InvalidInput(f"an invite must expire within 1 minute to {MAX_INVITE_DAYS} days")
        secret, invite_id = secrets.token_bytes(32), secrets.token_hex(8)
        expires = int((self.clock() + expires_in).timestamp())
        public = invite_key(secret, circle_id, invite_id).public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        try:  # encode first: a code that cannot be printed must not be recorded
            if relays is None:
                relays = tuple(address for address, _ in self.repo.open(circle_id).state.relays)
            code = InviteCode(circle_id, invite_id, secret, expires, hints, relays).encode()
        except InviteCodeError as exc:
            raise InvalidInput(str(exc)) from None
        if device:
            self.act(circle_id, "link_invite", {"invite": invite_id, "key": public.hex(), "expires": expires})
        elif readmitted is not None:
            self.act(circle_id, "readmit_invite", {"invite": invite_id, "key": public.hex(),
                                                    "member": readmitted.id, "expires": expires})
        else:
            self.act(circle_id, "invite", {"invite": invite_id, "key": public.hex(), "uses": uses,
                                            "expires": expires})
        return code

    def _removed_member(self, circle_id: str, ref: str) -> Member:
        everyone = self.content.members(circle_id, include_departed=True)
        removed = [m for m in everyone if m.status == MemberStatus.REMOVED]
        if not removed:
            raise NotFound("no member of this circle has been removed")
        found = {m.id: m for m in removed}
        return found[resolve_ref(ref, ((m.id, m.name) for m in removed), "removed member")]

    def invites(self, circle_id: str) -> list[InviteInfo]:
        return [InviteInfo.of(i) for i in self.repo.open(circle_id).state.invites.values()]

    def revoke_invite(self, circle_id: str, ref: str) -> InviteInfo:
        invites = self.repo.open(circle_id).state.invites
        invite_id = resolve_ref(ref, ((i, "") for i in invites), "invite")
        self.act(circle_id, "revoke_invite", {"invite": invite_id})
        return InviteInfo.of(self.repo.open(circle_id).state.invites[invite_id])

    # -- roles and membership ------------------------------------------------------

    def set_role(self, circle_id: str, member_ref: str, role: str) -> None:
        member = self.content.resolve_member(circle_id, member_ref)
        self.act(circle_id, "set_role", {"member": member.id, "role": role})

    def _cutoffs(self, circle: OpenCircle, member_id: str) -> dict[str, int]:
        """The last op of each of the member's actors that this device has seen."""
        actors = {
            actor for actor, member in circle.state.actor_bindings().items() if member == member_id
        }
        seen: dict[bytes, int] = {}
        for change in circle.document.doc.get_changes([]):
            if change.actor_id in actors:
                seen[change.actor_id] = max(seen.get(change.actor_id, 0), change.max_op)
        return {actor.hex(): seen.get(actor, 0) for actor in actors}

    def remove(self, circle_id: str, member_ref: str, reason: str = "") -> int:
        """Remove a member and rotate the key so they read nothing written after.
        Returns how many open invites the removal closed (see admission.py)."""
        reason = clean_text(reason, "reason", 500, allow_empty=True)
        member = self.content.resolve_member(circle_id, member_ref)
        circle = self.repo.open(circle_id)
        cutoffs = self._cutoffs(circle, member.id)
        before = sum(1 for i in circle.state.invites.values() if usable(i))
        self.act(circle_id, "remove", {"member": member.id, "cutoffs": cutoffs, "reason": reason}, rekey=True)
        after = sum(1 for i in self.repo.open(circle_id).state.invites.values() if usable(i))
        return before - after

    def leave(self, circle_id: str) -> None:
        circle = self.repo.open(circle_id)
        self.act(circle_id, "leave", {"cutoffs": self._cutoffs(circle, circle.my_member_id or "")})

    # -- moderation ---------------------------------------------------------------

    def hide(self, circle_id: str, post_ref: str, reason: str) -> None:
        post = self.content.resolve_post(circle_id, post_ref)
        self.act(circle_id, "hide", {"post": post.id, "reason": clean_text(reason, "reason", 500)})

    def unhide(self, circle_id: str, post_ref: str) -> None:
        post = self.content.resolve_post(circle_id, post_ref)
        self.act(circle_id, "unhide", {"post": post.id})

    def mute(self, circle_id: str, member_ref: str, duration: timedelta, reason: str = "") -> int:
        if not timedelta(minutes=1) <= duration <= timedelta(days=365):
            raise InvalidInput("a mute lasts between 1 minute and 365 days")
        reason = clean_text(reason, "reason", 500, allow_empty=True)
        member = self.content.resolve_member(circle_id, member_ref)
        until = self.now_ms() + int(duration.total_seconds() * 1000)
        self.act(circle_id, "mute", {"member": member.id, "until": until, "reason": reason})
        return until

    def unmute(self, circle_id: str, member_ref: str) -> None:
        """End a member's mute now (a mute whose end is its start)."""
        member = self.content.resolve_member(circle_id, member_ref)
        if member.id not in self.muted(circle_id):
            raise NotAllowed(f"{member.name} is not muted")
        self.act(circle_id, "mute", {"member": member.id, "until": self.now_ms(), "reason": ""})

    def muted(self, circle_id: str) -> dict[str, datetime]:
        """Members muted right now, and until when."""
        now = self.now_ms()
        mutes = self.repo.open(circle_id).state.mutes
        return {member: from_millis(until) for member, (_, until) in mutes.items() if until > now}

    # -- circle settings ------------------------------------------------------------

    def set_guidelines(self, circle_id: str, text: str) -> CircleInfo:
        self.act(circle_id, "set_guidelines", {"text": clean_text(text, "guidelines", 20_000)})
        return self.content.info(circle_id)

    # -- crisis resources, by id (rules: domain/governance/resources.py) -------------

    def add_resource(self, circle_id: str, resource: CrisisResource) -> CircleInfo:
        self.act(circle_id, "add_resource", _resource_body(resource))
        return self.content.info(circle_id)

    def resolve_resource(self, circle_id: str, ref: str) -> CrisisResource:
        """The circle's own resource whose id is `ref` or starts with it (unique, 4+ digits)."""
        listed = {r.id: r for r in self.repo.open(circle_id).state.resources}
        return listed[resolve_ref(ref, ((rid, rid) for rid in listed), "resource")]

    def edit_resource(self, circle_id: str, ref: str, *, name: str | None = None, contact: str | None = None,
                      region: str | None = None, hours: str | None = None) -> CircleInfo:
        """Replace a resource's fields; a field left None keeps its current value."""
        current = self.resolve_resource(circle_id, ref)
        changed = CrisisResource(
            current.name if name is None else name, current.contact if contact is None else contact,
            current.region if region is None else region, current.hours if hours is None else hours,
        )
        self.act(circle_id, "edit_resource", {"resource": current.id, **_resource_body(changed)})
        return self.content.info(circle_id)

    def remove_resource(self, circle_id: str, ref: str) -> CircleInfo:
        current = self.resolve_resource(circle_id, ref)
        self.act(circle_id, "remove_resource", {"resource": current.id})
        return self.content.info(circle_id)


def _resource_body(resource: CrisisResource) -> dict:
    return {
        "name": clean_text(resource.name, "resource name"),
        "contact": clean_text(resource.contact, "resource contact"),
        "region": clean_text(resource.region, "region", allow_empty=True),
        "hours": clean_text(resource.hours, "hours", allow_empty=True),
    }

def describe_expiry(expires_at: int) -> str:
    return readable(from_millis(expires_at * 1000))
