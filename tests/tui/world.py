"""A small, fixed circle for the TUI tests: Ana (organizer) and Ben, with a fixed clock and ids.

Built once per session into a template directory (profiles are real SQLite
files); each test copies it and unlocks its own copy.
"""

from __future__ import annotations

import itertools
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from circle.domain.models import CrisisResource
from circle.service import Service
from circle.tui.app import CircleApp
from circle.tui.settings import Settings
from tests.helpers.in_process import join
from tests.helpers.live import eventually

PASSPHRASE = "correct horse battery staple"
NOW = datetime(2025, 3, 4, 12, 0, tzinfo=timezone.utc)  # a Tuesday
GUIDELINES = (
    "1. What is shared here stays here.\n"
    "2. Listen first; advice only when asked.\n"
    "3. Use a content warning for anything heavy."
)
ANA_MOODS = (3, 2, 2, 3, 4, 3, 1, 2, 3, 4, 4, 3)


class Clock:
    """A clock tests can set; a Service takes it as `clock=`."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def ids(prefix: str):
    counter = itertools.count(1)
    return lambda: f"{prefix}{next(counter):015d}"


@dataclass
class Template:
    root: Path
    circle_id: str
    posts: dict[str, str]  # name -> post id


def build_template(root: Path) -> Template:
    clock = Clock(NOW - timedelta(days=29))
    ana = Service.create_profile(root / "ana", "Ana", PASSPHRASE, clock=clock, new_id=ids("a"))
    ben = Service.create_profile(root / "ben", "Ben", PASSPHRASE, clock=clock, new_id=ids("b"))
    circle_id = ana.create_circle("Tuesday Walkers", "Walk and talk, gently.")
    ana.set_guidelines(circle_id, GUIDELINES)
    ana.add_resource(circle_id, CrisisResource("Walkers phone tree", "Ana: 07700 900123", "GB", "evenings"))
    code = ana.invite(circle_id, uses=2)
    join(sponsor=ana, newcomer=ben, code=code)
    ben.accept_guidelines(circle_id)  # as the join screen's Accept does
    ana_device, ben_device = ana.whoami().device_id, ben.whoami().device_id

    def ben_to_ana() -> None:
        ana.receive_bundle(ben.bundle_for(circle_id, ana_device))

    def ana_to_ben() -> None:
        ben.receive_bundle(ana.bundle_for(circle_id, ben_device))

    ben_to_ana()
    for day, mood in enumerate(ANA_MOODS):
        clock.now = NOW - timedelta(days=28 - day * 2, hours=3)
        ana.checkin(circle_id, mood, share="me" if day % 3 != 0 else "circle", note="slept badly" if mood == 1 else "")
    posts = {}
    clock.now = NOW - timedelta(hours=5)
    posts["walk"] = ana.post(circle_id, "Walk on Tuesday? Meet at the north gate at ten.").id
    ana_to_ben()
    clock.now = NOW - timedelta(hours=4)
    posts["reply"] = ben.post(circle_id, "Count me in. I'll bring a flask.", reply_to=posts["walk"]).id
    clock.now = NOW - timedelta(hours=3)
    posts["cw"] = ben.post(circle_id, "My mum is back in hospital and I cannot sleep.",
                           content_warning="hospital").id
    ben.checkin(circle_id, 2, note="worried")
    ben_to_ana()
    clock.now = NOW - timedelta(hours=2)
    ana.react(circle_id, posts["cw"], "hug")
    ana.add_event(circle_id, "Tuesday walk", NOW - timedelta(days=7, hours=2), repeat="weekly", where="North gate",
                  tz="UTC")
    ana_to_ben()
    ana.close()
    ben.close()
    return Template(root, circle_id, posts)


@dataclass
class World:
    home: Path  # Ana's profile
    ben_home: Path
    circle_id: str
    posts: dict[str, str]
    clock: Clock

    def ana(self) -> Service:
        return Service.unlock(self.home, PASSPHRASE, clock=self.clock, new_id=ids("c"))

    def ben(self) -> Service:
        return Service.unlock(self.ben_home, PASSPHRASE, clock=self.clock, new_id=ids("d"))

    def ben_member_id(self) -> str:
        ben = self.ben()
        try:
            return ben.whoami().member_id
        finally:
            ben.close()


def copy_world(template: Template, target: Path) -> World:
    shutil.copytree(template.root, target)
    return World(target / "ana", target / "ben", template.circle_id, dict(template.posts), Clock(NOW))


def make_app(service: Service | None = None, *, listen: str | None = None, home: Path | None = None,
             environ: dict[str, str] | None = None, **settings) -> CircleApp:
    """The app as the tests drive it: fixed time zone, no blinking, no LAN discovery."""
    return CircleApp(
        service,
        home=home,
        settings=Settings(listen=listen, discovery=False, **settings),
        environ=environ or {},
        freeze_blink=True,
        display_tz=timezone.utc,
    )


def screen_text(app) -> str:
    """What the terminal shows, as plain text lines (from Textual's own screenshot)."""
    import html
    import re

    svg = app.export_screenshot()
    width = app.size.width
    grid = {n: [" "] * width for n in range(app.size.height)}
    cell = 0.61 * 20  # Rich's export: 20px font, character width 0.61em
    for attrs, text in re.findall(r"<text ([^>]*)>(.*?)</text>", svg):
        x, line = (re.search(pattern, attrs) for pattern in (r'\bx="([\d.]+)"', r"line-(\d+)\)"))
        if not (x and line):
            continue
        text = html.unescape(text).replace("\xa0", " ")
        col = round(float(x.group(1)) / cell)
        for offset, char in enumerate(text):
            if int(line.group(1)) in grid and 0 <= col + offset < width:
                grid[int(line.group(1))][col + offset] = char
    return "\n".join("".join(row).rstrip() for _, row in sorted(grid.items()))


# Only a failing test ever waits this long; a loaded machine (the suite runs with `-n 2`)
# may take many seconds for what real sync does at once when idle.
UNTIL_TIMEOUT = 60.0


async def until(pilot, condition, timeout: float = UNTIL_TIMEOUT, what: str = "condition", detail=None):
    """Let the app run until `condition()` holds and return its value; fail after `timeout`
    seconds (with `detail()` in the message, if given)."""
    return await eventually(condition, what, timeout, pause=pilot.pause, detail=detail)


async def type_into(pilot, selector: str, text: str) -> None:
    """Fill an Input as if typed (pressing each key is slow and proves nothing more)."""
    from textual.widgets import Input

    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = text
    field.cursor_position = len(text)
    await pilot.pause()


def plain_row(cells) -> list[str]:
    """A DataTable row's cells as strings (cells holding member text are Rich `Text`)."""
    return [str(cell) for cell in cells]
