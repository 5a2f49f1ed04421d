"""Commands on what members write: posts, reactions, check-ins, events, and the export."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import replace

from circle import export, ics
from circle.cli.inputs import _body, parse_when
from circle.cli.output import _done, _short, emit_json, json_text, safe, when
from circle.cli.poll_cmds import poll_text
from circle.domain.models import REPEATS, RSVP_ANSWERS
from circle.domain.recurrence import is_zone, zone
from circle.domain.threads import thread_order
from circle.domain.times import readable, stamp
from circle.domain.untrusted import shown
from circle.errors import InvalidInput, UsageError
from circle.service import Service


def cmd_post(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    post = service.post(circle, _body(args.text), reply_to=args.reply_to, content_warning=args.cw)
    return _done(args, {"id": post.id, "circle": circle, "reply_to": post.reply_to}, post.id)


def cmd_edit(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    post = service.edit(circle, args.post, _body(args.text))
    return _done(args, {"id": post.id, "circle": circle, "edited_at": stamp(post.edited_at)}, post.id)


def cmd_delete(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    post = service.delete(circle, args.post)
    return _done(args, {"id": post.id, "circle": circle, "deleted": post.deleted}, post.id)


def cmd_react(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    post = service.react(circle, args.post, args.kind, on=not args.remove)
    counts = {kind: len(who) for kind, who in sorted(post.reactions.items())}
    return _done(args, {"id": post.id, "circle": circle, "reactions": counts}, post.id)


def cmd_feed(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    names = service.member_names(circle)
    posts = service.feed(circle)
    if args.json:
        emit_json([export.post_record(p, names) for p in posts])
        return 0
    under: dict[str, list] = {}
    for result in service.polls(circle):
        under.setdefault(result.poll.post_id or "", []).append(result)
    for post, depth in thread_order(posts):
        who = safe(names.get(post.author_id, _short(post.author_id)))
        indent = "    " * min(depth, 4)
        at = readable(post.created_at)
        print(f"{indent}[{_short(post.id)}] {who} · {at}")
        if post.deleted:
            lines = ["(deleted)"]
        elif post.hidden and not post.body:
            lines = [f"(hidden by moderators: {safe(post.hidden_reason or '')})"]
        elif post.hidden:
            lines = [f"[hidden from members: {safe(post.hidden_reason or '')}]",
                     *shown(post.body, multiline=True).splitlines()]
        elif post.collapsed_reason:
            cw = f"CW: {safe(post.content_warning)}; " if post.content_warning else ""
            lines = [f"({cw}folded: {safe(post.collapsed_reason)}; use --json to read)"]
        elif post.content_warning:
            lines = [f"CW: {safe(post.content_warning)} (body hidden; use --json to read)"]
        else:
            lines = shown(post.body, multiline=True).splitlines()
        if post.reactions:
            lines.append("  ".join(f"{safe(k)} {len(v)}" for k, v in sorted(post.reactions.items())))
        for result in under.get(post.id, ()) if not post.hidden else ():
            lines += poll_text(result, names)
        for line in lines:
            print(f"{indent}  {line}")
    if not posts:
        print("no posts yet")
    return 0


def _search_record(hit, names: dict[str, str], circle_names: dict[str, str]) -> dict:
    post = hit.post
    return {
        "circle": hit.circle_id, "circle_name": circle_names.get(hit.circle_id, ""), "id": post.id,
        "author_id": post.author_id, "author": names.get(post.author_id, ""),
        "created_at": stamp(post.created_at), "reply_to": post.reply_to,
        "content_warning": post.content_warning, "hidden": post.hidden, "hidden_reason": post.hidden_reason,
        "folded": hit.folded, "snippet": hit.snippet or None,
        "marks": [list(span) for span in hit.marks],
    }


def cmd_search(args, service: Service) -> int:
    if args.all == (args.circle is not None):
        raise UsageError("search takes a CIRCLE or --all, not both or neither")
    if args.all:
        result = service.search_all(args.text, limit=args.limit)
    else:
        result = service.search(service.resolve_circle(args.circle), args.text, limit=args.limit)
    circle_ids = {hit.circle_id for hit in result.hits}
    names = {cid: service.member_names(cid) for cid in circle_ids}
    circle_names = {c.id: c.name for c in service.circles()} if args.all else {}
    if args.json:
        emit_json({"query": result.query, "total": result.total,
                   "hits": [_search_record(h, names[h.circle_id], circle_names) for h in result.hits]})
        return 0
    for hit in result.hits:
        post = hit.post
        who = safe(names[hit.circle_id].get(post.author_id, _short(post.author_id)))
        at = readable(post.created_at)
        where = f" · {safe(circle_names.get(hit.circle_id, _short(hit.circle_id)))}" if args.all else ""
        print(f"[{_short(post.id)}] {who} · {at}{where}")
        if hit.folded:
            line = f"(folded: {safe(hit.folded)}; use --json or the feed to read)"
        elif post.content_warning:
            line = f"CW: {safe(post.content_warning)} (body hidden; use --json to read)"
        else:
            line = safe(hit.snippet)
        if post.hidden:
            line = f"[hidden from members: {safe(post.hidden_reason or '')}] {line}"
        print(f"  {line}")
    shown_count = len(result.hits)
    more = f", showing the newest {shown_count} (--limit)" if result.total > shown_count else ""
    print(f"{result.total} match{'es' * (result.total != 1)}{more}" if result.total else "no matches")
    return 0


def cmd_checkin(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    checkin = service.checkin(
        circle, args.mood, energy=args.energy, note=args.note or "",
        tags=tuple(args.tag or ()), share="me" if args.private else "band" if args.band else "circle",
    )
    return _done(args, {"id": checkin.id, "circle": circle, "visibility": checkin.visibility}, checkin.id)


def cmd_checkins(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    names = service.member_names(circle)
    checkins = service.checkins(circle)
    if args.json:
        emit_json([export.checkin_record(c, names) for c in checkins])
        return 0
    for c in checkins:
        at = readable(c.created_at)
        who = names.get(c.author_id, _short(c.author_id))
        if c.mood is None:
            print(safe(f"{at}  {who}  {c.band_text}"))
            continue
        shared = {"me": "  (only me)", "band": f"  (circle sees: {c.band_text})"}.get(c.visibility, "")
        note = f"  {c.note}" if c.note else ""
        print(safe(f"{at}  {who}  mood {c.mood}/5{note}{shared}"))
    if not checkins:
        print("no check-ins yet")
    return 0


def _zone_arg(args) -> str | None:
    if args.tz is None:
        return None
    if not is_zone(args.tz):
        raise InvalidInput(f"unknown time zone {args.tz!r} (use an IANA name, e.g. Europe/London)")
    return args.tz


def _event_done(args, event, circle: str, now) -> int:
    record = export.event_record(event, {}, now)
    return _done(args, {"id": event.id, "circle": circle, "next": record["next"], "repeat": event.repeat,
                        "tz": record["tz"], "cancelled": event.cancelled}, event.id)


def cmd_checkin_reminder(args, service: Service) -> int:
    if args.off and args.at:
        raise UsageError("give a time or --off, not both")
    if args.off or args.at:
        service.set_checkin_reminder(None if args.off else args.at)
    at = service.checkin_reminder()
    if args.json:
        emit_json({"checkin_reminder": at})
    else:
        print(f"the app offers a check-in after {at} each day" if at else "no check-in reminder")
    return 0


def cmd_quiet(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    names = service.member_names(circle)
    posts = service.quiet_posts(circle)
    if args.json:
        emit_json([export.post_record(p, names) for p in posts])
        return 0
    for post in posts:
        who = safe(names.get(post.author_id, _short(post.author_id)))
        at = readable(post.created_at)
        if post.collapsed_reason:
            text = f"(folded: {safe(post.collapsed_reason)})"
        elif post.content_warning:
            text = f"CW: {safe(post.content_warning)}"
        else:
            text = shown(post.body, limit=70)
        print(f"[{_short(post.id)}] {who} · {at}  {text}")
    if not posts:
        print("nobody is waiting for a reply")
    return 0


def cmd_quiet_after(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    if args.hours is not None:
        service.set_quiet_after(circle, args.hours)
    hours = service.quiet_after(circle)
    if args.json:
        emit_json({"circle_id": circle, "quiet_after_hours": hours})
    else:
        print(f"posts with no reply after {hours} hour{'s' * (hours != 1)} show as waiting for one")
    return 0


def cmd_event(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    tz = _zone_arg(args) or service.local_zone()
    event = service.add_event(
        circle, args.title, parse_when(args.when, zone(tz)), repeat=args.repeat,
        where=args.where or "", notes=args.notes or "", tz=tz, minutes=args.minutes,
    )
    return _event_done(args, event, circle, service.clock())


def cmd_event_edit(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    event = service.resolve_event(circle, args.event)
    tz = _zone_arg(args)
    # A new time without an offset is read on the clock the event will repeat on.
    when = parse_when(args.when, zone(tz or event.tz)) if args.when is not None else None
    event = service.edit_event(circle, event.id, title=args.title, when=when, repeat=args.repeat,
                               where=args.where, notes=args.notes, tz=tz, minutes=args.minutes)
    return _event_done(args, event, circle, service.clock())


def cmd_event_cancel(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    return _event_done(args, service.cancel_event(circle, args.event), circle, service.clock())


def cmd_events(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    names = service.member_names(circle)
    now = service.clock()
    records = [export.event_record(e, names, now) for e in service.events(circle)]
    if args.json:
        emit_json(records)
        return 0
    for r in records:
        repeat = f" (repeats {r['repeat']}, {r['tz']})" if r["repeat"] != "none" else ""
        cancelled = "CANCELLED " if r["cancelled"] else ""
        where = f" at {r['where']}" if r["where"] else ""
        going = sum(1 for a in r["rsvps"].values() if a == "yes")
        print(safe(f"[{_short(r['id'])}] {cancelled}{r['title']}  next {when(r['next'])}{repeat}{where}  "
                   f"{going} going"))
    if not records:
        print("no events yet")
    return 0


def cmd_rsvp(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    event = service.rsvp(circle, args.event, args.answer)
    return _done(args, {"event": event.id, "circle": circle, "answer": args.answer}, event.id)


def cmd_export(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    if args.json and args.format != "json" and not args.output:
        raise UsageError(f"--json with --format {args.format} needs --output FILE (the export goes there)")
    now = service.clock()
    # The check-in exports are this member's own only: others' check-ins are theirs to export.
    checkins = service.my_checkins(circle) if args.format in ("csv", "summary") else service.checkins(circle)
    if args.no_private:  # what the circle saw: no private check-ins, only the band of band ones
        checkins = [replace(c, mood=None, energy=None, note="", tags=()) if c.visibility == "band" else c
                    for c in checkins if c.visibility != "me"]
    parts = (service.info(circle), service.members(circle, include_departed=True), service.feed(circle),
             checkins, service.events(circle), now)
    if args.format == "ics":
        text = ics.export_ics(parts[0], parts[4], now)
    elif args.format == "json":
        text = json_text(export.export_json(*parts, polls=service.polls(circle)))
    elif args.format == "csv":
        text = export.export_daylio_csv([c for c in checkins if c.mood is not None])
    elif args.format == "summary":
        text = export.export_checkin_summary(service.whoami().name, checkins, now)
    else:
        text = export.export_markdown(*parts, polls=service.polls(circle))
    if args.output:
        try:
            # The export is plaintext: readable by you alone.
            descriptor = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            # newline="": the iCalendar file's CRLF line ends are written as they are.
            with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
        except OSError as exc:
            raise InvalidInput(f"cannot write {args.output}: {exc.strerror}") from None
        _done(args, {"circle": circle, "format": args.format, "output": args.output})
    else:
        sys.stdout.write(text)
    return 0


def register(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Adds the post, check-in and event commands to the parser."""
    p = command("post", cmd_post, "post to a circle (TEXT '-' reads stdin)")
    p.add_argument("circle"); p.add_argument("text")
    p.add_argument("--reply-to", metavar="POST")
    p.add_argument("--cw", metavar="WARNING", help="content warning; the body stays collapsed")
    p = command("edit", cmd_edit, "edit one of your posts")
    p.add_argument("circle"); p.add_argument("post"); p.add_argument("text")
    p = command("delete", cmd_delete, "delete one of your posts")
    p.add_argument("circle"); p.add_argument("post")
    p = command("react", cmd_react, "react to a post")
    p.add_argument("circle"); p.add_argument("post"); p.add_argument("kind", help="e.g. heart, hug, +1")
    p.add_argument("--remove", action="store_true", help="take your reaction back")
    p = command("feed", cmd_feed, "show a circle's posts")
    p.add_argument("circle")

    p = command("search", cmd_search, 'search posts: whole words, "quoted phrases"; newest first')
    p.add_argument("circle", nargs="?", help="the circle (or --all)")
    p.add_argument("text", help='words that must all occur; "a phrase" in quotes')
    p.add_argument("--all", action="store_true", help="search every circle on this profile")
    p.add_argument("--limit", type=int, default=50, help="at most this many results (default 50)")

    p = command("checkin", cmd_checkin, "record how you are doing")
    p.add_argument("circle")
    p.add_argument("--mood", type=int, required=True, help="1 (very low) to 5 (very good)")
    p.add_argument("--energy", type=int, help="1 to 5")
    p.add_argument("--note")
    p.add_argument("--tag", action="append", help="repeatable")
    share = p.add_mutually_exclusive_group()
    share.add_argument("--private", action="store_true", help="keep it on this device only")
    share.add_argument("--band", action="store_true",
                       help='share only "doing okay" or "could use support"; the rest stays on this device')
    p = command("checkins", cmd_checkins, "list check-ins")
    p.add_argument("circle")
    p = command("checkin-reminder", cmd_checkin_reminder, "show or set this device's daily check-in reminder")
    p.add_argument("at", nargs="?", metavar="HH:MM", help="local time, 24-hour")
    p.add_argument("--off", action="store_true", help="no reminder")
    p = command("quiet", cmd_quiet, "posts waiting for a reply")
    p.add_argument("circle")
    p = command("quiet-after", cmd_quiet_after, "show or set the hours before a post shows as waiting for a reply")
    p.add_argument("circle")
    p.add_argument("hours", nargs="?", type=int, help="organizers: 1 to 336")

    p = command("event", cmd_event, "plan a meetup")
    p.add_argument("circle"); p.add_argument("title")
    p.add_argument("--when", required=True, help="date and time, e.g. 2026-12-01T18:30")
    p.add_argument("--repeat", choices=REPEATS, default="none")
    p.add_argument("--where"); p.add_argument("--notes")
    p.add_argument("--tz", metavar="ZONE", help="IANA zone it repeats in (default: this device's), "
                   "e.g. Europe/London; a --when without an offset is read in it")
    p.add_argument("--minutes", type=int, help="how long it lasts (default 60)")
    p = command("event-edit", cmd_event_edit, "change an event you planned (only what you give)")
    p.add_argument("circle"); p.add_argument("event")
    p.add_argument("--title"); p.add_argument("--when", help="new first occurrence, e.g. 2026-12-01T18:30")
    p.add_argument("--repeat", choices=REPEATS); p.add_argument("--where"); p.add_argument("--notes")
    p.add_argument("--tz", metavar="ZONE", help="IANA zone it repeats in from now on")
    p.add_argument("--minutes", type=int)
    p = command("event-cancel", cmd_event_cancel, "cancel an event you planned, for everyone")
    p.add_argument("circle"); p.add_argument("event")
    p = command("events", cmd_events, "list events")
    p.add_argument("circle")
    p = command("rsvp", cmd_rsvp, "answer an event")
    p.add_argument("circle"); p.add_argument("event"); p.add_argument("answer", choices=RSVP_ANSWERS)


def register_export(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Adds export to the parser."""
    p = command("export", cmd_export, "export a circle")
    p.add_argument("circle")
    p.add_argument("--format", choices=("json", "md", "ics", "csv", "summary"), required=True,
                   help="ics: the events as an iCalendar file for calendar apps; csv: your check-ins in "
                        "Daylio's layout; summary: your check-ins week by week (Markdown)")
    p.add_argument("--output", metavar="FILE", help="write here (mode 0600) instead of stdout")
    p.add_argument("--no-private", action="store_true", help="leave out your private check-ins")
