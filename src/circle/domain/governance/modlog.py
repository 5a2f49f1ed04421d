"""The moderation log: every moderation act in the governance log, in words.

Every member can read it. Each entry is a signed action whose id is the hash of
what was signed and which names the entries before it, so an altered entry is
caught three ways: its signature fails, its hash no longer matches the id its
successors name (they wait, "waiting"), or it was refused by the rules
("refused"). Entries a device holds that no longer verify are shown, marked
"tampered", rather than silently dropped.
"""

from __future__ import annotations

from collections.abc import Mapping

from circle.domain.document import from_millis
from circle.domain.governance.actions import Action
from circle.domain.governance.resources import resource_id
from circle.domain.governance.state import GovernanceState
from circle.domain.models import ModlogEntry
from circle.domain.times import readable

MODERATION_KINDS = (
    "set_role", "remove", "hide", "unhide", "mute", "warn", "collapse", "dismiss",
    "set_guidelines", "set_resources", "set_policy", "set_quiet_after",
    "add_resource", "edit_resource", "remove_resource", "rotate", "readmit_invite", "set_relays",
)

Warning = tuple[str, str]  # (member warned, reason), for warnings this device can read


def moderation_log(
    state: GovernanceState,
    actions: Mapping[str, Action],
    tampered: Mapping[str, str],
    names: Mapping[str, str],
    warnings: Mapping[str, Warning],
) -> list[ModlogEntry]:
    def name(member_id: str) -> str:
        return names.get(member_id, f"member {member_id[:8]}")

    def actor(action: Action) -> str | None:
        device = state.devices.get(action.author_device)
        return device.member if device else None

    out = []
    versions = {gid: n for n, gid in enumerate(state.guidelines_history, 1)}
    resources: dict[str, str] = {}  # resource id -> the name it was listed under, as the log goes
    epochs = _epochs(state)
    for entry in state.log:
        action = entry.action
        if action.kind not in MODERATION_KINDS or _founding_key(state, action):
            continue
        summary, reason, target = _describe(action, name, warnings, versions, resources, epochs)
        if entry.valid:
            _track_resource(action, resources)
        out.append(ModlogEntry(
            action.id, action.kind, actor(action), from_millis(action.at), summary, reason, target,
            "valid" if entry.valid else "refused", entry.reason, action.wire[:64].hex(), action.parents,
        ))
    for action_id in state.pending:
        action = actions[action_id]
        if action.kind not in MODERATION_KINDS:
            continue
        summary, reason, target = _describe(action, name, warnings, versions, resources, epochs)
        out.append(ModlogEntry(
            action.id, action.kind, actor(action), from_millis(action.at), summary, reason, target,
            "waiting", "an entry it builds on is missing or was altered", action.wire[:64].hex(), action.parents,
        ))
    for action_id, why in sorted(tampered.items()):
        out.append(ModlogEntry(action_id, "unknown", None, None, "an entry that no longer matches its signature",
                               "", None, "tampered", why))
    return out


Epochs = Mapping[str, tuple[int, list[str]]]  # rotation action -> (epoch number, members left out)


def _epochs(state: GovernanceState) -> dict[str, tuple[int, list[str]]]:
    """For each rotation that counted: its epoch's number (the circle's first key is 1)
    and the members who held the key before it whose devices it did not give the new one."""
    out = {}
    for n, epoch_id in enumerate(state.epoch_order):
        epoch = state.epochs[epoch_id]
        left_out: list[str] = []
        if n:
            before = state.holders(state.epoch_order[n - 1]) - set(epoch.lockboxes)
            members = {state.devices[d].member for d in before if d in state.devices}
            left_out = sorted(members)
        out[epoch.action] = (n + 1, left_out)
    return out


def _founding_key(state: GovernanceState, action: Action) -> bool:
    """The circle's first key, set up with the circle: not a change anyone made."""
    if action.kind != "rotate" or not state.epoch_order:
        return False
    return state.epochs[state.epoch_order[0]].action == action.id


