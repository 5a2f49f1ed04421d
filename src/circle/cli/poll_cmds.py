"""Commands on the circle's decisions: asking, voting, closing, and the results."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime

from circle import export
from circle.cli.inputs import parse_duration
from circle.cli.output import _done, _short, emit_json
from circle.domain import polls as poll_rules
from circle.domain.times import readable
from circle.service import Service


def stamp(moment: datetime | None) -> str:
    return readable(moment) if moment else ""


def poll_text(result, names: dict[str, str]) -> list[str]:
    """A poll as the feed and `circle polls` print it (cleaned text only)."""
    first, *rest = poll_rules.lines(result, names, stamp)
    return [f"[{_short(result.poll.id)}] {first}", *rest]


def _answer(args, service: Service, circle: str, result) -> int:
    return _done(args, {"circle": circle, **export.poll_record(result, service.member_names(circle))},
                 result.poll.id)


def cmd_poll(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    closes_in = parse_duration(args.closes) if args.closes else None
    result = service.create_poll(circle, args.question, list(args.option or ()), post=args.post,
                                 guidelines=args.guidelines, closes_in=closes_in)
    return _answer(args, service, circle, result)


def cmd_vote(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    return _answer(args, service, circle, service.vote(circle, args.poll, args.option))


def cmd_poll_close(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    return _answer(args, service, circle, service.close_poll(circle, args.poll))


def cmd_polls(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    names = service.member_names(circle)
    results = service.polls(circle)
    if args.json:
        emit_json([export.poll_record(r, names) for r in results])
        return 0
    for result in results:
        for line in poll_text(result, names):
            print(line)
        if result.poll.post_id:
            print(f"  under post [{_short(result.poll.post_id)}]")
    if not results:
        print("no polls yet")
    return 0


def register(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Adds poll, vote, poll-close and polls to the parser."""
    p = command("poll", cmd_poll, "ask the circle: a poll with 2 to 10 options; prints its id")
    p.add_argument("circle"); p.add_argument("question")
    p.add_argument("--option", action="append", metavar="TEXT", help="repeat for each option (2 to 10)")
    about = p.add_mutually_exclusive_group()
    about.add_argument("--post", metavar="POST", help="show it under this post")
    about.add_argument("--guidelines", action="store_true", help="a poll about the guidelines now in force")
    p.add_argument("--closes", metavar="IN", help="closes by itself after this long, e.g. 3d, 12h")
    p = command("vote", cmd_vote, "vote in a poll (a later vote replaces yours)")
    p.add_argument("circle"); p.add_argument("poll")
    p.add_argument("option", help="the option's number (1 first) or its exact text")
    p = command("poll-close", cmd_poll_close, "close a poll you asked (moderators: any poll)")
    p.add_argument("circle"); p.add_argument("poll")
    p = command("polls", cmd_polls, "a circle's polls: counts, open or closed, your vote")
    p.add_argument("circle")
