"""What the feed shows of a post (`FeedItem`), and Posts -> FeedItems in thread order
(circle.domain.threads): replies under their parent."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from circle.domain import polls as poll_rules
from circle.domain.models import PollResult, Post
from circle.domain.threads import thread_order


@dataclass(frozen=True)
class FeedItem:
    """One post as the feed shows it. Text fields are untrusted and sanitized on display."""

    id: str
    author: str
    body: str
    created_at: datetime
    depth: int  # 0 for a root post, 1+ for replies
    content_warning: str | None
    reactions: tuple[tuple[str, int, bool], ...]  # (kind, count, mine)
    deleted: bool
    hidden: bool
    hidden_reason: str | None
    edited: bool
    is_mine: bool
    unread: bool
    # Folded until opened on purpose ("pending moderator review (3 reports)", "matches your
    # filter: grief"); opened like a content warning.
    collapsed_reason: str | None = None
    waiting: bool = False  # nobody else has answered it for the circle's quiet threshold
    poll_ids: tuple[str, ...] = ()  # the polls under it, oldest first
    poll_lines: tuple[str, ...] = ()  # and how they read (domain/polls.lines: cleaned text)

    @property
    def closed(self) -> bool:
        """Whether it has a fold (warning or collapse) to open, before it is revealed. A hidden
        post a member cannot read has none: there is nothing behind it."""
        readable = not self.deleted and (bool(self.body) or not self.hidden)
        return readable and bool(self.content_warning or self.collapsed_reason)


def poll_stamp(moment: datetime) -> str:
    return moment.astimezone().strftime("%a %d %b %H:%M")


def _poll_lines(result: PollResult, names: Mapping[str, str]) -> list[str]:
    lines = poll_rules.lines(result, names, poll_stamp)
    if result.open:  # the keys, where they apply (the feed's status line lists the general ones)
        lines[-1] += " · v vote"
    return lines


def build_feed_items(
    posts: Sequence[Post], names: Mapping[str, str], me: str | None, unread: Collection[str],
    waiting: Collection[str] = (), polls: Sequence[PollResult] = (),
) -> list[FeedItem]:
    under: dict[str, list[PollResult]] = {}
    for result in polls:
        if result.poll.post_id:
            under.setdefault(result.poll.post_id, []).append(result)
    items = []
    for post, depth in thread_order(list(posts)):
        reactions = tuple(
            (kind, len(who), me in who) for kind, who in sorted(post.reactions.items()) if who
        )
        items.append(FeedItem(
            id=post.id,
            author=names.get(post.author_id, f"member {post.author_id[:6]}"),
            body=post.body,
            created_at=post.created_at,
            depth=depth,
            content_warning=post.content_warning,
            reactions=reactions,
            deleted=post.deleted,
            hidden=post.hidden,
            hidden_reason=post.hidden_reason,
            edited=post.edited_at is not None,
            is_mine=post.author_id == me,
            unread=post.id in unread,
            collapsed_reason=post.collapsed_reason,
            waiting=post.id in waiting,
            poll_ids=tuple(r.poll.id for r in under.get(post.id, ())),
            poll_lines=tuple(text for r in under.get(post.id, ()) for text in _poll_lines(r, names)),
        ))
    return items


def nearest_survivor(old: Sequence[FeedItem], position: int, present: Collection[str]) -> str | None:
    """The post to move the cursor to when the one at `position` in `old` is gone: the next
    one after it that is still `present`, else the nearest one before it."""
    order = [*old[position + 1 :], *reversed(old[:position])]
    return next((item.id for item in order if item.id in present), None)
