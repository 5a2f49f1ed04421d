"""The `circle` command: every action scriptable, one line on stderr per error.

Global options go before the subcommand (`circle --home DIR feed C`); `--json`
is accepted before or after it.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from circle import export
from circle.crypto.invite_code import InviteCode
from circle.domain.threads import thread_order
from circle.domain.builtin_resources import builtin_resources
from circle.domain.untrusted import shown
from circle.domain.models import REPEATS, RSVP_ANSWERS, CrisisResource
from circle.errors import CircleError, InvalidInput, PassphraseUnavailable, ProfileExists, UsageError
from circle.profile import Profile, default_home
from circle.service import Service, clean_text
from circle.sync.address import peer_address


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not usage + line
        raise UsageError(f"{message} (see `{self.prog} --help`)")


# -- passphrase ----------------------------------------------------------------


def read_passphrase(*, confirm: bool = False) -> str:
    """CIRCLE_PASSPHRASE if set, else a prompt on a terminal, else an error.

    The variable wins over the prompt so scripts behave the same with or
    without a terminal attached.
    """
    env = os.environ.get("CIRCLE_PASSPHRASE")
    if env:
        if _not_utf8(env):
            raise InvalidInput("CIRCLE_PASSPHRASE is not valid UTF-8")
        return env
    if not sys.stdin.isatty():
        raise PassphraseUnavailable("no passphrase: run in a terminal or set CIRCLE_PASSPHRASE (it is empty or unset)")
    try:
        first = getpass.getpass("Passphrase: ")
        again = getpass.getpass("Repeat passphrase: ") if confirm else first
    except UnicodeDecodeError:
        raise InvalidInput("the passphrase typed is not valid UTF-8") from None
    if _not_utf8(first):
        raise InvalidInput("the passphrase typed is not valid UTF-8")
    if again != first:
        raise InvalidInput("the two passphrases differ")
    return first


def _not_utf8(text: str) -> bool:
    """True for text decoded with surrogateescape from bytes that were not UTF-8."""
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def _decode(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{what} is not UTF-8 text") from None


def parse_when(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
        moment = moment if moment.tzinfo else moment.astimezone()
        if not 1970 <= moment.astimezone(timezone.utc).year <= 9998:
            raise ValueError
    except (ValueError, OverflowError, OSError):
        raise InvalidInput(f"not a date and time: {text!r} (use e.g. 2026-12-01T18:30, years 1970-9998)") from None
    return moment


_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    match = re.fullmatch(r"\s*(\d{1,6})\s*([mhdw])\s*", text)
    if not match:
        raise InvalidInput(f"not a duration: {text!r} (use e.g. 30m, 12h, 7d, 2w)")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


# -- output --------------------------------------------------------------------

def safe(text: str) -> str:
    """Other members' text as one plain line (circle.domain.untrusted.shown)."""
    return shown(text)


def emit_json(value: object) -> None:
    sys.stdout.write(json_text(value))


# Outside its strings JSON is ASCII, so these can only sit inside one: as \u escapes the data
# stays whole (a peer's exact text) while no control or bidi character reaches the terminal.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069"
                          "\u2028\u2029\ufeff\ud800-\udfff]")


def json_text(value: object) -> str:
    """`value` as indented JSON, every character a terminal could act on escaped."""
    text = json.dumps(value, ensure_ascii=False, indent=2)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"


def _short(ident: str) -> str:
    return ident[:8]


def _done(args, record: dict, plain: object = None) -> int:
    """With --json, `record` as the whole of stdout; else `plain` on its own line (if any)."""
    if args.json:
        emit_json(record)
    elif plain is not None:
        print(plain)
    return 0


def _ok(args, service: Service, circle: str, member_ref: str, **fields) -> int:
    """The JSON answer of a governance action on a member; silent without --json."""
    member = service.resolve_member(circle, member_ref)
    return _done(args, {"ok": True, "circle": circle, "member": member.id, **fields})


# -- commands ------------------------------------------------------------------


