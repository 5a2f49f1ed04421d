"""Time to first paint and per-page scroll cost of the feed, headless.

    python bench/feed_paint.py                      # FeedView 1k/10k/100k, ListView 1k/10k
    python bench/feed_paint.py --sizes 1000 --no-listview
    python bench/feed_paint.py --layout-only        # height strategy: estimate vs exact wrap

"First paint" is from constructing the app to the first frame the compositor produces with the
posts in it (App._display is called with a rendered update even when headless). "Page step" is
one `pagedown` key press through the Pilot until the next frame, averaged over --steps presses;
it includes the Pilot's own waiting. "Widget" is the part of a page step spent inside FeedView
(the page-down action plus rendering its lines).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from textual.app import App, ComposeResult  # noqa: E402
from textual.widgets import ListItem, ListView, Static  # noqa: E402

from circle.tui.feed_items import FeedItem  # noqa: E402
from circle.tui.feed_layout import estimate, shapes, text_width  # noqa: E402
from circle.tui.feed_render import body_pieces, wrap  # noqa: E402
from circle.tui.feed_view import FeedView  # noqa: E402

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
WORDS = (
    "today was hard but I went for a walk and called my sister thanks everyone for "
    "listening sleep has been better this week therapy helped I feel tired anxious hopeful"
).split()


def synthetic_items(count: int, seed: int = 7) -> list[FeedItem]:
    """A feed shaped like a real one: mostly short posts, some long, replies, CWs, reactions."""
    rng = random.Random(seed)
    items = []
    for i in range(count):
        words = rng.choice((4, 9, 15, 25, 40, 80, 160))
        body = " ".join(rng.choice(WORDS) for _ in range(words))
        if rng.random() < 0.1:
            body += "\n\n" + " ".join(rng.choice(WORDS) for _ in range(12))
        reactions = (("hug", rng.randint(1, 5), rng.random() < 0.3),) if rng.random() < 0.3 else ()
        items.append(
            FeedItem(
                id=f"p{i:06d}",
                author=f"member{rng.randint(1, 12)}",
                body=body,
                created_at=NOW - timedelta(minutes=count - i),
                depth=rng.choice((0, 0, 1, 1, 2, 3)),
                content_warning="grief" if rng.random() < 0.05 else None,
                reactions=reactions,
                deleted=rng.random() < 0.01,
                hidden=False,
                hidden_reason=None,
                edited=rng.random() < 0.05,
                is_mine=rng.random() < 0.1,
                unread=i > count - 20,
            )
        )
    return items


class _Timed(App):
    """Records when the first frame is produced."""

    def __init__(self) -> None:
        super().__init__()
        self.first_paint: float | None = None
        self.frames = 0
        display = self._display

        def _display(screen, renderable):  # type: ignore[no-untyped-def]
            if renderable is not None:
                self.frames += 1
                if self.first_paint is None:
                    self.first_paint = time.perf_counter()
            display(screen, renderable)

        self._display = _display  # type: ignore[method-assign]


class TimedFeedView(FeedView):
    """Adds up the time spent in the view's own code during page steps."""

    spent = 0.0

    def render_lines(self, crop):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        try:
            return super().render_lines(crop)
        finally:
            TimedFeedView.spent += time.perf_counter() - start

    def action_page_down(self) -> None:
        start = time.perf_counter()
        try:
            super().action_page_down()
        finally:
            TimedFeedView.spent += time.perf_counter() - start


class FeedApp(_Timed):
    def __init__(self, items: list[FeedItem]) -> None:
        super().__init__()
        self.items = items

    def compose(self) -> ComposeResult:
        feed = TimedFeedView(clock=lambda: NOW)
        feed.set_items(self.items)
        yield feed


class ListViewApp(_Timed):
    def __init__(self, items: list[FeedItem]) -> None:
        super().__init__()
        self.items = items

    def compose(self) -> ComposeResult:
        yield ListView(
            *(
                ListItem(Static(f"{item.author} · {item.created_at:%H:%M}\n{item.body}\n", markup=False))
                for item in self.items
            )
        )


async def measure(app: _Timed, steps: int) -> tuple[float, float, float]:
    start = time.perf_counter()
    async with app.run_test(size=(100, 40)) as pilot:
        while app.first_paint is None:
            await pilot.pause()
        first = app.first_paint - start
        await pilot.pause()
        TimedFeedView.spent = 0.0
        t0 = time.perf_counter()
        for _ in range(steps):
            frames = app.frames
            await pilot.press("pagedown")
            while app.frames == frames:
                await pilot.pause()
        step = (time.perf_counter() - t0) / steps
    return first, step, TimedFeedView.spent / steps


def layout_costs(count: int, width: int = 98) -> None:
    """What the two height strategies cost for `count` posts, and how far the estimate is off."""
    items = synthetic_items(count)
    start = time.perf_counter()
    estimated = estimate(shapes(items, set()), width)
    estimate_time = time.perf_counter() - start
    start = time.perf_counter()
    exact = [
        2 + bool(item.reactions)
        + sum(len(wrap(text, text_width(width, item.depth))) for _, text in body_pieces(item, False))
        for item in items
    ]
    exact_time = time.perf_counter() - start
    wrong = sum(a != b for a, b in zip(estimated, exact))
    print(f"| {count:,} posts at width {width} | estimate {estimate_time * 1000:.0f} ms "
          f"| exact wrap {exact_time * 1000:.0f} ms | total {sum(estimated):,} vs {sum(exact):,} lines "
          f"| {wrong / count:.0%} of posts off, worst by {max(abs(a - b) for a, b in zip(estimated, exact))} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--listview-sizes", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--no-listview", action="store_true")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--layout-only", action="store_true")
    args = parser.parse_args()

    layout_costs(100_000)
    if args.layout_only:
        return

    rows = []
    feed_first: dict[int, float] = {}
    for size in args.sizes:
        first, step, own = asyncio.run(measure(FeedApp(synthetic_items(size)), args.steps))
        feed_first[size] = first
        rows.append(("FeedView", size, first, step, f"{own * 1000:.1f}ms", ""))
    if not args.no_listview:
        for size in args.listview_sizes:
            first, step, _ = asyncio.run(measure(ListViewApp(synthetic_items(size)), args.steps))
            ratio = f"{first / feed_first[size]:.0f}x FeedView" if size in feed_first else ""
            rows.append(("ListView+Static", size, first, step, "-", ratio))

    print("| widget | posts | first paint | page step | of which widget | first paint vs FeedView |")
    print("|---|---:|---:|---:|---:|---|")
    for widget, size, first, step, own, ratio in rows:
        print(f"| {widget} | {size:,} | {first * 1000:.0f} ms | {step * 1000:.1f} ms | {own} | {ratio} |")


if __name__ == "__main__":
    main()
