"""`circle.cli.main` run in this process against a real profile directory.

The same code path as `python -m circle` minus the interpreter start-up, for tests that run
dozens of commands: stdout and stderr are captured, the environment is the one a fresh
process would get (CIRCLE_HOME and CIRCLE_PASSPHRASE only).
"""

from __future__ import annotations

import io
import os
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from tests.helpers.cli import PASSPHRASE, CliResult

from circle import cli


@dataclass
class InProcessCli:
    home: Path
    passphrase: str = PASSPHRASE

    def run(self, *args: str) -> CliResult:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CIRCLE_")}
        env.update(CIRCLE_HOME=str(self.home), CIRCLE_PASSPHRASE=self.passphrase)
        out, err = io.StringIO(), io.StringIO()
        with mock.patch.dict(os.environ, env, clear=True), redirect_stdout(out), redirect_stderr(err):
            code = cli.main(list(args))
        return CliResult(code, out.getvalue(), err.getvalue())

    def ok(self, *args: str) -> CliResult:
        result = self.run(*args)
        assert result.returncode == 0, f"circle {' '.join(args)} failed: {result.stderr}"
        return result
