"""A circle's own crisis resources: added, corrected and removed by organizers.

Each resource has a stable id derived from the action that added it (see
`resource_id`), so a correction replaces the entry instead of listing a second
one. The rules (also in docs/governance.md):

- add_resource lists a new resource; its id is the first 16 hex digits of the
  action id. A circle lists at most MAX_RESOURCES.
- edit_resource replaces every field of a listed resource. If the version it
  replaces is not in the edit's causal past, the two edits are concurrent: the
  edit by the more senior organizer wins (earlier admitted; the same member's
  two devices: the greater action id), and the loser is refused.
- remove_resource takes a listed resource off for good. An edit concurrent with
  a removal is refused whichever sorts first, so removal wins.
- set_resources (the old whole-list form, still read) replaces the list; an
  entry equal to a listed resource keeps that resource's id, a new entry's id
  is the action id's first 14 hex digits and its index (two hex digits).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from circle.domain.governance.actions import RESOURCE_ID_LEN, Action
from circle.domain.governance.state import GovernanceState, MemberState
from circle.domain.models import CrisisResource

MAX_RESOURCES = 50  # as many as one old set_resources could list


class ResourceRefused(Exception):
    """The action does not count; the resolver records the message as the reason."""


def resource_id(action_id: str, index: int | None = None) -> str:
    """The id of the resource an action added (index: its place in a set_resources list)."""
    if index is None:
        return action_id[:RESOURCE_ID_LEN]
    return action_id[:RESOURCE_ID_LEN - 2] + f"{index:02x}"


def _fields(resource: CrisisResource) -> tuple[str, str, str, str]:
    return resource.name, resource.contact, resource.region, resource.hours


def _entry(body: dict, rid: str) -> CrisisResource:
    return CrisisResource(body["name"], body["contact"], body["region"], body["hours"], rid)


def _index(state: GovernanceState, rid: str) -> int:
    for i, resource in enumerate(state.resources):
        if resource.id == rid:
            return i
    raise ResourceRefused("no such resource (removed, or never listed)")


def set_resources(state: GovernanceState, action: Action, author: MemberState) -> None:
    unclaimed = list(state.resources)
    listed: list[CrisisResource] = []
    versions: dict[str, tuple[str, str]] = {}
    for index, entry in enumerate(action.body["resources"]):
        new = CrisisResource(**entry)
        match = next((r for r in unclaimed if _fields(r) == _fields(new)), None)
        if match is not None:
            unclaimed.remove(match)
            listed.append(match)
            versions[match.id] = state.resource_versions[match.id]
        else:
            rid = resource_id(action.id, index)
            listed.append(replace(new, id=rid))
            versions[rid] = (action.id, author.id)
    state.resources = tuple(listed)
    state.resource_versions = versions


def add_resource(state: GovernanceState, action: Action, author: MemberState) -> None:
    if len(state.resources) >= MAX_RESOURCES:
        raise ResourceRefused(f"a circle lists at most {MAX_RESOURCES} resources")
    rid = resource_id(action.id)
    if rid in state.resource_versions:
        raise ResourceRefused("resource id already used")
    state.resources = (*state.resources, _entry(action.body, rid))
    state.resource_versions[rid] = (action.id, author.id)


def edit_resource(
    state: GovernanceState, action: Action, author: MemberState, is_ancestor: Callable[[str], bool]
) -> None:
    rid = action.body["resource"]
    index = _index(state, rid)
    version, by = state.resource_versions[rid]
    if not is_ancestor(version):
        # Concurrent with the edit now in force: seniority decides, not arrival.
        ours, theirs = author.rank, state.members[by].rank
        if (ours, _neg(action.id)) > (theirs, _neg(version)):
            raise ResourceRefused("lost to a concurrent edit by a more senior organizer")
    listed = list(state.resources)
    listed[index] = _entry(action.body, rid)
    state.resources = tuple(listed)
    state.resource_versions[rid] = (action.id, author.id)


def _neg(action_id: str) -> int:
    """Sort key under which the greater action id comes first."""
    return -int(action_id, 16)


def remove_resource(state: GovernanceState, action: Action, author: MemberState) -> None:
    rid = action.body["resource"]
    index = _index(state, rid)
    state.resources = state.resources[:index] + state.resources[index + 1:]
    del state.resource_versions[rid]
