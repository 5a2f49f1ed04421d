"""Polls: asking the circle, voting, closing, and the results as this member sees them.

The rules every peer counts by are in domain/polls.py; this part refuses, with
one line, what the document would not count anyway (a vote on a closed poll,
for an option that does not exist) and what posting refuses (a muted member,
guidelines not yet accepted, a member no longer in the circle).
"""

from __future__ import annotations

from datetime import timedelta

from circle.domain import polls as rules
from circle.domain.models import PollResult
from circle.domain.refs import resolve as resolve_ref
from circle.domain.roles import MODERATING
from circle.errors import InvalidInput, NotAllowed, NotFound
from circle.service.content import Content
from circle.service.core import Clock, IdSource, clean_text
from circle.service.repository import NOT_A_MEMBER, CircleRepository

MAX_CLOSES_IN = timedelta(days=366)


class Polls:
    def __init__(self, repo: CircleRepository, content: Content, clock: Clock, new_id: IdSource) -> None:
        self.repo, self.content, self.clock, self.new_id = repo, content, clock, new_id

    def polls(self, circle_id: str) -> list[PollResult]:
        """Every poll of the circle, oldest first, as it stands on this device's clock."""
        circle = self.repo.open(circle_id)
        state = circle.state
        may_close = frozenset(m.id for m in state.members.values() if m.role in MODERATING)
        now, me = self.clock(), circle.my_member_id
        found = circle.cached("polls", lambda: rules.read_polls(circle.document, circle.roster(), may_close))
        return [rules.result(poll, now, me, state.mutes) for poll in found]

    def resolve_poll(self, circle_id: str, ref: str) -> PollResult:
        found = {r.poll.id: r for r in self.polls(circle_id)}
        return found[resolve_ref(ref, ((i, r.poll.question) for i, r in found.items()), "poll")]

    def create_poll(self, circle_id: str, question: str, options: list[str], *, post: str | None = None,
                    guidelines: bool = False, closes_in: timedelta | None = None) -> PollResult:
        """Ask the circle: 2-10 distinct options, optionally under a post or about
        the guidelines now in force, optionally closing by itself after `closes_in`."""
        question = clean_text(question, "question", rules.MAX_QUESTION_CHARS)
        cleaned = [clean_text(o, f"option {n}", rules.MAX_OPTION_CHARS) for n, o in enumerate(options, 1)]
        if not rules.MIN_OPTIONS <= len(cleaned) <= rules.MAX_OPTIONS:
            raise InvalidInput(f"a poll has {rules.MIN_OPTIONS} to {rules.MAX_OPTIONS} options, not {len(cleaned)}")
        if len(set(cleaned)) != len(cleaned):
            raise InvalidInput("two options are the same; each option must differ")
        if post is not None and guidelines:
            raise InvalidInput("a poll hangs under a post or is about the guidelines, not both")
        if closes_in is not None and not timedelta(minutes=1) <= closes_in <= MAX_CLOSES_IN:
            raise InvalidInput("a poll closes between a minute and a year from now")
        post_id = None
        if post is not None:
            target = self.content.resolve_post(circle_id, post)
            if target.deleted:
                raise NotAllowed(f"post {target.id} is deleted")
            post_id = target.id
        version = None
        if guidelines:
            version = self.repo.open(circle_id).state.guidelines_version
            if not version:
                raise NotAllowed("this circle has no guidelines yet for a poll to be about")
        self._check_may_take_part(circle_id)
        poll_id, now = self.new_id(), self.clock()
        closes_at = now + closes_in if closes_in is not None else None
        self.repo.write(circle_id, lambda d: d.add_poll(
            poll_id, question, cleaned, now, closes_at=closes_at, post_id=post_id, guidelines_version=version))
        return self.resolve_poll(circle_id, poll_id)

    def vote(self, circle_id: str, ref: str, option: str | int) -> PollResult:
        """Vote for an option: an int is its number (1 first); text is its exact
        text or else its number. A later vote replaces this member's earlier one,
        from any of their devices."""
        current = self.resolve_poll(circle_id, ref)
        poll = current.poll
        if not current.open:
            raise NotAllowed(f"poll {poll.id[:8]} is closed")
        choice = _choice(poll.options, option)
        self._check_may_take_part(circle_id)
        me, now = self._me(circle_id), self.clock()
        self.repo.write(circle_id, lambda d: d.set_vote(poll.id, me, choice, now))
        return self.resolve_poll(circle_id, poll.id)

    def close_poll(self, circle_id: str, ref: str) -> PollResult:
        """Its author, a moderator or an organizer closes it: the votes this device
        holds now are the ones that count, on every peer."""
        current = self.resolve_poll(circle_id, ref)
        poll = current.poll
        circle = self.repo.open(circle_id)
        me = self._me(circle_id)
        if me != poll.author_id and circle.state.role_of(me) not in MODERATING:
            raise NotAllowed("only the member who asked, a moderator or an organizer closes a poll")
        if not current.open:
            raise NotAllowed(f"poll {poll.id[:8]} is already closed")
        now = self.clock()
        self.repo.write(circle_id, lambda d: d.close_poll(poll.id, me, now))
        return self.resolve_poll(circle_id, poll.id)

    def _me(self, circle_id: str) -> str:
        member = self.repo.open(circle_id).my_member_id
        if member is None:
            raise NotAllowed(NOT_A_MEMBER)
        return member

    def _check_may_take_part(self, circle_id: str) -> None:
        if not self.repo.open(circle_id).is_active_member():
            raise NotAllowed(NOT_A_MEMBER)
        self.content.check_may_post(circle_id)


def _choice(options: tuple[str, ...], option: str | int) -> int:
    if isinstance(option, int):
        if 1 <= option <= len(options):
            return option - 1
        raise NotFound(f"no option {option}: give its number (1 to {len(options)}) or its exact text")
    text = option.strip()
    if text in options:
        return options.index(text)
    if text.isascii() and text.isdigit() and 1 <= int(text) <= len(options):
        return int(text) - 1
    raise NotFound(f"no option {option!r}: give its number (1 to {len(options)}) or its exact text")
