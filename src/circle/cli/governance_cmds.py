"""Commands on who belongs and with which role: members, invites, roles, removal, guidelines."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from circle import export
from circle.cli.inputs import _decode, parse_duration
from circle.cli.output import _done, _ok, _short, emit_json, safe, when
from circle.crypto.invite_code import InviteCode
from circle.domain.roles import ROLES, MemberStatus
from circle.domain.times import stamp
from circle.domain.untrusted import shown
from circle.errors import InvalidInput, UsageError
from circle.service import Service
from circle.sync.address import peer_address


def cmd_members(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    members = service.members(circle, include_departed=args.all)
    accepted = service.guideline_acceptance(circle)
    if args.json:
        emit_json([{**export.member_record(m), "guidelines_accepted": accepted.get(m.id)} for m in members])
        return 0
    for m in members:
        status = "" if m.status == MemberStatus.ACTIVE else f"  ({m.status})"
        pending = "  (has not accepted the current guidelines)" if accepted.get(m.id) is False else ""
        print(safe(f"{_short(m.id)}  {m.name}  {m.role}{status}{pending}"))
    return 0


def cmd_invite(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    hints = tuple(peer_address(peer) for peer in args.peer or ())
    relays = None if args.relay is None else tuple(peer_address(relay) for relay in args.relay)
    code = service.invite(circle, uses=args.uses, expires_in=parse_duration(args.expires),
                          hints=hints, device=args.device, readmit=args.readmit, relays=relays)
    invite = InviteCode.decode(code)
    expires = stamp(datetime.fromtimestamp(invite.expires_at, timezone.utc))
    return _done(args, {"code": code, "id": invite.invite_id, "circle": circle, "expires": expires,
                        "uses": args.uses, "device": args.device, "peers": list(hints),
                        "relays": list(invite.relays),
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
        print(f"{r['id']}  {r['status']}  used {r['used']}/{r['uses']}  expires {when(r['expires_at'])}")
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
    return _done(args, {"ok": True, "circle": circle, "member": member, "status": MemberStatus.REMOVED,
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


def cmd_about(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    if args.name is not None or args.purpose is not None:
        service.set_circle_details(circle, name=args.name, purpose=args.purpose)
    info = service.info(circle)
    if args.json:
        emit_json({"circle_id": circle, "name": info.name, "purpose": info.purpose})
    else:
        print(safe(info.name))
        print(shown(info.purpose or "(no purpose written yet)", multiline=True))
    return 0


def register(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Adds members, the invite commands, role, remove, leave and rename to the parser."""
    p = command("members", cmd_members, "list a circle's members")
    p.add_argument("circle")
    p.add_argument("--all", action="store_true", help="include members who left or were removed")
    p = command("invite", cmd_invite, "print an invite code (organizers; any member with --device)")
    p.add_argument("circle")
    p.add_argument("--uses", type=int, default=1, help="how many people may join with it (default 1)")
    p.add_argument("--expires", default="7d", help="e.g. 30m, 12h, 7d, 2w (default 7d)")
    p.add_argument("--peer", action="append", metavar="HOST:PORT", help="address hint for the newcomer")
    p.add_argument("--relay", action="append", metavar="HOST:PORT",
                   help="a relay to leave the join request at if no member is online "
                        "(repeatable; default: every relay the circle lists)")
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
    p.add_argument("role", choices=[str(r) for r in ROLES])
    p = command("remove", cmd_remove, "remove a member and rotate the circle key (organizers)")
    p.add_argument("circle"); p.add_argument("member")
    p.add_argument("--reason", help="shown in the moderation log")
    p = command("leave", cmd_leave, "leave a circle")
    p.add_argument("circle")
    p = command("rename", cmd_rename, "change your own display name in a circle")
    p.add_argument("circle"); p.add_argument("name")


def register_guidelines(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Adds about and guidelines to the parser."""
    p = command("about", cmd_about, "show or change the circle's name and purpose (changing: organizers)")
    p.add_argument("circle")
    p.add_argument("--name", help="a new name for the circle")
    p.add_argument("--purpose", help="what the circle is for ('' clears it)")
    p = command("guidelines", cmd_guidelines, "show or set the circle's guidelines")
    p.add_argument("circle")
    p.add_argument("--set", metavar="FILE", help="organizers: replace the guidelines with FILE ('-' for stdin)")
    p.add_argument("--accept", action="store_true",
                   help="accept the current guidelines (needed before posting)")
