"""Posts waiting for a reply: a conversation started here that nobody else has
answered or reacted to for the circle's quiet threshold.

Only thread starters count (a reply is already part of a conversation), and the
reader's own posts never do: the author is not shown that their post went
unanswered. Deleted and hidden posts are left out; they are not conversations
anyone can join.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from circle.domain.models import Post

DEFAULT_QUIET_AFTER_HOURS = 12
MAX_QUIET_AFTER_HOURS = 24 * 14


def waiting_posts(posts: Sequence[Post], me: str | None, now: datetime, hours: int) -> list[Post]:
    """The posts in `posts` (the feed, oldest first) that have waited at least
    `hours` at `now` with no reply or reaction from anyone but their author."""
    authors = {p.id: p.author_id for p in posts}
    # A deleted reply still answered: someone came, even if they took the words back.
    answered = {p.reply_to for p in posts if p.reply_to is not None and p.author_id != authors.get(p.reply_to)}
    cutoff = now - timedelta(hours=hours)
    return [
        p for p in posts
        if p.reply_to is None and p.author_id != me and not p.deleted and not p.hidden
        and p.created_at <= cutoff and p.id not in answered
        and not any(who - {p.author_id} for who in p.reactions.values())
    ]