def cmd_init(args, home: Path) -> int:
    clean_text(args.name, "name", 80)
    if Profile.exists(home):
        raise ProfileExists(f"a profile already exists at {home}")
    service = Service.create_profile(home, args.name, read_passphrase(confirm=True))
    me = service.whoami()
    service.close()
    if args.json:
        emit_json({"member_id": me.member_id, "device_id": me.device_id, "name": me.name, "home": str(home)})
    else:
        print(f"created profile {me.name} ({_short(me.member_id)}) at {home}")
    return 0


def cmd_whoami(args, service: Service) -> int:
    me = service.whoami()
    if args.json:
        emit_json({"member_id": me.member_id, "device_id": me.device_id, "name": me.name, "home": str(me.home)})
    else:
        print(f"{safe(me.name)}  member {me.member_id}  device {me.device_id}  home {me.home}")
    return 0


def cmd_new(args, service: Service) -> int:
    circle = service.create_circle(args.name, args.purpose or "")
    return _done(args, {"id": circle, "name": service.info(circle).name}, circle)


def cmd_circles(args, service: Service) -> int:
    circles = service.circles()
    if args.json:
        emit_json([{"id": c.id, "name": c.name, "members": c.members, "posts": c.posts,
                    "left": c.role is None} for c in circles])
    elif not circles:
        print("no circles yet: create one with `circle new NAME` or join with `circle join CODE`")
    for c in circles if not args.json else ():
        left = "  (you are no longer a member)" if c.role is None else ""
        print(safe(f"{_short(c.id)}  {c.name}  ({c.members} members, {c.posts} posts){left}"))
    return 0


def _body(text: str) -> str:
    return _decode(sys.stdin.buffer.read(), "standard input") if text == "-" else text


