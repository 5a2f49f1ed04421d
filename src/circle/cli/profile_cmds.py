"""Commands on the profile itself and the list of its circles: init, whoami, new, circles."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from circle.cli.inputs import read_passphrase
from circle.cli.output import _done, _short, emit_json, safe
from circle.errors import ProfileExists
from circle.profile import Profile
from circle.service import Service, clean_text


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


def register(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Adds init, whoami, new and circles to the parser."""
    p = command("init", cmd_init, "create a profile", unlocked=False)
    p.add_argument("--name", required=True, help="your display name in circles")
    command("whoami", cmd_whoami, "show this profile's identity")
    p = command("new", cmd_new, "create a circle and print its id")
    p.add_argument("name")
    p.add_argument("--purpose", help="one line on what the circle is for")
    command("circles", cmd_circles, "list your circles")
