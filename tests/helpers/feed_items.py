"""FeedItem rows for the feed's unit tests (layout, cache, drawing), without an app."""

from __future__ import annotations

from datetime import datetime, timezone

from circle.tui.feed_items import FeedItem

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


def feed_item(n: int, body: str = "hello", **fields) -> FeedItem:
    """Post `p<n>` by ana at NOW, plain unless `fields` say otherwise."""
    values = dict(
        id=f"p{n}", author="ana", body=body, created_at=NOW, depth=0, content_warning=None,
        reactions=(), deleted=False, hidden=False, hidden_reason=None, edited=False,
        is_mine=False, unread=False,
    )
    values.update(fields)
    return FeedItem(**values)
