"""Export SVG screenshots of the main screens into docs/screenshots/.

    .venv/bin/python scripts/screenshots.py [OUTPUT_DIR]

Uses the demo circle (throwaway profiles in a temp dir); the live members stay
quiet so every picture shows the same seeded state. Nothing is kept afterwards.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import sys
import tempfile
from pathlib import Path

from circle.demo import DemoClock, seed_demo, seed_my_checkins
from circle.service import Service
from circle.tui.app import CircleApp
from circle.tui.settings import Settings

SIZE = (110, 34)
QUIET = Settings(listen=None, discovery=False)

# (file name, keys to press from the app's start, or None for the gate screens)
SHOTS = [
    ("feed", []),
    ("compose", ["r"]),
    ("checkin", ["c"]),
    ("checkins", ["2"]),
    ("events", ["3"]),
    ("members", ["4"]),
    ("guidelines", ["5"]),
    ("inbox", ["6"]),
    ("log", ["7"]),
    ("moderation", ["8"]),
    ("help", ["f1"]),
    ("circles", ["escape"]),
    ("network", ["escape", "f2"]),
    ("join", ["escape", "j"]),
]


async def shoot(app: CircleApp, keys: list[str], target: Path) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        for key in keys:
            await pilot.press(key)
            await pilot.pause(0.2)
        await pilot.wait_for_scheduled_animations()
        app.save_screenshot(filename=target.name, path=str(target.parent))


async def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="circle-shots-"))
    try:
        clock = DemoClock()
        service = Service.create_profile(work / "you", "You", secrets.token_urlsafe(16), clock=clock)
        circle_id, peers = seed_demo(service, work / "peers", service.clock())
        seed_my_checkins(service, circle_id, clock)
        for name, keys in SHOTS:
            await shoot(CircleApp(service, settings=QUIET, freeze_blink=True), keys, out / f"{name}.svg")
            print(f"wrote {out / name}.svg")
        for peer in peers.values():
            peer.close()
        service.close()
        await shoot(CircleApp(home=work / "you", settings=QUIET, freeze_blink=True, environ={}), [],
                    out / "unlock.svg")
        await shoot(CircleApp(home=work / "nobody", settings=QUIET, freeze_blink=True, environ={}), [],
                    out / "first-run.svg")
        print(f"wrote {out}/unlock.svg, {out}/first-run.svg")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent.parent / "docs" / "screenshots"))
