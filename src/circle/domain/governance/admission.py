"""Who may come in: invites, link invites, readmit invites and admissions.

The rules (also in docs/governance.md, "Invites and admission"):

- An organizer's invite admits up to `uses` newcomers before it expires or is
  revoked. A link invite adds one more device to the active member who made it.
- A removal closes every invite in its causal past: the removed member may know
  any of those codes (the one they joined with, one shared in the circle), so
  none of them may bring anyone in after it. Invites made after seeing the
  removal are fresh decisions and stay open.
- A removed member comes back only through a readmit invite: an organizer's
  one-use invite naming that member, made with the removal in its causal past.
  Any other invite refuses them, so a removal cannot be undone by the person
  removed. A member who left chose to; any open invite brings them back.
- Every admission is signed by an active member who proves nothing about the
  newcomer except that the newcomer signed with the invite's key.
"""

from __future__ import annotations

from collections.abc import Callable

from circle.crypto.identity import DevicePublic, device_id_of
from circle.domain.governance.actions import Action, admit_proof_message
from circle.domain.governance.state import DeviceState, GovernanceState, Invalid, InviteState, MemberState
from circle.domain.roles import MemberStatus, Role

IsAncestor = Callable[[str], bool]


def invite(state: GovernanceState, action: Action, author: MemberState, is_ancestor: IsAncestor) -> None:
    body = action.body
    _new_invite(state, InviteState(body["invite"], body["key"], body["uses"], body["expires"], author.id,
                                   action=action.id))


def link_invite(state: GovernanceState, action: Action, author: MemberState, is_ancestor: IsAncestor) -> None:
    """A member invites another device of their own (one use)."""
    body = action.body
    _new_invite(state, InviteState(body["invite"], body["key"], 1, body["expires"], author.id,
                                   for_member=author.id, action=action.id))


def readmit_invite(state: GovernanceState, action: Action, author: MemberState, is_ancestor: IsAncestor) -> None:
    """An organizer's decision to bring back one removed member (one use)."""
    body = action.body
    member = state.members.get(body["member"])
    if member is None or member.status != MemberStatus.REMOVED:
        raise Invalid("a readmit invite names a removed member")
    if member.ended_by is None or not is_ancestor(member.ended_by):
        raise Invalid("a readmit invite must follow the removal it undoes")
    _new_invite(state, InviteState(body["invite"], body["key"], 1, body["expires"], author.id,
                                   readmit=member.id, action=action.id))


def _new_invite(state: GovernanceState, new: InviteState) -> None:
    if new.id in state.invites:
        raise Invalid("invite id already used")
    state.invites[new.id] = new


def revoke_invite(state: GovernanceState, action: Action, author: MemberState, is_ancestor: IsAncestor) -> None:
    found = state.invites.get(action.body["invite"])
    if found is None:
        raise Invalid("unknown invite")
    if author.role != Role.ORGANIZER and found.created_by != author.id:
        raise Invalid(f"a {author.role} may not revoke invite")  # only their own link codes
    found.revoked = True


def close_known_invites(state: GovernanceState, removed: MemberState, is_ancestor: IsAncestor) -> None:
    """At a removal: close every still-usable invite the removal's author had seen."""
    for known in state.invites.values():
        if usable(known) and is_ancestor(known.action):
            known.closed_by = removed.id


def usable(found: InviteState) -> bool:
    """Not revoked, closed or used up (expiry depends on when it is redeemed)."""
    return not found.revoked and found.closed_by is None and found.used < found.uses


def admit(state: GovernanceState, action: Action, author: MemberState, is_ancestor: IsAncestor) -> None:
    body = action.body
    found = state.invites.get(body["invite"])
    if found is None:
        raise Invalid("unknown invite")
    if found.revoked:
        raise Invalid("invite was revoked")
    if found.closed_by is not None:
        raise Invalid("invite was closed by a removal")
    if action.at > found.expires * 1000:
        raise Invalid("invite had expired")
    if found.used >= found.uses:
        raise Invalid("invite is used up")
    proof_ok = DevicePublic(bytes.fromhex(found.key), b"").verify(
        bytes.fromhex(body["proof"]),
        admit_proof_message(state.circle_id, found.id, body["device"]),
    )
    if not proof_ok:
        raise Invalid("newcomer did not prove they hold the invite")
    sign_pub = bytes.fromhex(body["device"]["sign"])
    device_id = device_id_of(sign_pub)
    existing = state.devices.get(device_id)
    member = state.members.get(body["member"])
    if found.for_member is not None:
        _link_device(state, action, found, member, existing, device_id, sign_pub)
        return
    if found.readmit is not None and body["member"] != found.readmit:
        raise Invalid("that readmit invite is for another member")
    if existing is None and member is None and body["member"] != device_id:
        raise Invalid("a new member's id is their first device's id")
    if existing is None and member is not None and found.readmit != member.id:
        raise Invalid("a new device joins an existing member only through a link or readmit invite")
    if member is not None:
        if member.status == MemberStatus.ACTIVE:
            raise Invalid("already a member")
        if member.status == MemberStatus.REMOVED and found.readmit != member.id:
            raise Invalid("a removed member comes back only through a readmit invite made for them")
        if member.ended_by is None or not is_ancestor(member.ended_by):
            raise Invalid("re-admission must follow the removal it undoes")
    if existing is not None and existing.member != body["member"]:
        raise Invalid("device belongs to another member")
    _check_lockboxes(state, body)
    found.used += 1
    if member is None:
        member = MemberState(body["member"], Role.MEMBER, MemberStatus.ACTIVE, state.next_rank)
        state.members[member.id] = member
    else:
        member.status, member.role, member.ended_by, member.rank = MemberStatus.ACTIVE, Role.MEMBER, None, state.next_rank
    state.next_rank += 1
    if existing is None:
        state.devices[device_id] = DeviceState(
            device_id, body["member"], sign_pub, bytes.fromhex(body["device"]["dh"]), action.id
        )
    else:
        existing.active, existing.admitted_by = True, action.id
        existing.incarnation += 1
    _keep_lockboxes(state, body, device_id)


def _link_device(state, action, found, member, existing, device_id: str, sign_pub: bytes) -> None:
    """Another device for a member who is already in (a link invite)."""
    body = action.body
    if body["member"] != found.for_member or member is None or member.status != MemberStatus.ACTIVE:
        raise Invalid("a link invite adds a device to the active member who made it")
    if existing is not None:
        raise Invalid("that device is already known to the circle")
    _check_lockboxes(state, body)
    found.used += 1
    state.devices[device_id] = DeviceState(
        device_id, member.id, sign_pub, bytes.fromhex(body["device"]["dh"]), action.id
    )
    _keep_lockboxes(state, body, device_id)


def _check_lockboxes(state: GovernanceState, body: dict) -> None:
    for epoch_id in body["lockboxes"]:
        if epoch_id not in state.epochs:
            raise Invalid("lockbox for an unknown epoch")


def _keep_lockboxes(state: GovernanceState, body: dict, device_id: str) -> None:
    for epoch_id, sealed in body["lockboxes"].items():
        state.extra_lockboxes[(epoch_id, device_id)] = sealed
