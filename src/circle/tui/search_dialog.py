"""The feed's search box (`/`): type words or a "quoted phrase", Enter lists the matching posts
newest first, Enter on one jumps to it in the feed, Esc closes.

What a hit shows follows the feed's rules: a folded post or one behind a content warning gives
no snippet (the reader opens it in the feed on purpose), and every piece of member text goes
through `plain` as a Rich `Text`, never as markup.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from circle.errors import CircleError
from circle.service import SearchHit
from circle.tui.base import Dialog
from circle.tui.plain import line
from circle.domain.times import readable


class SearchDialog(Dialog):
    """Returns the id of the post chosen, or None."""

    BINDINGS = [Binding("escape", "close", "Close", id="search.close")]

    def __init__(self, circle_id: str) -> None:
        super().__init__()
        self.circle_id = circle_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog search") as box:
            box.border_title = "Search this circle"
            yield Input(placeholder='words that must all occur, or "a phrase"', id="search-text")
            yield Static("", id="search-status", markup=False)
            yield OptionList(id="search-hits")
            yield Static("Enter searches · Tab or Down moves to the results · Enter on one shows it in the "
                         "feed · Esc closes", classes="dialog-hint", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#search-hits", OptionList).display = False
        self.query_one("#search-text", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value.strip():
            return
        service = self.app.service
        status = self.query_one("#search-status", Static)
        hits_list = self.query_one("#search-hits", OptionList)
        try:
            result = service.search(self.circle_id, event.value)
        except CircleError as exc:
            status.update(str(exc))
            hits_list.display = False
            return
        names = service.member_names(self.circle_id)
        hits_list.clear_options()
        hits_list.add_options([Option(self._prompt(hit, names), id=hit.post.id) for hit in result.hits])
        hits_list.display = bool(result.hits)
        more = f", the newest {len(result.hits)} listed" if result.total > len(result.hits) else ""
        count = f"{result.total} match{'es' * (result.total != 1)}{more}" if result.total else "no matches"
        status.update(count)
        if result.hits:
            hits_list.highlighted = 0
            hits_list.focus()

    def _prompt(self, hit: SearchHit, names: dict[str, str]) -> Text:
        post = hit.post
        text = line(names.get(post.author_id, post.author_id[:8]))
        text.stylize("bold")
        text.append(f" · {readable(post.created_at, self.app.display_tz)}", style="dim")
        text.append("\n")
        if post.hidden:
            text.append("[hidden from members] ", style="italic")
        if hit.folded:
            folded = line(f"folded: {hit.folded}", limit=200)
            folded.stylize("italic")
            text.append_text(folded)
        elif post.content_warning:
            text.append_text(line(f"content warning: {post.content_warning}", limit=200))
        else:
            start = len(text)
            text.append(hit.snippet)  # already plain: the service cut it from shown() text
            for a, b in hit.marks:
                text.stylize("reverse", start + a, start + b)
        return text

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_close(self) -> None:
        self.dismiss(None)
