"""$EDITOR for drafts: opt-in, a 0600 file in a memory-backed directory, gone right after."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from circle.errors import InvalidInput
from circle.tui.circle_screen import CircleScreen
from circle.tui.compose_dialog import ComposeDialog
from circle.tui.external_editor import edit_text

from .world import make_app, screen_text, until


def fake_editor(tmp_path: Path) -> tuple[str, Path]:
    """An 'editor' that records what it saw (mode, content) and appends a line."""
    seen = tmp_path / "seen.txt"
    script = tmp_path / "editor.py"
    script.write_text(
        "import os, stat, sys\n"
        "path = sys.argv[1]\n"
        f"open({str(seen)!r}, 'w').write(oct(stat.S_IMODE(os.stat(path).st_mode)) + '\\n' + open(path).read())\n"
        "open(path, 'a').write('\\nwritten in the editor')\n"
    )
    return f"{sys.executable} {script}", seen


def test_the_draft_goes_to_a_private_file_that_is_removed(tmp_path):
    command, seen = fake_editor(tmp_path)
    shm = tmp_path / "shm"
    shm.mkdir()
    result = edit_text("my draft", environ={"EDITOR": command}, directories=[shm])
    assert result == "my draft\nwritten in the editor"
    mode, content = seen.read_text().split("\n", 1)
    assert mode == oct(stat.S_IRUSR | stat.S_IWUSR) and content == "my draft"
    assert list(shm.iterdir()) == []  # nothing left behind


def test_without_a_memory_backed_directory_nothing_is_written(tmp_path):
    command, seen = fake_editor(tmp_path)
    with pytest.raises(InvalidInput, match="not writing your draft to disk"):
        edit_text("my draft", environ={"EDITOR": command}, directories=[tmp_path / "missing"])
    assert not seen.exists()
    with pytest.raises(InvalidInput, match=r"set \$EDITOR"):
        edit_text("my draft", environ={}, directories=[tmp_path])


def test_the_file_is_removed_even_if_the_editor_fails(tmp_path):
    shm = tmp_path / "shm"
    shm.mkdir()

    def crash(argv):
        raise OSError("editor crashed")

    with pytest.raises(OSError):
        edit_text("draft", environ={"EDITOR": "vi"}, directories=[shm], run=crash)
    assert list(shm.iterdir()) == []


async def test_ctrl_e_is_off_unless_turned_on(world):
    service = world.ana()
    app = make_app(service)
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CircleScreen), what="the circle")
        await pilot.press("n", *"abc", "ctrl+e")
        assert isinstance(app.screen, ComposeDialog)
        await until(pilot, lambda: "The external editor is off" in screen_text(app), what="the notice")
        assert app.screen.query_one("#body").text == "abc"
    service.close()
