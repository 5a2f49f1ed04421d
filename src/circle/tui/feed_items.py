"""Posts -> FeedItems in thread order (circle.domain.threads): replies under their parent."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from circle.domain.models import Post
from circle.domain.threads import thread_order
from circle.tui.feed_view import FeedItem


def build_feed_items(
    posts: Sequence[Post], names: Mapping[str, str], me: str | None, unread: Collection[str]
) -> list[FeedItem]:
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
        ))
    return items
