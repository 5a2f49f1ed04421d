"""The import-linter contracts in pyproject.toml hold, and they do catch a broken layer.

The contracts are the layer order of docs/architecture.md ("Layers"). The positive test runs
the real `lint-imports` of this interpreter's environment on the real code; the negative
tests run it on a copy of src/circle with one forbidden import added, so they prove that
each kind of break is seen (including an import inside a function).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "pyproject.toml"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    assert LINT_IMPORTS.exists(), f"{LINT_IMPORTS} is missing: install the test extra (pip install -e '.[test]')"
    env = dict(os.environ, COLUMNS="200")  # one line per report entry
    if pythonpath is not None:
        # Ahead of the editable install's path entry, so the copy is the package analysed.
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(CONFIG), "--no-cache", "--no-logo"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )


def test_the_code_keeps_every_import_contract():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 kept, 0 broken" in result.stdout


@pytest.fixture
def source_copy(tmp_path: Path) -> Path:
    """A copy of src/circle under tmp_path/src; returns tmp_path/src."""
    shutil.copytree(ROOT / "src" / "circle", tmp_path / "src" / "circle",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / "src"


BREAKS = [
    # (new module under circle/, its source, contract that must break, line the report must show)
    ("domain/_upward.py", "from circle.service import Service\n", "Layers of docs/architecture.md", "circle.domain._upward -> circle.service"),
    ("store/_upward.py", "def f():\n    import circle.crypto.aead\n", "Layers of docs/architecture.md", "circle.store._upward -> circle.crypto.aead"),
    ("tui/_upward.py", "from circle import cli\n", "Layers of docs/architecture.md", "circle.tui._upward -> circle.cli"),
    ("sync/_upward.py", "import circle.profile\n", "Layers of docs/architecture.md", "circle.sync._upward -> circle.profile"),
    ("sync/_textual.py", "import textual\n", "Only circle.tui imports Textual", "circle.sync._textual -> textual"),
    ("service/_textual.py", "from circle.tui import base\n", "Below the front ends nothing reaches Textual",
     "circle.service._textual -> circle.tui.base"),
    ("relay/_profile.py", "import circle.profile\n", "The relay holds no profile", "circle.relay._profile -> circle.profile"),
    ("relay/_service.py", "from circle.service import Service\n", "Layers of docs/architecture.md",
     "circle.relay._service -> circle.service"),
    ("unplaced.py", "", "Layers of docs/architecture.md", "circle.unplaced"),
]


@pytest.mark.parametrize(("module", "source", "contract", "evidence"), BREAKS, ids=[b[0] for b in BREAKS])
def test_a_forbidden_import_breaks_a_contract(source_copy: Path, module, source, contract, evidence):
    (source_copy / "circle" / module).write_text(source)
    result = _lint_imports(source_copy.parent, pythonpath=source_copy)
    assert result.returncode != 0, result.stdout + result.stderr
    broken = [line for line in result.stdout.splitlines() if line.endswith("BROKEN")]
    assert any(line.startswith(contract) for line in broken), result.stdout
    assert evidence in result.stdout, result.stdout
