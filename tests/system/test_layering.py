"""The core never imports Textual (DESIGN.md, "Layers"): only circle.tui may."""

import pkgutil
import subprocess
import sys

import circle


def _core_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(circle.__path__, "circle."):
        if not info.name.startswith("circle.tui") and info.name != "circle.__main__":
            names.append(info.name)
    return names


def _textual_after_importing(modules: list[str]) -> str:
    probe = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(','.join(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))))\n"
    )
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()


def test_every_module_outside_tui_imports_no_textual():
    modules = _core_modules()
    assert {"circle.cli", "circle.service", "circle.sync.tcp", "circle.domain.views", "circle.store"} <= set(modules)
    assert _textual_after_importing(modules) == ""


def test_the_probe_sees_textual_when_a_module_pulls_it_in():
    assert "textual" in _textual_after_importing(["circle.tui.app"]).split(",")
