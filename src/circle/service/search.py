"""Searching the posts of the circles this profile holds, as this reader may see them.

The index is built from the reader's own feed (`Content.feed`), so moderation and topic filters
apply before anything can match: a hidden post's body is searchable only by moderators, a
deleted post never, and a post folded by the reader's filters is found but comes back folded,
without a snippet. The index lives in memory only, one per state of the circle (rebuilt when
the document, the log or the reader's filters change), never on disk.
"""

from __future__ import annotations

from dataclasses import dataclass

from circle.domain.models import Post
from circle.domain.search import Query, TextIndex, parse, snippet
from circle.domain.untrusted import shown
from circle.errors import InvalidInput
from circle.service.content import Content
from circle.service.preferences import Preferences
from circle.service.repository import CircleRepository

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000


@dataclass(frozen=True)
class SearchHit:
    circle_id: str
    post: Post
    snippet: str  # "" when the post is folded: the reader opens it on purpose
    marks: tuple[tuple[int, int], ...]  # spans of `snippet` that matched
    folded: str | None  # why the post is folded (a topic filter, pending review), if it is


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: tuple[SearchHit, ...]  # newest first, at most the limit asked for
    total: int  # every match, beyond the limit too


def searchable_text(post: Post) -> str:
    """What a reader can see of a post, as plain text: its warning and its body."""
    return shown(f"{post.content_warning}\n{post.body}" if post.content_warning else post.body)


class _CircleIndex:
    def __init__(self, posts: list[Post]) -> None:
        visible = [p for p in posts if not p.deleted and p.body]
        self.posts = sorted(visible, key=lambda p: (p.created_at, p.id), reverse=True)
        self.index = TextIndex([searchable_text(p) for p in self.posts])


class Search:
    def __init__(self, repo: CircleRepository, content: Content, prefs: Preferences) -> None:
        self.repo, self.content, self.prefs = repo, content, prefs

    def _index(self, circle_id: str) -> _CircleIndex:
        circle = self.repo.open(circle_id)
        feed = self.content.feed(circle_id)
        return circle.cached("search/" + "\n".join(self.prefs.cw_filters()), lambda: _CircleIndex(feed))

    def search(self, circle_id: str, text: str, *, limit: int = DEFAULT_LIMIT) -> SearchResult:
        """Posts of one circle holding every word and phrase of `text`, newest first."""
        query, limit = parse(text), _checked(limit)
        index = self._index(circle_id)
        found = index.index.matching(query)
        hits = tuple(_hit(circle_id, index, i, query) for i in found[:limit])
        return SearchResult(text, hits, len(found))

    def search_all(self, text: str, *, limit: int = DEFAULT_LIMIT) -> SearchResult:
        """The same over every circle this profile holds, merged newest first."""
        query, limit = parse(text), _checked(limit)
        hits: list[SearchHit] = []
        total = 0
        for circle_id in self.repo.ids():
            index = self._index(circle_id)
            found = index.index.matching(query)
            total += len(found)
            hits.extend(_hit(circle_id, index, i, query) for i in found[:limit])
        hits.sort(key=lambda h: (h.post.created_at, h.post.id), reverse=True)
        return SearchResult(text, tuple(hits[:limit]), total)


def _checked(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"the limit is between 1 and {MAX_LIMIT}, not {limit}")
    return limit


def _hit(circle_id: str, index: _CircleIndex, item: int, query: Query) -> SearchHit:
    post = index.posts[item]
    if post.collapsed_reason:
        return SearchHit(circle_id, post, "", (), post.collapsed_reason)
    cut = snippet(searchable_text(post), query)
    return SearchHit(circle_id, post, cut.text, cut.marks, None)
