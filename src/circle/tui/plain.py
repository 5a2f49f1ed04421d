"""Other members' text as widgets take it: sanitized (circle.domain.untrusted) and wrapped in a
Rich `Text`, so no widget ever parses it as markup (a display name of "[/]" must show as "[/]",
not crash the screen, and "[@click=app.quit]" must not become a link)."""

from __future__ import annotations

from rich.text import Text

from circle.domain.untrusted import shown

CELL_LIMIT = 60  # a table cell: one line, so a 10k-character name cannot push the columns away
TITLE_LIMIT = 60  # a header, a dialog's border title, a button label


def cell(value: object, limit: int = CELL_LIMIT) -> Text:
    """One table cell, one line of at most `limit` characters."""
    return Text(shown(str(value), limit=limit), end="", no_wrap=True, overflow="ellipsis")


def row(*values: object) -> list[Text]:
    """The cells of one table row."""
    return [cell(v) for v in values]


def line(value: str, limit: int = TITLE_LIMIT) -> Text:
    """A single line (a title, a label): no line breaks, at most `limit` characters."""
    return Text(shown(value, limit=limit), end="")


def block(value: str) -> Text:
    """Text that may run over several lines (a post, guidelines, a detail pane)."""
    return Text(shown(value, multiline=True), end="")


def words(value: str, limit: int = TITLE_LIMIT) -> str:
    """A plain one-line string, for the places that take only a `str` (a notification shown
    with markup off, a screen title)."""
    return shown(value, limit=limit)
