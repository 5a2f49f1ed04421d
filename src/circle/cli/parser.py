"""The argparse tree of `circle`: global options, then each command group adds its subcommands."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import NoReturn

from circle.cli import (app_cmds, content_cmds, governance_cmds, poll_cmds, profile_cmds, relay_cmds, safety_cmds,
                        sync_cmds)
from circle.errors import UsageError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not usage + line
        raise UsageError(f"{message} (see `{self.prog} --help`)")


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

    # In the order `circle --help` lists the commands.
    profile_cmds.register(command)
    content_cmds.register(command)
    poll_cmds.register(command)
    governance_cmds.register(command)
    safety_cmds.register(command)
    governance_cmds.register_guidelines(command)
    content_cmds.register_export(command)
    sync_cmds.register(command)
    relay_cmds.register(command)
    app_cmds.register(command)
    return parser
