"""The governance state a log implies: who is in, in what role, with which keys."""

from __future__ import annotations

from dataclasses import dataclass, field

from circle.crypto.identity import actor_id_for
from circle.domain.governance.actions import MAX_PARENTS, Action
from circle.domain.models import CrisisResource
from circle.domain.quiet import DEFAULT_QUIET_AFTER_HOURS
from circle.domain.roles import MemberStatus, Role


class Invalid(Exception):
    """Raised while resolving when an action does not count; the message says why."""


@dataclass
class MemberState:
    id: str
    role: Role
    status: MemberStatus
    rank: int  # seniority: order of (latest) admission; the founder is 0
    ended_by: str | None = None  # the remove/leave action, once not active


@dataclass
class DeviceState:
    id: str
    member: str
    sign_pub: bytes
    dh_pub: bytes
    admitted_by: str  # action id
    incarnation: int = 0  # how many times this device was re-admitted
    active: bool = True


@dataclass
class InviteState:
    id: str
    key: str
    uses: int
    expires: int  # Unix seconds
    created_by: str
    used: int = 0
    revoked: bool = False
    for_member: str | None = None  # a link invite: admits another device of this member
    readmit: str | None = None  # a readmit invite: brings back this removed member
    action: str = ""  # the action that made it
    closed_by: str | None = None  # the removal that closed it (its member might know the code)


@dataclass
class EpochState:
    id: str
    action: str
    author: str
    lockboxes: dict[str, str]  # device id -> sealed key (hex), from the rotation
    wraps: dict[str, str]  # earlier epoch id -> its key sealed under this one (hex)


@dataclass(frozen=True)
class LogEntry:
    action: Action
    valid: bool
    reason: str


@dataclass(frozen=True)
class Hidden:
    post: str
    reason: str
    by: str
    at: int


@dataclass(frozen=True)
class Collapsed:
    post: str
    reports: int  # how many reports the moderator's device counted
    by: str
    at: int


DEFAULT_COLLAPSE_AFTER = 3


