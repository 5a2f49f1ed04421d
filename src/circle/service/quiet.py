"""Nobody left unanswered: posts waiting for a reply, and the circle's threshold.

The threshold is a circle setting changed by organizers through a governance
action (`set_quiet_after`), so every member's device agrees on it and the
moderation log shows who changed it. Time is the service's clock.
"""

from __future__ import annotations

from circle.domain.models import Post
from circle.domain.quiet import MAX_QUIET_AFTER_HOURS, waiting_posts
from circle.errors import InvalidInput
from circle.service.content import Content
from circle.service.core import Clock
from circle.service.membership import Membership
from circle.service.repository import CircleRepository


class Quiet:
    def __init__(self, repo: CircleRepository, content: Content, membership: Membership, clock: Clock) -> None:
        self.repo, self.content, self.membership, self.clock = repo, content, membership, clock

    def quiet_posts(self, circle_id: str) -> list[Post]:
        """Others' posts that nobody else has answered or reacted to for the
        circle's threshold, oldest first. Never the reader's own: the author is
        not told that their post is waiting."""
        circle = self.repo.open(circle_id)
        return waiting_posts(self.content.feed(circle_id), circle.my_member_id, self.clock(),
                             circle.state.quiet_after)

    def quiet_after(self, circle_id: str) -> int:
        """Hours without a reply before a post shows as waiting for one."""
        return self.repo.open(circle_id).state.quiet_after

    def set_quiet_after(self, circle_id: str, hours: int) -> None:
        """Organizers: change the hours before a post shows as waiting for a reply."""
        if not 1 <= hours <= MAX_QUIET_AFTER_HOURS:
            raise InvalidInput(f"hours before a post shows as waiting must be 1 to {MAX_QUIET_AFTER_HOURS}")
        self.membership.act(circle_id, "set_quiet_after", {"hours": hours})
