"""Moderation by organizers and moderators: hide and unhide posts, fold reported ones
(`collapse`) and `dismiss` reports, mute and warn members, and the fold policy.

The rules are in docs/governance.md ("Actions and who may do them"); the resolver has already
checked that the author may act and holds the role the kind needs before calling these.
"""

from __future__ import annotations

from collections.abc import Callable

from circle.domain.governance.actions import Action
from circle.domain.governance.state import (
    Collapsed,
    GovernanceState,
    Hidden,
    Invalid,
    MemberState,
    active_target,
)
from circle.domain.roles import Role

IsAncestor = Callable[[str], bool]


def hide(state: GovernanceState, action: Action, author: MemberState, is_ancestor: IsAncestor) -> None:
    body = action.body
    state.hidden[body["post"]] = Hidden(body["post"], body["reason"], author.id, action.at)
    review(state, body["post"], is_ancestor)


def unhide(state: GovernanceState, action: Action, author: MemberState, is_ancestor: IsAncestor) -> None:
    if state.hidden.pop(action.body["post"], None) is None:
        raise Invalid("post is not hidden")
    review(state, action.body["post"], is_ancestor)


def review(state: GovernanceState, post: str, is_ancestor: IsAncestor) -> None:
    """A moderator decided about this post: the reports they had seen are dealt with."""
    state.collapsed.pop(post, None)
    state.reviewed[post] = frozenset(n for n in state.notes if is_ancestor(n))


def mute(state: GovernanceState, action: Action, author: MemberState, is_ancestor: IsAncestor) -> None:
    target = active_target(state, action.body["member"])
    if target.role == Role.ORGANIZER or (target.role == Role.MODERATOR and author.role != Role.ORGANIZER):
        raise Invalid("cannot mute someone of equal or higher role")
    until = action.body["until"]
    if until <= action.at and target.id in state.mutes:  # an unmute: end the window now, keep its start
        since, old_until = state.mutes[target.id]
        state.mutes[target.id] = (since, min(old_until, action.at))
    else:
        state.mutes[target.id] = (action.at, until)


def warn(state: GovernanceState, action: Action, author: MemberState, is_ancestor: IsAncestor) -> None:
    state.notes.append(action.id)  # who is warned, and why, is sealed inside


def collapse(state: GovernanceState, action: Action, author: MemberState, is_ancestor: IsAncestor) -> None:
    post, reports = action.body["post"], action.body["reports"]
    if post in state.hidden:
        raise Invalid("post is already hidden")
    notes = set(state.notes)
    if any(r not in notes or not is_ancestor(r) for r in reports):
        raise Invalid("folds on reports its author had not seen")
    dealt_with = set(state.dismissed) | state.reviewed.get(post, frozenset())
    if all(r in dealt_with for r in reports):
        raise Invalid("the reports it counted were already dealt with")
    state.collapsed[post] = Collapsed(post, len(reports), author.id, action.at)


def dismiss(state: GovernanceState, action: Action, author: MemberState, is_ancestor: IsAncestor) -> None:
    notes = set(state.notes)
    for report in action.body["reports"]:
        if report not in notes or not is_ancestor(report):
            raise Invalid("dismisses a report its author had not seen")
    for report in action.body["reports"]:
        state.dismissed[report] = action.id
    state.collapsed.pop(action.body["post"], None)


def set_policy(state: GovernanceState, action: Action, author: MemberState, is_ancestor: IsAncestor) -> None:
    state.collapse_after = action.body["collapse_after"]


def set_quiet_after(state: GovernanceState, action: Action, author: MemberState, is_ancestor: IsAncestor) -> None:
    state.quiet_after = action.body["hours"]
