"""Commands that open the Textual app: `circle` alone, and the demo."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from circle.errors import UsageError
from circle.service import Service


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


def register(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Adds demo to the parser (`circle` alone needs no subcommand)."""
    p = command("demo", cmd_demo, "open the app on a throwaway demo circle", unlocked=False, with_json=False)
    p.add_argument("--first-after", type=float, default=5.0, metavar="SECONDS",
                   help="when a simulated member first does something (default 5)")
    p.add_argument("--every-min", type=float, default=20.0, metavar="SECONDS", help=argparse.SUPPRESS)
    p.add_argument("--every-max", type=float, default=40.0, metavar="SECONDS", help=argparse.SUPPRESS)