@dataclass
class GovernanceState:
    circle_id: str
    name: str = ""
    members: dict[str, MemberState] = field(default_factory=dict)
    devices: dict[str, DeviceState] = field(default_factory=dict)
    invites: dict[str, InviteState] = field(default_factory=dict)
    epochs: dict[str, EpochState] = field(default_factory=dict)
    epoch_order: list[str] = field(default_factory=list)
    extra_lockboxes: dict[tuple[str, str], str] = field(default_factory=dict)  # (epoch, device)
    cutoffs: dict[bytes, int] = field(default_factory=dict)  # actor -> last op counter accepted
    hidden: dict[str, Hidden] = field(default_factory=dict)
    mutes: dict[str, tuple[int, int]] = field(default_factory=dict)  # member -> (since, until) ms
    collapsed: dict[str, Collapsed] = field(default_factory=dict)  # post -> pending review
    collapse_after: int = DEFAULT_COLLAPSE_AFTER  # reports that collapse a post; 0: never
    relays: tuple[tuple[str, str], ...] = ()  # (address, relay's static key hex), in the organizers' order
    quiet_after: int = DEFAULT_QUIET_AFTER_HOURS  # hours before an unanswered post is waiting
    notes: list[str] = field(default_factory=list)  # `sealed` and `warn` actions, in log order
    dismissed: dict[str, str] = field(default_factory=dict)  # report (note) id -> dismiss action
    # post -> the notes in the causal past of its latest hide or unhide: reports a
    # moderator had seen when deciding, which therefore count as dealt with
    reviewed: dict[str, frozenset[str]] = field(default_factory=dict)
    guidelines: str = ""
    guidelines_version: int = 0
    guidelines_id: str | None = None  # the set_guidelines action now in force
    guidelines_history: list[str] = field(default_factory=list)  # every valid set_guidelines
    accepted: dict[str, str] = field(default_factory=dict)  # member -> guidelines action accepted
    resources: tuple[CrisisResource, ...] = ()
    # resource id -> (the action whose version is listed, its author member): see resources.py
    resource_versions: dict[str, tuple[str, str]] = field(default_factory=dict)
    log: list[LogEntry] = field(default_factory=list)
    heads: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()  # actions waiting for missing parents
    next_rank: int = 0

    # -- questions the rest of the app asks ------------------------------------

    def active_members(self) -> list[MemberState]:
        return [m for m in self.members.values() if m.status == MemberStatus.ACTIVE]

    def organizers(self) -> list[MemberState]:
        return [m for m in self.active_members() if m.role == Role.ORGANIZER]

    def role_of(self, member_id: str) -> Role | None:
        member = self.members.get(member_id)
        return member.role if member and member.status == MemberStatus.ACTIVE else None

    def active_devices(self) -> list[DeviceState]:
        return [
            d for d in self.devices.values()
            if d.active and self.members[d.member].status == MemberStatus.ACTIVE
        ]

    def parents(self) -> list[str]:
        """The heads a new action names: all of them, or, past what one action may
        name, governance acts before private notes, newest first. Heads left out
        stay in the log and are named by later actions."""
        if len(self.heads) <= MAX_PARENTS:
            return list(self.heads)
        order = {e.action.id: (e.action.kind == "sealed", -i) for i, e in enumerate(self.log)}
        return sorted(self.heads, key=lambda h: order.get(h, (True, 0)))[:MAX_PARENTS]

    def must_accept_guidelines(self, member_id: str) -> bool:
        return self.guidelines_id is not None and self.accepted.get(member_id) != self.guidelines_id

    def lockbox(self, epoch_id: str, device_id: str) -> str | None:
        epoch = self.epochs.get(epoch_id)
        if epoch and device_id in epoch.lockboxes:
            return epoch.lockboxes[device_id]
        return self.extra_lockboxes.get((epoch_id, device_id))

    def holders(self, epoch_id: str) -> set[str]:
        """Devices given this epoch's key directly (by rotation or on admission)."""
        epoch = self.epochs[epoch_id]
        extra = {device for (e, device) in self.extra_lockboxes if e == epoch_id}
        return set(epoch.lockboxes) | extra

    @property
    def write_epoch(self) -> str | None:
        """The newest epoch no departed device holds: new content is sealed with it."""
        active = {d.id for d in self.active_devices()}
        for epoch_id in reversed(self.epoch_order):
            if self.holders(epoch_id) <= active:
                return epoch_id
        return None

    @property
    def needs_rekey(self) -> bool:
        """True when an organizer should rotate: a departed device holds the newest
        key, an active device lacks it, or concurrent rotations left two key chains."""
        if not self.epoch_order:
            return False
        newest = self.epoch_order[-1]
        active = {d.id for d in self.active_devices()}
        wrapped = {old for epoch in self.epochs.values() for old in epoch.wraps}
        unwrapped = [e for e in self.epoch_order if e not in wrapped]
        return self.write_epoch != newest or self.holders(newest) != active or len(unwrapped) > 1

    def device_by_actor(self) -> dict[bytes, DeviceState]:
        """Every actor ever bound to a device of this circle (one per incarnation)."""
        out = {}
        for device in self.devices.values():
            for incarnation in range(device.incarnation + 1):
                out[actor_id_for(self.circle_id, device.sign_pub, incarnation)] = device
        return out

    def actor_bindings(self) -> dict[bytes, str]:
        """Every actor ever bound to a device of this circle -> its member."""
        return {actor: device.member for actor, device in self.device_by_actor().items()}


def active_target(state: GovernanceState, member_id: str) -> MemberState:
    """The active member an action is about; Invalid if there is none."""
    member = state.members.get(member_id)
    if member is None or member.status != MemberStatus.ACTIVE:
        raise Invalid("target is not an active member")
    return member
