"""Reading order for threads: each conversation with its replies beneath it."""

from __future__ import annotations

from collections import defaultdict

from circle.domain.models import Post


def thread_order(posts: list[Post]) -> list[tuple[Post, int]]:
    """(post, depth) in reading order, for posts given oldest first (as the feed
    gives them: that order already settles posts written in the same millisecond).

    Roots keep that order; each is followed by its replies, depth first,
    oldest first. A post whose parent is unknown (not synced yet, or removed)
    is a root. Reply links come from members, so they may form a cycle; posts
    in one are shown as roots rather than dropped. Iterative: a long chain of
    replies cannot exhaust the stack.
    """
    ordered = list(posts)
    known = {p.id for p in ordered}
    children: dict[str, list[Post]] = defaultdict(list)
    roots = []
    for post in ordered:
        if post.reply_to in known and post.reply_to != post.id:
            children[post.reply_to].append(post)
        else:
            roots.append(post)
    out: list[tuple[Post, int]] = []
    placed: set[str] = set()

    def walk(root: Post) -> None:
        stack = [(root, 0)]
        while stack:
            post, depth = stack.pop()
            if post.id in placed:
                continue
            placed.add(post.id)
            out.append((post, depth))
            stack.extend((child, depth + 1) for child in reversed(children[post.id]))

    for root in roots:
        walk(root)
    for post in ordered:  # only posts caught in a reply cycle are left
        if post.id not in placed:
            walk(post)
    return out