def cmd_post(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    post = service.post(circle, _body(args.text), reply_to=args.reply_to, content_warning=args.cw)
    return _done(args, {"id": post.id, "circle": circle, "reply_to": post.reply_to}, post.id)


def cmd_edit(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    post = service.edit(circle, args.post, _body(args.text))
    return _done(args, {"id": post.id, "circle": circle, "edited_at": export.iso(post.edited_at)}, post.id)


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
    for post, depth in thread_order(posts):
        who = safe(names.get(post.author_id, _short(post.author_id)))
        indent = "    " * min(depth, 4)
        stamp = post.created_at.astimezone().strftime("%Y-%m-%d %H:%M")
        print(f"{indent}[{_short(post.id)}] {who} · {stamp}")
        if post.deleted:
            lines = ["(deleted)"]
        elif post.hidden and not post.body:
            lines = [f"(hidden by moderators: {safe(post.hidden_reason or '')})"]
        elif post.hidden:
            lines = [f"[hidden from members: {safe(post.hidden_reason or '')}]", *shown(post.body, multiline=True).splitlines()]
        elif post.collapsed_reason:
            cw = f"CW: {safe(post.content_warning)}; " if post.content_warning else ""
            lines = [f"({cw}folded: {safe(post.collapsed_reason)}; use --json to read)"]
        elif post.content_warning:
            lines = [f"CW: {safe(post.content_warning)} (body hidden; use --json to read)"]
        else:
            lines = shown(post.body, multiline=True).splitlines()
        if post.reactions:
            lines.append("  ".join(f"{safe(k)} {len(v)}" for k, v in sorted(post.reactions.items())))
        for line in lines:
            print(f"{indent}  {line}")
    if not posts:
        print("no posts yet")
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
        stamp = c.created_at.astimezone().strftime("%Y-%m-%d %H:%M")
        who = names.get(c.author_id, _short(c.author_id))
        if c.mood is None:
            print(safe(f"{stamp}  {who}  {c.band_text}"))
            continue
        shared = {"me": "  (only me)", "band": f"  (circle sees: {c.band_text})"}.get(c.visibility, "")
        note = f"  {c.note}" if c.note else ""
        print(safe(f"{stamp}  {who}  mood {c.mood}/5{note}{shared}"))
    if not checkins:
        print("no check-ins yet")
    return 0


def cmd_event(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    event = service.add_event(
        circle, args.title, parse_when(args.when), repeat=args.repeat,
        where=args.where or "", notes=args.notes or "",
    )
    record = export.event_record(event, {}, service.clock())
    return _done(args, {"id": event.id, "circle": circle, "next": record["next"], "repeat": event.repeat}, event.id)


def cmd_events(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    names = service.member_names(circle)
    now = service.clock()
    records = [export.event_record(e, names, now) for e in service.events(circle)]
    if args.json:
        emit_json(records)
        return 0
    for r in records:
        repeat = f" (repeats {r['repeat']})" if r["repeat"] != "none" else ""
        where = f" at {r['where']}" if r["where"] else ""
        going = sum(1 for a in r["rsvps"].values() if a == "yes")
        print(safe(f"[{_short(r['id'])}] {r['title']}  next {r['next']}{repeat}{where}  {going} going"))
    if not records:
        print("no events yet")
    return 0


def cmd_rsvp(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    event = service.rsvp(circle, args.event, args.answer)
    return _done(args, {"event": event.id, "circle": circle, "answer": args.answer}, event.id)


def cmd_members(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    members = service.members(circle, include_departed=args.all)
    accepted = service.guideline_acceptance(circle)
    if args.json:
        emit_json([{**export.member_record(m), "guidelines_accepted": accepted.get(m.id)} for m in members])
        return 0
    for m in members:
        status = "" if m.status == "active" else f"  ({m.status})"
        pending = "  (has not accepted the current guidelines)" if accepted.get(m.id) is False else ""
        print(safe(f"{_short(m.id)}  {m.name}  {m.role}{status}{pending}"))
    return 0


def cmd_invite(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    hints = tuple(peer_address(peer) for peer in args.peer or ())
    code = service.invite(circle, uses=args.uses, expires_in=parse_duration(args.expires),
                          hints=hints, device=args.device, readmit=args.readmit)
    invite = InviteCode.decode(code)
    expires = export.iso(datetime.fromtimestamp(invite.expires_at, timezone.utc))
    return _done(args, {"code": code, "id": invite.invite_id, "circle": circle, "expires": expires,
                        "uses": args.uses, "device": args.device, "peers": list(hints),
                        "readmit": next((i.readmit for i in service.invites(circle) if i.id == invite.invite_id),
                                        None)},
                 code)


def cmd_invites(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    invites = service.invites(circle)
    now = service.clock()  # the clock the service judges joiners' invites by
    records = [export.invite_record(i, now) for i in invites]
    if args.json:
        emit_json(records)
        return 0
    for r in records:
        print(f"{r['id']}  {r['status']}  used {r['used']}/{r['uses']}  expires {r['expires_at']}")
    if not records:
        print("no invites yet: create one with `circle invite CIRCLE`")
    return 0


def cmd_revoke_invite(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    invite = service.revoke_invite(circle, args.invite)
    return _done(args, {"circle": circle, **export.invite_record(invite, service.clock())}, invite.id)


def cmd_role(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    service.set_role(circle, args.member, args.role)
    return _ok(args, service, circle, args.member, role=args.role)


def cmd_remove(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    member = service.resolve_member(circle, args.member).id  # before: a removed member may not resolve
    closed = service.remove(circle, member, args.reason or "")
    if closed:  # on stderr: stdout stays the command's result
        print(f"circle: closed {closed} open invite{'s' * (closed != 1)} the removed member might know; "
              "make new ones with `circle invite`", file=sys.stderr)
    return _done(args, {"ok": True, "circle": circle, "member": member, "status": "removed",
                        "closed_invites": closed})


def cmd_leave(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    service.leave(circle)
    return _done(args, {"ok": True, "circle": circle, "left": True})


def cmd_rename(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    service.rename(circle, args.name)
    me = service.whoami().member_id
    name = service.member_names(circle).get(me, "")
    if args.json:
        emit_json({"circle": circle, "member_id": me, "name": name})
    return 0


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
    return _ok(args, service, circle, args.member, until=export.iso(datetime.fromtimestamp(until / 1000, timezone.utc)))


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
    moderator = service.my_role(circle) in ("organizer", "moderator")
    names = service.member_names(circle)
    reports = service.reports(circle)
    if not args.all:
        reports = [r for r in reports if r.status in ("open", "collapsed")]
    records = [export.report_record(r, names, moderator=moderator) for r in reports]
    if args.json:
        emit_json(records)
        return 0
    for r in records:
        print(safe(f"[{_short(r['id'])}] post {_short(r['post_id'])}  {r['status']}  {r['created_at']}"))
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
            print(safe(f"{r['created_at']}  warning from the moderators ({who}): {r['text']}"))
        else:
            others = f" (also asked: {', '.join(r['also_asked'])})" if r["also_asked"] else ""
            note = f": {r['text']}" if r["text"] else ""
            print(safe(f"{r['created_at']}  {who} asks you to reach out{note}{others}"))
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
        print(safe(f"{r['at'] or '?'}  {who} {r['summary']}{why}{flag}"))
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
        topics = service.set_cw_filters([t for t in topics if t not in gone] + list(args.add or ()))
    if args.json:
        emit_json(list(topics))
    else:
        print("\n".join(safe(t) for t in topics) if topics else "no filters: posts fold only when they carry a content warning")
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


def cmd_guidelines(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    if args.set and args.accept:
        raise UsageError("give --set or --accept, not both")
    if args.set:
        try:
            text = _decode(sys.stdin.buffer.read(), "standard input") if args.set == "-" else _decode(
                Path(args.set).read_bytes(), args.set)
        except OSError as exc:
            raise InvalidInput(f"cannot read {args.set}: {exc.strerror}") from None
        service.set_guidelines(circle, text)
    if args.accept:
        service.accept_guidelines(circle)
    info = service.info(circle)
    status = service.guidelines_status(circle)
    version, pending = status.version, status.pending
    if args.json:
        emit_json({"circle_id": circle, "guidelines": info.guidelines, "version": version,
                   "accepted": not pending})
    elif args.accept:
        print(f"accepted version {version} of the guidelines")
    else:
        print(shown(info.guidelines or "(no guidelines yet)", multiline=True))
        if pending:
            print(f"\n(version {version}: accept with `circle guidelines {args.circle} --accept` to post)")
    return 0


def cmd_export(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    if args.json and args.format == "md" and not args.output:
        raise UsageError("--json with --format md needs --output FILE (the Markdown goes there)")
    now = service.clock()
    checkins = service.checkins(circle)
    if args.no_private:  # what the circle saw: no private check-ins, only the band of band ones
        checkins = [replace(c, mood=None, energy=None, note="", tags=()) if c.visibility == "band" else c
                    for c in checkins if c.visibility != "me"]
    parts = (service.info(circle), service.members(circle, include_departed=True), service.feed(circle),
             checkins, service.events(circle), now)
    if args.format == "json":
        text = json_text(export.export_json(*parts))
    else:
        text = export.export_markdown(*parts)
    if args.output:
        try:
            # The export is plaintext: readable by you alone.
            descriptor = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            raise InvalidInput(f"cannot write {args.output}: {exc.strerror}") from None
        _done(args, {"circle": circle, "format": args.format, "output": args.output})
    else:
        sys.stdout.write(text)
    return 0


def cmd_serve(args, service: Service) -> int:
    import asyncio
    import logging
    import signal

    from circle.sync.logsafe import console
    from circle.sync.tcp import Server

    # Log lines carry peers' words (error texts, addresses): sanitized, one record a line.
    logging.basicConfig(level=logging.INFO, handlers=[console(sys.stderr, "circle serve: ")])

    async def serve() -> None:
        server = Server(service, service.profile.identity.dh_key)
        host, port = await server.start(args.host, args.port)  # SyncError: one line, exit 1
        if not args.no_discovery:
            try:
                await server.enable_discovery(args.host, port)
            except Exception as exc:  # no multicast here: sync by address still works
                logging.getLogger("circle.sync").warning("LAN discovery unavailable: %s", exc)
        for address in args.connect or ():
            server.dial(address)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):  # before announcing: a stop right after is clean
            loop.add_signal_handler(signum, stop.set)
        _done(args, {"listening": f"{host}:{port}", "host": host, "port": port}, f"listening on {host}:{port}")
        sys.stdout.flush()
        runner = asyncio.create_task(server.run_forever())
        await stop.wait()
        runner.cancel()
        await server.close()

    asyncio.run(serve())
    return 0


def cmd_sync(args, service: Service) -> int:
    import asyncio

    from circle.sync.folder import BundleFolder, FolderError
    from circle.sync.tcp import sync_once

    if args.folder:
        try:
            report = service.sync_folder(BundleFolder(Path(args.folder)))
        except FolderError as exc:
            raise InvalidInput(str(exc)) from None
        if args.json:
            emit_json({"applied": report.applied, "refused": report.refused, "written": report.written,
                       "waiting": report.waiting, "problems": list(report.problems), "notes": list(report.notes)})
        else:
            print(f"read {report.applied} new items, wrote {report.written} bundles"
                  + (f", refused {report.refused} bad files" if report.refused else "")
                  + (f", {report.waiting} bundles wait for what has not arrived yet" if report.waiting else ""))
        for line in (*report.notes, *report.problems):
            print(f"circle: {safe(line)}", file=sys.stderr)
        return 1 if report.problems else 0
    if not args.address:
        raise UsageError("give a peer HOST:PORT or --folder DIR")
    circles = asyncio.run(sync_once(service, service.profile.identity.dh_key, args.address))
    if args.json:
        emit_json({"synced": circles})
    else:
        for circle_id in circles:
            print(f"synced {safe(service.info(circle_id).name)} ({_short(circle_id)})")
    return 0


def cmd_join(args, service: Service) -> int:
    import asyncio

    from circle.crypto.invite_code import InviteCode, InviteCodeError
    from circle.sync.tcp import SyncError, join, sync_once

    try:
        hints = list(InviteCode.decode(args.code).hints)
    except InviteCodeError as exc:
        raise InvalidInput(str(exc)) from None
    peers = ([args.peer] if args.peer else []) + hints
    if not peers:
        raise UsageError("the invite has no address hints: give one with --peer HOST:PORT")
    request = service.join_request(args.code)
    static = service.profile.identity.dh_key
    failures = []
    for peer in peers:
        try:
            welcome = asyncio.run(join(static, peer, request))
        except SyncError as exc:
            failures.append(str(exc))
            continue
        circle_id = service.accept_welcome(args.code, welcome)
        asyncio.run(sync_once(service, static, peer))
        pending = service.guidelines_pending(circle_id)
        _done(args, {"circle": circle_id, "name": service.info(circle_id).name, "peer": peer,
                     "guidelines_pending": pending}, circle_id)
        if pending:
            print(f"circle: read the circle's guidelines (`circle guidelines {circle_id[:8]}`) and accept them "
                  f"(`--accept`) before posting", file=sys.stderr)
        return 0
    raise SyncError(failures[-1] if len(failures) == 1 else "; ".join(failures))


def cmd_peers(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    peers = service.peers(circle)
    records = [export.peer_record(p) for p in peers]
    if args.json:
        emit_json(records)
        return 0
    for r in records:
        status = "" if r["active"] else "  (no longer a member)"
        print(safe(f"{r['name'] or r['member_id'][:8]}  {r['address']}  last contact {r['last_contact']}{status}"))
    if not records:
        print("no peers yet: sync with `circle sync HOST:PORT` or run `circle serve`")
    return 0


def cmd_tui(args, home: Path) -> int:
    """`circle` alone: the app, which unlocks the profile itself (CIRCLE_PASSPHRASE
    skips the prompt), or offers a first run when there is no profile yet."""
    _interactive(args)
    from circle.tui.app import run_app

    return run_app(home=home)


def _interactive(args) -> None:
    if args.json:
        raise UsageError("--json is for the scripting commands, not the app")


def cmd_demo(args, home: Path) -> int:
    """A throwaway profile with a demo circle, opened in the app. The simulated
    members keep posting and reacting over real local sync while you watch."""
    _interactive(args)
    import secrets
    import shutil
    import tempfile

    from circle.demo import DemoClock, DemoCrowd, seed_demo, seed_my_checkins
    from circle.tui.app import run_app
    from circle.tui.settings import Settings

    demo_home = Path(tempfile.mkdtemp(prefix="circle-demo-"))
    peers: dict[str, Service] = {}
    try:
        clock = DemoClock()
        service = Service.create_profile(demo_home / "you", "You", secrets.token_urlsafe(16), clock=clock)
        try:
            circle_id, peers = seed_demo(service, demo_home / "peers", service.clock())
            seed_my_checkins(service, circle_id, clock)
            crowd = DemoCrowd(peers, circle_id, service.whoami().member_id,
                              first_after=args.first_after, every=(args.every_min, args.every_max))
            settings = Settings(listen="127.0.0.1:0", discovery=False)
            return run_app(service, settings=settings, companion=crowd.run)
        finally:
            for peer in peers.values():
                peer.close()
            service.close()
    finally:
        shutil.rmtree(demo_home, ignore_errors=True)


# -- parser --------------------------------------------------------------------

Handler = Callable[..., int]


def build_parser() -> _Parser:
    parser = _Parser(prog="circle", description="Private peer-support circles in your terminal.")
    parser.add_argument("--home", help="profile directory (default: $CIRCLE_HOME or the user data dir)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    def command(name: str, handler: Handler, help_text: str, *, unlocked: bool = True, with_json: bool = True):
        p = sub.add_parser(name, help=help_text, description=help_text)
        if with_json:
            p.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")
        p.set_defaults(handler=handler, unlocked=unlocked)
        return p

    p = command("init", cmd_init, "create a profile", unlocked=False)
    p.add_argument("--name", required=True, help="your display name in circles")
    command("whoami", cmd_whoami, "show this profile's identity")
    p = command("new", cmd_new, "create a circle and print its id")
    p.add_argument("name")
    p.add_argument("--purpose", help="one line on what the circle is for")
    command("circles", cmd_circles, "list your circles")

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

    p = command("event", cmd_event, "plan a meetup")
    p.add_argument("circle"); p.add_argument("title")
    p.add_argument("--when", required=True, help="date and time, e.g. 2026-12-01T18:30")
    p.add_argument("--repeat", choices=REPEATS, default="none")
    p.add_argument("--where"); p.add_argument("--notes")
    p = command("events", cmd_events, "list events")
    p.add_argument("circle")
    p = command("rsvp", cmd_rsvp, "answer an event")
    p.add_argument("circle"); p.add_argument("event"); p.add_argument("answer", choices=RSVP_ANSWERS)

    p = command("members", cmd_members, "list a circle's members")
    p.add_argument("circle")
    p.add_argument("--all", action="store_true", help="include members who left or were removed")
    p = command("invite", cmd_invite, "print an invite code (organizers; any member with --device)")
    p.add_argument("circle")
    p.add_argument("--uses", type=int, default=1, help="how many people may join with it (default 1)")
    p.add_argument("--expires", default="7d", help="e.g. 30m, 12h, 7d, 2w (default 7d)")
    p.add_argument("--peer", action="append", metavar="HOST:PORT", help="address hint for the newcomer")
    p.add_argument("--device", action="store_true",
                   help="a code that adds another device of yours (a phone, a second laptop)")
    p.add_argument("--readmit", metavar="MEMBER",
                   help="a one-use code that brings back a removed member (organizers)")
    p = command("invites", cmd_invites, "list a circle's invites")
    p.add_argument("circle")
    p = command("revoke-invite", cmd_revoke_invite, "revoke an invite (organizers)")
    p.add_argument("circle"); p.add_argument("invite")
    p = command("role", cmd_role, "set a member's role (organizers)")
    p.add_argument("circle"); p.add_argument("member")
    p.add_argument("role", choices=("organizer", "moderator", "member"))
    p = command("remove", cmd_remove, "remove a member and rotate the circle key (organizers)")
    p.add_argument("circle"); p.add_argument("member")
    p.add_argument("--reason", help="shown in the moderation log")
    p = command("leave", cmd_leave, "leave a circle")
    p.add_argument("circle")
    p = command("rename", cmd_rename, "change your own display name in a circle")
    p.add_argument("circle"); p.add_argument("name")
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
    p = command("guidelines", cmd_guidelines, "show or set the circle's guidelines")
    p.add_argument("circle")
    p.add_argument("--set", metavar="FILE", help="organizers: replace the guidelines with FILE ('-' for stdin)")
    p.add_argument("--accept", action="store_true",
                   help="accept the current guidelines (needed before posting)")
    p = command("export", cmd_export, "export a circle")
    p.add_argument("circle")
    p.add_argument("--format", choices=("json", "md"), required=True)
    p.add_argument("--output", metavar="FILE", help="write here (mode 0600) instead of stdout")
    p.add_argument("--no-private", action="store_true", help="leave out your private check-ins")
    p = command("serve", cmd_serve, "listen and sync every circle with peers that connect")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7654, help="port (default 7654; 0 picks a free one)")
    p.add_argument("--connect", action="append", metavar="HOST:PORT",
                   help="also keep a live session with this peer (repeatable)")
    p.add_argument("--no-discovery", action="store_true", help="do not advertise or look for peers on the LAN")
    p = command("sync", cmd_sync, "sync once with a peer (or a shared folder); exit when both hold the same state")
    p.add_argument("address", metavar="HOST:PORT", nargs="?")
    p.add_argument("--folder", metavar="DIR", help="exchange bundles through a shared folder instead")
    p = command("join", cmd_join, "join a circle with an invite code; prints the circle id")
    p.add_argument("code")
    p.add_argument("--peer", metavar="HOST:PORT", help="a member's address (else the code's hints)")
    p = command("peers", cmd_peers, "devices this one has synced a circle with")
    p.add_argument("circle")
    p = command("demo", cmd_demo, "open the app on a throwaway demo circle", unlocked=False, with_json=False)
    p.add_argument("--first-after", type=float, default=5.0, metavar="SECONDS",
                   help="when a simulated member first does something (default 5)")
    p.add_argument("--every-min", type=float, default=20.0, metavar="SECONDS", help=argparse.SUPPRESS)
    p.add_argument("--every-max", type=float, default=40.0, metavar="SECONDS", help=argparse.SUPPRESS)
    return parser


def run(argv: Sequence[str]) -> int:
    for index, arg in enumerate(argv, 1):
        if _not_utf8(arg):
            raise InvalidInput(f"argument {index} is not valid UTF-8")
    args = build_parser().parse_args(argv)
    home = Path(args.home).expanduser() if args.home else default_home()
    if args.command is None:
        return cmd_tui(args, home)
    if not args.unlocked:
        return args.handler(args, home)
    service = Service.unlock(home, read_passphrase())
    try:
        return args.handler(args, service)
    finally:
        service.close()


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except CircleError as exc:
        print(f"circle: {safe(str(exc))}", file=sys.stderr)  # errors may quote a peer
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`circle feed C | head -1`): point stdout at
        # /dev/null so the flush at exit cannot fail a second time.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except BaseException as exc:  # a bug (or a library panic): one line, the traceback on request
        if isinstance(exc, SystemExit) or os.environ.get("CIRCLE_DEBUG") == "1":
            raise
        print(f"circle: internal error ({type(exc).__name__}); rerun with CIRCLE_DEBUG=1 to see the details",
              file=sys.stderr)
        return 70
