"""The core never imports Textual (DESIGN.md, "Layers")."""

import subprocess
import sys

CORE = [
    "circle.crypto.aead",
    "circle.crypto.identity",
    "circle.crypto.passphrase",
    "circle.domain.document",
    "circle.domain.views",
    "circle.store",
    "circle.profile",
    "circle.service",
    "circle.sync",
    "circle.cli",
]


def test_core_modules_do_not_import_textual():
    probe = (
        "import importlib, sys\n"
        f"for name in {CORE!r}: importlib.import_module(name)\n"
        "leaked = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(leaked))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_probe_would_see_textual_if_it_leaked():
    probe = "import circle.tui.app, sys; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
