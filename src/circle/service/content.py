"""What members write and read in a circle: posts, replies, reactions and
names; and the circle's info and roster as this member sees them.

Reading applies moderation and this member's topic filters (a hidden post keeps
its place but only moderators still see its body); writing goes through the
repository as one Automerge change per action.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

from circle.domain import views
from circle.domain.document import from_millis, to_millis
from circle.domain.models import CheckIn, CircleInfo, Member, Post
from circle.domain.refs import resolve as resolve_ref
from circle.domain.roles import MODERATING, MemberStatus, Role
from circle.domain.times import readable
from circle.errors import NotAllowed, NotFound
from circle.service.core import MAX_BODY_CHARS, Clock, IdSource, clean_text
from circle.service.opened import OpenCircle
from circle.service.preferences import Preferences
from circle.service.repository import NOT_A_MEMBER, CircleRepository


def topic_pattern(topics: tuple[str, ...]) -> re.Pattern | None:
    """One pattern for all of a reader's topics, each matched as whole words."""
    if not topics:
        return None
    return re.compile("|".join(rf"(?<!\w){re.escape(t)}(?!\w)" for t in topics), re.IGNORECASE)


def _filtered(post: Post, pattern: re.Pattern | None) -> Post:
    """Fold a post whose warning or text names one of the reader's topics."""
    if pattern is None or post.collapsed_reason or post.deleted or (post.hidden and not post.body):
        return post
    found = pattern.search(f"{post.content_warning or ''}\n{post.body}")
    if found is None:
        return post
    return replace(post, collapsed_reason=f"matches your filter: {found.group(0).lower()}")


def _moderated(circle: OpenCircle, post: Post, moderating: bool) -> Post:
    hidden = circle.state.hidden.get(post.id)
    reason = hidden.reason if hidden else None
    if reason is None and post.author_id in circle.state.mutes:
        since, until = circle.state.mutes[post.author_id]
        if since <= to_millis(post.created_at) < until:
            reason = "written while muted"
    if reason is None:
        collapsed = circle.state.collapsed.get(post.id)
        if collapsed is None:
            return post
        n = collapsed.reports
        return replace(post, collapsed_reason=f"pending moderator review ({n} report{'s' * (n != 1)})")
    return replace(post, hidden=True, hidden_reason=reason, body=post.body if moderating else "")


