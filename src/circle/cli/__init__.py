"""The `circle` command (see circle.cli.entry); `circle.cli:main` is the console script."""

from circle.cli.entry import build_parser, cmd_invites, main, read_passphrase, run

__all__ = ["build_parser", "cmd_invites", "main", "read_passphrase", "run"]
