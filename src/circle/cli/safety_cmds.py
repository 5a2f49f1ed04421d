"""Commands that keep members safe: moderation, reports, warnings, reach-out, filters, crisis resources."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime, timezone

from circle import export
from circle.cli.inputs import parse_duration
from circle.cli.output import _done, _ok, _short, emit_json, safe, when
from circle.domain.builtin_resources import builtin_resources
from circle.domain.models import CrisisResource
from circle.domain.roles import MODERATING, ReportStatus
from circle.domain.times import stamp
from circle.errors import UsageError
from circle.service import Service


def cmd_hide(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    service.hide(circle, args.post, args.reason)
    post = service.resolve_post(circle, args.post)
    return _done(args, {"ok": True, "circle": circle, "post": post.id, "hidden": post.hidden})


def cmd_unhide(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    service.unhide(circle, args.post)
    post = service.resolve_post(circle, args.post)
    return _done(args, {"ok": True, "circle": circle, "post": post.id, "hidden": post.hidden})


def cmd_mute(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    until = service.mute(circle, args.member, parse_duration(args.duration), args.reason or "")
    return _ok(args, service, circle, args.member, until=stamp(datetime.fromtimestamp(until / 1000, timezone.utc)))


def cmd_unmute(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    service.unmute(circle, args.member)
    return _ok(args, service, circle, args.member, muted=False)


def cmd_report(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    report = service.report(circle, args.post, args.reason)
    if args.json:
        emit_json(export.report_record(report, {}, moderator=False))
    else:
        print(report.id)
    return 0


def cmd_reports(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    moderator = service.my_role(circle) in MODERATING
    names = service.member_names(circle)
    reports = service.reports(circle)
    if not args.all:
        reports = [r for r in reports if r.status in (ReportStatus.OPEN, ReportStatus.COLLAPSED)]
    records = [export.report_record(r, names, moderator=moderator) for r in reports]
    if args.json:
        emit_json(records)
        return 0
    for r in records:
        print(safe(f"[{_short(r['id'])}] post {_short(r['post_id'])}  {r['status']}  {when(r['created_at'])}"))
        if moderator:
            author = r["author"] or (_short(r["author_id"]) if r["author_id"] else "?")
            print(safe(f"  reported by {r['reporter'] or _short(r['reporter_id'])}; written by {author}"
                       f" ({r['evidence']})"))
            if r["reported_body"] is not None:
                print(safe("  text: " + " ".join(r["reported_body"].split())[:200]))
        print(safe(f"  reason: {r['reason']}"))
    if not records:
        print("no open reports" if not args.all else "no reports")
    return 0


def cmd_dismiss(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    dismissed = service.dismiss(circle, args.report, args.reason or "")
    return _done(args, {"circle": circle, "dismissed": dismissed},
                 f"dismissed {len(dismissed)} report{'s' if len(dismissed) != 1 else ''}")


def cmd_warn(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    warning = service.warn(circle, args.member, args.reason)
    member = service.resolve_member(circle, args.member)
    return _done(args, {"id": warning, "circle": circle, "member": member.id}, warning)


def cmd_reach_out(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    request = service.reach_out(circle, args.to, args.note or "")
    to = list(dict.fromkeys(service.resolve_member(circle, ref).id for ref in args.to))
    return _done(args, {"id": request, "circle": circle, "to": to}, request)


def cmd_inbox(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    names = service.member_names(circle)
    items = service.inbox(circle)
    records = [export.inbox_record(i, names) for i in items]
    if args.json:
        emit_json(records)
    for r in records if not args.json else ():
        who = r["sender"] or _short(r["sender_id"])
        if r["kind"] == "warning":
            print(safe(f"{when(r['created_at'])}  warning from the moderators ({who}): {r['text']}"))
        else:
            others = f" (also asked: {', '.join(r['also_asked'])})" if r["also_asked"] else ""
            note = f": {r['text']}" if r["text"] else ""
            print(safe(f"{when(r['created_at'])}  {who} asks you to reach out{note}{others}"))
    if not records and not args.json:
        print("nothing for you")
    service.mark_inbox_seen(circle, [i.id for i in items])
    return 0


def cmd_modlog(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    names = service.member_names(circle)
    records = [export.modlog_record(e, names) for e in service.modlog(circle)]
    if args.json:
        emit_json(records)
        return 0
    for r in records:
        who = r["actor"] or (_short(r["actor_id"]) if r["actor_id"] else "?")
        flag = "" if r["status"] == "valid" else f"  [{r['status'].upper()}: {r['why']}]"
        why = f" (reason: {r['reason']})" if r["reason"] else ""
        print(safe(f"{when(r['at'])}  {who} {r['summary']}{why}{flag}"))
    if not records:
        print("no moderation yet")
    return 0


def cmd_report_policy(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    if args.fold_after is not None:
        service.set_report_policy(circle, args.fold_after)
    after = service.report_policy(circle)
    if args.json:
        emit_json({"circle_id": circle, "collapse_after": after})
    else:
        print(f"posts fold for review after {after} report{'s' * (after != 1)}" if after
              else "reported posts never fold on their own")
    return 0


def cmd_filters(args, service: Service) -> int:
    topics = list(service.cw_filters())
    if args.add or args.remove:
        gone = {t.strip().lower() for t in args.remove or ()}
        topics = list(service.set_cw_filters([t for t in topics if t not in gone] + list(args.add or ())))
    if args.json:
        emit_json(list(topics))
    else:
        print("\n".join(safe(t) for t in topics) if topics
              else "no filters: posts fold only when they carry a content warning")
    return 0


def cmd_region(args, service: Service) -> int:
    if args.code:
        service.set_region(None if args.code.lower() == "auto" else args.code)
    region = service.region()
    if args.json:
        emit_json({"region": region})
    else:
        print(region or "none (every built-in resource is listed)")
    return 0


def cmd_resources(args, service: Service) -> int:
    own = []
    changing = [flag for flag in ("add", "edit", "remove") if getattr(args, flag)]
    if len(changing) > 1:
        raise UsageError("use one of --add, --edit, --remove at a time")
    if args.name is not None and not args.edit:
        raise UsageError("--name goes with --edit (with --add the name is its argument)")
    if args.circle:
        circle = service.resolve_circle(args.circle)
        if args.add:
            if not args.contact:
                raise UsageError("--add needs --contact")
            service.add_resource(circle, CrisisResource(args.add, args.contact, args.region or "", args.hours or ""))
        elif args.edit:
            if all(v is None for v in (args.name, args.contact, args.region, args.hours)):
                raise UsageError("--edit needs at least one of --name, --contact, --region, --hours")
            service.edit_resource(circle, args.edit, name=args.name, contact=args.contact,
                                  region=args.region, hours=args.hours)
        elif args.remove:
            service.remove_resource(circle, args.remove)
        own = [{"id": r.id, **export.resource_record(r, "circle")} for r in service.info(circle).resources]
    elif changing:
        raise UsageError(f"--{changing[0]} needs a CIRCLE")
    builtin = [{"id": None, **export.resource_record(r, "builtin")} for r in builtin_resources(service.region())]
    if args.json:
        emit_json(own + builtin)
        return 0
    for r in own + builtin:
        extra = ", ".join(x for x in (r["region"], r["hours"]) if x)
        short = f"[{r['id'][:8]}] " if r["id"] else ""
        print(safe(f"{short}{r['name']}: {r['contact']}" + (f"  ({extra})" if extra else "")))
    return 0


def register(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Adds the moderation, report, inbox, filter and resource commands to the parser."""
    p = command("hide", cmd_hide, "hide a post (moderators)")
    p.add_argument("circle"); p.add_argument("post")
    p.add_argument("--reason", required=True)
    p = command("unhide", cmd_unhide, "unhide a post (moderators)")
    p.add_argument("circle"); p.add_argument("post")
    p = command("mute", cmd_mute, "stop a member posting for a while (moderators)")
    p.add_argument("circle"); p.add_argument("member")
    p.add_argument("--for", dest="duration", required=True, metavar="DURATION", help="e.g. 1h, 1d, 1w")
    p.add_argument("--reason", help="shown in the moderation log")
    p = command("unmute", cmd_unmute, "end a member's mute now (moderators)")
    p.add_argument("circle"); p.add_argument("member")
    p = command("report", cmd_report, "report a post to the moderators (only they can read it); prints its id")
    p.add_argument("circle"); p.add_argument("post")
    p.add_argument("--reason", required=True)
    p = command("reports", cmd_reports, "moderators: the report queue; members: your own reports")
    p.add_argument("circle")
    p.add_argument("--all", action="store_true", help="include reports already dealt with")
    p = command("dismiss", cmd_dismiss, "close the open reports on a reported post, unfolding it (moderators)")
    p.add_argument("circle"); p.add_argument("report")
    p.add_argument("--reason", help="shown in the moderation log")
    p = command("warn", cmd_warn, "send a member a private warning (moderators)")
    p.add_argument("circle"); p.add_argument("member")
    p.add_argument("--reason", required=True, help="what they will read")
    p = command("modlog", cmd_modlog, "the moderation log: who did what, when and why")
    p.add_argument("circle")
    p = command("report-policy", cmd_report_policy, "show or set when reported posts fold for review")
    p.add_argument("circle")
    p.add_argument("--fold-after", type=int, metavar="N", help="organizers: fold after N reports (0: never)")
    p = command("reach-out", cmd_reach_out, "ask chosen members to get in touch with you (only they see it)")
    p.add_argument("circle")
    p.add_argument("--to", action="append", required=True, metavar="MEMBER", help="repeatable")
    p.add_argument("--note", help="a few words for them")
    p = command("inbox", cmd_inbox, "warnings and reach-out requests sent to you")
    p.add_argument("circle")
    p = command("filters", cmd_filters, "topics whose posts stay folded for you (every circle)")
    p.add_argument("--add", action="append", metavar="TOPIC")
    p.add_argument("--remove", action="append", metavar="TOPIC")
    p = command("region", cmd_region, "show or set the country for built-in crisis resources")
    p.add_argument("code", nargs="?", help="two letters, e.g. GB; 'auto' follows the locale")
    p = command("resources", cmd_resources, "crisis resources: the circle's and built-in ones")
    p.add_argument("circle", nargs="?", help="without it, only the built-in resources")
    p.add_argument("--add", metavar="NAME", help="add a resource (organizers)")
    p.add_argument("--edit", metavar="ID", help="correct a resource by id or unique prefix (organizers)")
    p.add_argument("--remove", metavar="ID", help="remove a resource by id or unique prefix (organizers)")
    p.add_argument("--name", help="with --edit: the new name")
    p.add_argument("--contact"); p.add_argument("--region"); p.add_argument("--hours")