class Content:
    def __init__(self, repo: CircleRepository, prefs: Preferences, clock: Clock, new_id: IdSource) -> None:
        self.repo, self.prefs, self.clock, self.new_id = repo, prefs, clock, new_id

    # -- the circle as this member sees it ---------------------------------------------

    def info(self, circle_id: str) -> CircleInfo:
        circle = self.repo.open(circle_id)
        organizers = frozenset(m.id for m in circle.state.organizers())
        base = views.read_info(circle.document, circle.roster(), organizers)
        return replace(
            base,
            name=base.name or circle.state.name,
            guidelines=circle.state.guidelines,
            resources=circle.state.resources,
        )

    def members(self, circle_id: str, *, include_departed: bool = False) -> list[Member]:
        circle = self.repo.open(circle_id)
        names = views.read_names(circle.document, circle.roster())
        out = []
        for member in sorted(circle.state.members.values(), key=lambda m: m.rank):
            if member.status != MemberStatus.ACTIVE and not include_departed:
                continue
            name, joined = names.get(member.id, (f"member {member.id[:6]}", None))
            out.append(Member(member.id, name, joined, member.role, member.status))
        return out

    def member_names(self, circle_id: str) -> dict[str, str]:
        return {m.id: m.name for m in self.members(circle_id, include_departed=True)}

    def my_role(self, circle_id: str) -> Role | None:
        circle = self.repo.open(circle_id)
        return circle.state.role_of(circle.my_member_id or "")

    def last_seen(self, circle_id: str) -> dict[str, datetime]:
        """When each member was last heard from: their newest post or shared check-in."""
        circle = self.repo.open(circle_id)
        seen: dict[str, datetime] = {}
        items: list[Post | CheckIn] = [*self.feed(circle_id), *views.read_checkins(circle.document, circle.roster())]
        for item in items:
            if item.author_id not in seen or item.created_at > seen[item.author_id]:
                seen[item.author_id] = item.created_at
        return seen

    def resolve_member(self, circle_id: str, ref: str) -> Member:
        members = {m.id: m for m in self.members(circle_id)}
        return members[resolve_ref(ref, ((m.id, m.name) for m in members.values()), "member")]

    def rename(self, circle_id: str, name: str) -> None:
        """Change one's own display name in one circle (others see it after sync)."""
        name = clean_text(name, "name", 80)
        me = self._me(circle_id)
        self.repo.write(circle_id, lambda d: d.rename(me, name))

    def _me(self, circle_id: str) -> str:
        member = self.repo.open(circle_id).my_member_id
        if member is None:
            raise NotAllowed(NOT_A_MEMBER)
        return member

    # -- posts ----------------------------------------------------------------------

    def feed(self, circle_id: str) -> list[Post]:
        """Posts, with moderation applied: hidden posts keep their place, but only
        moderators still see the body; posts pending review, or touching a topic
        this member filters, come folded. Computed once per state of the circle."""
        circle = self.repo.open(circle_id)
        moderating = self.my_role(circle_id) in MODERATING
        topics = self.prefs.cw_filters()
        pattern = topic_pattern(topics)
        return circle.cached("feed/" + "\n".join(topics), lambda: [
            _filtered(_moderated(circle, post, moderating), pattern)
            for post in views.read_posts(circle.document, circle.roster())
        ])

    def unread_count(self, circle_id: str) -> int:
        """Posts by others, neither deleted nor hidden, that were never shown here."""
        me = self.repo.open(circle_id).my_member_id
        seen = self.prefs.seen_posts(circle_id)
        return sum(
            1 for post in self.feed(circle_id)
            if post.author_id != me and not post.deleted and not post.hidden and post.id not in seen
        )

    def resolve_post(self, circle_id: str, ref: str) -> Post:
        """One post by id or unique prefix, reading only that post."""
        circle = self.repo.open(circle_id)
        post_id = resolve_ref(ref, ((pid, "") for pid in views.post_ids(circle.document)), "post")
        post = views.read_post(circle.document, circle.roster(), post_id)
        if post is None:
            raise NotFound(f"unknown post: {ref!r}")
        return _moderated(circle, post, self.my_role(circle_id) in MODERATING)

    def post(self, circle_id: str, body: str, *, reply_to: str | None = None,
             content_warning: str | None = None) -> Post:
        body = clean_text(body, "post", MAX_BODY_CHARS)
        cw = clean_text(content_warning, "content warning", allow_empty=True) if content_warning else None
        parent = self.resolve_post(circle_id, reply_to).id if reply_to else None
        self.check_may_post(circle_id)
        post_id = self.new_id()
        now = self.clock()
        self.repo.write(circle_id, lambda d: d.add_post(post_id, body, now, parent, cw or None))
        return self.resolve_post(circle_id, post_id)

    def check_may_post(self, circle_id: str) -> None:
        circle = self.repo.open(circle_id)
        me = circle.my_member_id or ""
        _, until = circle.state.mutes.get(me, (0, 0))
        if to_millis(self.clock()) < until:
            raise NotAllowed(f"a moderator muted you until {readable(from_millis(until))}")
        if circle.state.must_accept_guidelines(me):
            raise NotAllowed("accept the circle's current guidelines before posting (in the app: the "
                             "Guidelines tab; on the command line: `circle guidelines CIRCLE --accept`)")

    def _own_post(self, circle_id: str, ref: str, verb: str) -> Post:
        post = self.resolve_post(circle_id, ref)
        if post.author_id != self.repo.open(circle_id).my_member_id:
            raise NotAllowed(f"you can only {verb} your own posts")
        if post.deleted:
            raise NotAllowed(f"post {post.id} is deleted")
        return post

    def edit(self, circle_id: str, ref: str, body: str) -> Post:
        body = clean_text(body, "post", MAX_BODY_CHARS)
        post = self._own_post(circle_id, ref, "edit")
        self.check_may_post(circle_id)
        now = self.clock()
        self.repo.write(circle_id, lambda d: d.edit_post(post.id, body, now))
        return self.resolve_post(circle_id, post.id)

    def delete(self, circle_id: str, ref: str) -> Post:
        post = self._own_post(circle_id, ref, "delete")
        now = self.clock()
        self.repo.write(circle_id, lambda d: d.delete_post(post.id, now))
        return self.resolve_post(circle_id, post.id)

    def react(self, circle_id: str, ref: str, kind: str, *, on: bool = True) -> Post:
        kind = clean_text(kind, "reaction", views.MAX_REACTION_KIND_CHARS)
        post = self.resolve_post(circle_id, ref)
        if post.deleted:
            raise NotAllowed(f"post {post.id} is deleted")
        me = self._me(circle_id)
        self.repo.write(circle_id, lambda d: d.set_reaction(post.id, kind, me, on))
        return self.resolve_post(circle_id, post.id)
