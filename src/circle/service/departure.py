"""Leaving a circle must reach the circle.

After `circle leave` the device keeps sending that one circle until a peer is
known to hold the leave action (its sync state lists it, or we wrote it to a
shared folder); only then does it stop syncing the circle.
"""

from __future__ import annotations

from circle.domain.roles import MemberStatus
from circle.service.opened import OpenCircle
from circle.service.repository import CircleRepository

DELIVERED = "leave-delivered"


def leave_to_deliver(repo: CircleRepository, circle: OpenCircle) -> str | None:
    """The id of our own leave action while no peer is known to hold it yet."""
    member = circle.state.members.get(circle.my_member_id or "")
    if member is None or member.status != MemberStatus.LEFT or member.ended_by is None:
        return None
    if repo.profile.store.private_items(circle.id, DELIVERED):
        return None
    return member.ended_by


def mark_delivered(repo: CircleRepository, circle_id: str) -> None:
    repo.profile.store.put_private(circle_id, DELIVERED, "leave", b"")


def may_send(repo: CircleRepository, circle: OpenCircle) -> bool:
    """Whether this device still sends the circle: a member, or one whose leave
    has not reached anyone yet."""
    return circle.is_active_member() or leave_to_deliver(repo, circle) is not None


def is_member_device(state, device_id: str) -> bool:
    device = state.devices.get(device_id)
    return bool(device and device.active and state.role_of(device.member))
