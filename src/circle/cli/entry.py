"""The `circle` command: every action scriptable, one line on stderr per error.

Global options go before the subcommand (`circle --home DIR feed C`); `--json`
is accepted before or after it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from circle.cli.app_cmds import cmd_tui
from circle.cli.inputs import _not_utf8, read_passphrase
from circle.cli.output import safe
from circle.cli.parser import build_parser
from circle.errors import CircleError, InvalidInput
from circle.profile import default_home
from circle.service import Service


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
