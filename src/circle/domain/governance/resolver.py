"""Computing the governance state from a set of actions, identically on every peer.

The rules (also in docs/governance.md):

1. Only actions whose every ancestor is present are applied; others wait.
2. Linearize the DAG: repeatedly take, among actions whose parents are all
   applied, the one whose author is most senior (earliest admitted, the founder
   first), ties broken by action id. Same set of actions -> same order, whatever
   order they arrived in.
3. Apply in that order. An action counts only if, at its position:
   - its author's device is active, its member active, and the device's
     admission is in the action's causal past (no acting on an admission one has
     not seen);
   - its author has the role the kind needs (see `_NEEDS`);
   - its kind-specific checks pass (below, and in admission.py, moderation.py
     and resources.py).
   A role change or moderation action concurrent with its author's removal
   counts only if it sorts first.
4a. Two concurrent removals of each other's authors (mutual removal): the
   junior author's removal is overruled and the log linearized again, so the
   senior organizer wins whatever else either removal depends on.
4. Content of a departed member counts up to the cutoff the remove/leave action
   recorded (the last op of each of their actors its author had seen); a post
   concurrent with its author's removal is therefore dropped by everyone.
5. A removal closes every invite in its causal past, and a removed member comes
   back only through a readmit invite an organizer made for them after seeing
   the removal (admission.py); the device then writes as a fresh actor (its
   incarnation), so the cutoff on its old actor stays.
6. The last organizer cannot be removed or demoted; if they leave, the most
   senior remaining member becomes organizer.
7. Concurrent rotations both count; new content uses the newest epoch whose key
   no departed device holds, and organizers rotate again while `needs_rekey`
   (any organizer while some active device lacks a usable key, otherwise only
   the most senior, so two organizers never keep healing each other's chains).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from circle.crypto.identity import actor_id_for
from circle.domain.governance import admission, moderation, resources
from circle.domain.governance.actions import Action
from circle.domain.governance.state import (
    DeviceState,
    EpochState,
    GovernanceState,
    Invalid,
    LogEntry,
    MemberState,
    active_target,
)
from circle.domain.roles import MemberStatus, Role

UNRANKED = 1 << 60

_NEEDS = {
    "invite": {Role.ORGANIZER},
    "link_invite": {Role.ORGANIZER, Role.MODERATOR, Role.MEMBER},
    "readmit_invite": {Role.ORGANIZER},
    "revoke_invite": {Role.ORGANIZER, Role.MODERATOR, Role.MEMBER},
    "set_role": {Role.ORGANIZER},
    "remove": {Role.ORGANIZER},
    "rotate": {Role.ORGANIZER},
    "set_guidelines": {Role.ORGANIZER},
    "set_resources": {Role.ORGANIZER},
    "hide": {Role.ORGANIZER, Role.MODERATOR},
    "unhide": {Role.ORGANIZER, Role.MODERATOR},
    "mute": {Role.ORGANIZER, Role.MODERATOR},
    "warn": {Role.ORGANIZER, Role.MODERATOR},
    "collapse": {Role.ORGANIZER, Role.MODERATOR},
    "dismiss": {Role.ORGANIZER, Role.MODERATOR},
    "set_policy": {Role.ORGANIZER},
    "set_relays": {Role.ORGANIZER},
    "set_quiet_after": {Role.ORGANIZER},
    "accept_guidelines": {Role.ORGANIZER, Role.MODERATOR, Role.MEMBER},
    "admit": {Role.ORGANIZER, Role.MODERATOR, Role.MEMBER},
    "leave": {Role.ORGANIZER, Role.MODERATOR, Role.MEMBER},
    # crisis resources by id (resources.py)
    "add_resource": {Role.ORGANIZER},
    "edit_resource": {Role.ORGANIZER},
    "remove_resource": {Role.ORGANIZER},
}

IsAncestor = Callable[[str], bool]


def resolve(circle_id: str, actions: Iterable[Action]) -> GovernanceState:
    pool: dict[str, Action] = {}
    for action in actions:
        if action.kind == "create" and action.id[:32] == circle_id:
            pool[action.id] = action
        elif action.kind != "create" and action.circle == circle_id:
            pool[action.id] = action
    overruled: dict[str, str] = {}
    while True:
        state, ancestors, position = _linearize(circle_id, pool, overruled)
        more = _mutual_removals(state, pool, ancestors, position, overruled)
        if not more:
            return state
        overruled.update(more)


def _mutual_removals(state, pool, ancestors, position, overruled) -> dict[str, str]:
    """Concurrent removals of each other's authors: the junior author's loses.

    Linearization alone cannot promise this (the senior's removal may wait on
    an unrelated parent while the junior's is ready), so it is decided here and
    the log is linearized again with the loser overruled.
    """
    def member_of(action: Action) -> str | None:
        device = state.devices.get(action.author_device)
        return device.member if device else None

    def concurrent(a: str, b: str) -> bool:
        return not (ancestors[a] >> position[b] & 1) and not (ancestors[b] >> position[a] & 1)

    removals = [pool[a] for a in position if pool[a].kind == "remove" and a not in overruled]
    out: dict[str, str] = {}
    for first in removals:
        for second in removals:
            if first.id >= second.id or not concurrent(first.id, second.id):
                continue
            a, b = member_of(first), member_of(second)
            if a is None or b is None or first.body["member"] != b or second.body["member"] != a:
                continue
            ranks = state.members[a].rank, state.members[b].rank
            loser = second if ranks[0] < ranks[1] else first
            out[loser.id] = "lost a concurrent mutual removal to a more senior organizer"
    return out


def _linearize(circle_id: str, pool: dict[str, Action], overruled: dict[str, str]):
    """Apply the pool in seniority order; returns the state and the ancestry
    (a bitmask over linearized positions) of every applied action."""
    children: dict[str, list[str]] = defaultdict(list)
    waiting: dict[str, int] = {}
    for action in pool.values():
        waiting[action.id] = len(action.parents)
        for parent in action.parents:
            children[parent].append(action.id)
    ready = [a for a in pool.values() if not a.parents]

    state = GovernanceState(circle_id)
    position: dict[str, int] = {}
    ancestors: dict[str, int] = {}
    applied: list[str] = []

    def seniority(action: Action) -> tuple[int, str]:
        device = state.devices.get(action.author_device)
        member = state.members.get(device.member) if device else None
        rank = member.rank if device and member and member.status == MemberStatus.ACTIVE and device.active else UNRANKED
        return rank, action.id

    while ready:
        action = min(ready, key=seniority)
        ready.remove(action)
        mask = 0
        for parent in action.parents:
            mask |= ancestors[parent] | (1 << position[parent])
        position[action.id] = len(applied)
        ancestors[action.id] = mask
        applied.append(action.id)

        def is_ancestor(other: str, mask: int = mask) -> bool:
            return other in position and bool(mask >> position[other] & 1)

        try:
            if action.id in overruled:
                raise Invalid(overruled[action.id])
            _apply(state, action, is_ancestor)
            state.log.append(LogEntry(action, True, ""))
        except Invalid as why:
            state.log.append(LogEntry(action, False, str(why)))
        for child in children.get(action.id, ()):
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(pool[child])

    has_child = {p for a in applied for p in pool[a].parents}
    state.heads = tuple(sorted(a for a in applied if a not in has_child))
    state.pending = tuple(sorted(set(pool) - set(applied)))
    return state, ancestors, position


def _apply(state: GovernanceState, action: Action, is_ancestor: IsAncestor) -> None:
    if action.kind == "create":
        _create(state, action)
        return
    if not state.members:
        raise Invalid("no genesis")
    if action.kind == "sealed":
        # Signed by a one-time key so that only its recipients learn the sender;
        # they check the sender's own signature inside (notes.py).
        state.notes.append(action.id)
        return
    device = state.devices.get(action.author_device)
    if device is None or not device.active:
        raise Invalid("author device is not admitted")
    if device.sign_pub.hex() != action.author_sign:
        raise Invalid("author key does not match the admitted device")
    author = state.members[device.member]
    if author.status != MemberStatus.ACTIVE:
        raise Invalid("author is not an active member")
    if not is_ancestor(device.admitted_by):
        raise Invalid("author acted before seeing their own admission")
    if author.role not in _NEEDS[action.kind]:
        raise Invalid(f"a {author.role} may not {action.kind.replace('_', ' ')}")
    _HANDLERS[action.kind](state, action, author, is_ancestor)


def _new_member(state: GovernanceState, member_id: str, role: Role) -> MemberState:
    member = MemberState(member_id, role, MemberStatus.ACTIVE, state.next_rank)
    state.next_rank += 1
    state.members[member_id] = member
    return member


def _create(state: GovernanceState, action: Action) -> None:
    if state.members:
        raise Invalid("a circle has one genesis")
    body = action.body
    if body["device"]["sign"] != action.author_sign:
        raise Invalid("genesis device must be its author")
    _new_member(state, action.author_device, Role.ORGANIZER)
    state.devices[action.author_device] = DeviceState(
        action.author_device, action.author_device,
        bytes.fromhex(body["device"]["sign"]), bytes.fromhex(body["device"]["dh"]), action.id,
    )
    state.name = body["name"]


def _set_role(state, action, author, is_ancestor) -> None:
    target = active_target(state, action.body["member"])
    role = Role(action.body["role"])
    if target.role == Role.ORGANIZER and role != Role.ORGANIZER and len(state.organizers()) == 1:
        raise Invalid("the last organizer cannot be demoted")
    target.role = role


def _record_cutoffs(state: GovernanceState, member_id: str, cutoffs: dict[str, int]) -> None:
    """Freeze each of the member's actors at the last op the action's author saw."""
    for device in state.devices.values():
        if device.member != member_id:
            continue
        actor = actor_id_for(state.circle_id, device.sign_pub, device.incarnation)
        state.cutoffs[actor] = cutoffs.get(actor.hex(), 0)
        device.active = False


def _depart(state: GovernanceState, member: MemberState, how: MemberStatus, action: Action) -> None:
    member.status, member.ended_by = how, action.id
    _record_cutoffs(state, member.id, action.body["cutoffs"])
    state.mutes.pop(member.id, None)


def _remove(state, action, author, is_ancestor) -> None:
    target = active_target(state, action.body["member"])
    if target.id == author.id:
        raise Invalid("to remove yourself, leave")
    _depart(state, target, MemberStatus.REMOVED, action)
    admission.close_known_invites(state, target, is_ancestor)


def _leave(state, action, author, is_ancestor) -> None:
    was_last_organizer = author.role == Role.ORGANIZER and len(state.organizers()) == 1
    _depart(state, author, MemberStatus.LEFT, action)
    remaining = sorted(state.active_members(), key=lambda m: m.rank)
    if was_last_organizer and remaining:
        remaining[0].role = Role.ORGANIZER


def _rotate(state, action, author, is_ancestor) -> None:
    body = action.body
    if body["epoch"] in state.epochs:
        raise Invalid("epoch id already used")
    if not body["lockboxes"]:
        raise Invalid("a rotation must give the key to someone")
    for old in body["wraps"]:
        if old not in state.epochs:
            raise Invalid("wraps an unknown epoch")
    for device_id in body["lockboxes"]:
        if device_id not in state.devices:
            raise Invalid("lockbox for an unknown device")
    state.epochs[body["epoch"]] = EpochState(
        body["epoch"], action.id, author.id, dict(body["lockboxes"]), dict(body["wraps"])
    )
    state.epoch_order.append(body["epoch"])


def _set_guidelines(state, action, author, is_ancestor) -> None:
    state.guidelines = action.body["text"]
    state.guidelines_version += 1
    state.guidelines_id = action.id
    state.guidelines_history.append(action.id)
    state.accepted[author.id] = action.id  # whoever writes them accepts them


def _set_relays(state, action, author, is_ancestor) -> None:
    state.relays = tuple((entry["address"], entry["key"]) for entry in action.body["relays"])


def _accept_guidelines(state, action, author, is_ancestor) -> None:
    version = action.body["version"]
    if version not in state.guidelines_history or not is_ancestor(version):
        raise Invalid("accepts guidelines its author had not seen")
    current = state.accepted.get(author.id)
    if current is None or state.guidelines_history.index(version) > state.guidelines_history.index(current):
        state.accepted[author.id] = version  # a stale device accepting an older version changes nothing


# -- crisis resources by id: the rules are in resources.py -------------------------

def _set_resources(state, action, author, is_ancestor) -> None:
    resources.set_resources(state, action, author)


def _add_resource(state, action, author, is_ancestor) -> None:
    _refusable(resources.add_resource, state, action, author)


def _edit_resource(state, action, author, is_ancestor) -> None:
    _refusable(resources.edit_resource, state, action, author, is_ancestor)


def _remove_resource(state, action, author, is_ancestor) -> None:
    _refusable(resources.remove_resource, state, action, author)


def _refusable(rule, *args) -> None:
    try:
        rule(*args)
    except resources.ResourceRefused as why:
        raise Invalid(str(why)) from None

# -- end of crisis resources ----------------------------------------------------------


_HANDLERS = {
    "invite": admission.invite,
    "link_invite": admission.link_invite,
    "readmit_invite": admission.readmit_invite,
    "revoke_invite": admission.revoke_invite,
    "admit": admission.admit,
    "set_role": _set_role,
    "remove": _remove,
    "leave": _leave,
    "rotate": _rotate,
    "set_guidelines": _set_guidelines,
    "set_resources": _set_resources,
    "hide": moderation.hide,
    "unhide": moderation.unhide,
    "mute": moderation.mute,
    "warn": moderation.warn,
    "collapse": moderation.collapse,
    "dismiss": moderation.dismiss,
    "set_policy": moderation.set_policy,
    "set_relays": _set_relays,
    "set_quiet_after": moderation.set_quiet_after,
    "accept_guidelines": _accept_guidelines,
    "add_resource": _add_resource,
    "edit_resource": _edit_resource,
    "remove_resource": _remove_resource,
}