def _track_resource(action: Action, resources: dict[str, str]) -> None:
    """Remember resource names so a later correction or removal can say which one it was."""
    if action.kind == "add_resource":
        resources[resource_id(action.id)] = action.body["name"]
    elif action.kind == "edit_resource":
        resources[action.body["resource"]] = action.body["name"]
    elif action.kind == "set_resources":
        for index, entry in enumerate(action.body["resources"]):
            resources.setdefault(resource_id(action.id, index), entry["name"])


def _describe(action: Action, name, warnings: Mapping[str, Warning], versions: Mapping[str, int],
              resources: Mapping[str, str], epochs: Epochs):
    """(summary, reason, public target) of one moderation action."""
    body, kind = action.body, action.kind

    def resource(rid: str) -> str:
        # Ids are random-looking hashes; a member reads the name it was listed under.
        return resources.get(rid, f"resource {rid[:8]}")
    if kind == "set_role":
        return f"made {name(body['member'])} {body['role']}", "", body["member"]
    if kind == "remove":
        return f"removed {name(body['member'])}", body["reason"], body["member"]
    if kind == "readmit_invite":
        return f"invited {name(body['member'])} back after their removal", "", body["member"]
    if kind == "hide":
        return f"hid post {body['post'][:8]}", body["reason"], body["post"]
    if kind == "unhide":
        return f"unhid post {body['post'][:8]}", "", body["post"]
    if kind == "mute":
        if body["until"] <= action.at:
            return f"unmuted {name(body['member'])}", body["reason"], body["member"]
        until = readable(from_millis(body["until"]))
        return f"muted {name(body['member'])} until {until}", body["reason"], body["member"]
    if kind == "warn":
        if action.id in warnings:  # a moderator (or the member warned) can read it
            member, reason = warnings[action.id]
            return f"privately warned {name(member)}", reason, member
        return "sent a private warning", "", None
    if kind == "collapse":
        n = len(body["reports"])
        return f"folded post {body['post'][:8]} for review after {n} report{'s' * (n != 1)}", "", body["post"]
    if kind == "dismiss":
        count = len(body["reports"])
        return (f"dismissed {count} report{'s' if count != 1 else ''} on post {body['post'][:8]}",
                body["reason"], body["post"])
    if kind == "set_guidelines":
        version = versions.get(action.id)
        return f"updated the guidelines{f' (version {version})' if version else ''}", "", None
    if kind == "set_resources":
        return f"set the circle's crisis resources ({len(body['resources'])})", "", None
    if kind == "add_resource":
        return f"added crisis resource {body['name']}", "", None
    if kind == "edit_resource":
        return f"corrected crisis resource {resource(body['resource'])}: {body['name']}, {body['contact']}", "", None
    if kind == "remove_resource":
        return f"removed crisis resource {resource(body['resource'])}", "", None
    if kind == "rotate":
        # Only who is left out is told: the sealed keys themselves never leave the log.
        if action.id not in epochs:
            return "rotated the circle key", "", None
        number, left_out = epochs[action.id]
        summary = f"rotated the circle key (epoch {number})"
        if left_out:
            summary += f", leaving out {', '.join(name(m) for m in left_out)}"
        return summary, "", left_out[0] if len(left_out) == 1 else None
    if kind == "set_policy":
        after = body["collapse_after"]
        if after == 0:
            return "turned off folding reported posts", "", None
        return f"set reported posts to fold after {after} report{'s' * (after != 1)}", "", None
    if kind == "set_relays":
        addresses = [entry["address"] for entry in body["relays"]]
        return (f"set the circle's relays to {', '.join(addresses)}" if addresses
                else "removed the circle's relays"), "", None
    if kind == "set_quiet_after":
        hours = body["hours"]
        return f"set posts to show as waiting for a reply after {hours} hour{'s' * (hours != 1)}", "", None
    raise ValueError(f"not a moderation kind: {kind}")
