"""The `circle` command, one module per group of commands; `circle.cli:main` is the console script.

entry.py runs a command line (unlocking, error handling); parser.py builds the argparse tree, to
which each *_cmds.py module adds its own subcommands; inputs.py and output.py are what they share.
"""

from circle.cli.entry import main, run
from circle.cli.governance_cmds import cmd_invites
from circle.cli.parser import build_parser

__all__ = ["build_parser", "cmd_invites", "main", "run"]
