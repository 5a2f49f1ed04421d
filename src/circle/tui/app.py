"""Placeholder app until the terminal UI issue lands: a read-only view of one circle."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Footer, Header, Static

from circle.service import Service


class CircleApp(App):
    TITLE = "circle"
    BINDINGS = [("ctrl+q", "quit", "Quit")]

    def __init__(self, service: Service) -> None:
        super().__init__()
        self.service = service

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static(self._describe(), markup=False)
        yield Footer()

    def _describe(self) -> str:
        circles = self.service.circles()
        if not circles:
            return "No circles yet. Create one with `circle new NAME`."
        circle_id = circles[0].id
        info = self.service.info(circle_id)
        names = self.service.member_names(circle_id)
        lines = [info.name, info.purpose, ""]
        for post in self.service.feed(circle_id):
            who = names.get(post.author_id, post.author_id[:8])
            indent = "    " if post.reply_to else ""
            body = f"CW: {post.content_warning}" if post.content_warning else post.body
            lines += [f"{indent}{who}:", f"{indent}  {body}", ""]
        return "\n".join(lines)


def run_app(service: Service) -> int:
    CircleApp(service).run()
    return 0
