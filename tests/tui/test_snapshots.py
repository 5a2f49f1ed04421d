"""Snapshot tests of the main screens, with a fixed clock, fixed data and no cursor blink.

Regenerate after an intended change with:
    pytest tests/tui/test_snapshots.py --snapshot-update
and look at the report before committing the new SVGs.
"""

from __future__ import annotations

import pytest

from .world import make_app

SIZE = (100, 30)

CIRCLE_SCREENS = {
    "feed": [],
    "checkin_dialog": ["c"],
    "checkins": ["2"],
    "events": ["3"],
    "members": ["4"],
    "guidelines": ["5"],
    "moderation": ["6"],
    "help": ["f1"],
    "circle_list": ["escape"],
    "network": ["escape", "f2"],
    "join": ["escape", "j"],
}


@pytest.mark.parametrize("name", CIRCLE_SCREENS)
def test_screen(name, world, snap_compare):
    service = world.ana()
    try:
        assert snap_compare(make_app(service), press=CIRCLE_SCREENS[name], terminal_size=SIZE)
    finally:
        service.close()


def test_unlock(world, snap_compare):
    assert snap_compare(make_app(home=world.home), terminal_size=SIZE)


def test_first_run(tmp_path, snap_compare):
    assert snap_compare(make_app(home=tmp_path / "nobody"), press=["A", "n", "a"], terminal_size=(100, 36))


def test_high_contrast_feed(world, snap_compare):
    service = world.ana()
    try:
        assert snap_compare(make_app(service, theme="circle-high-contrast"), terminal_size=SIZE)
    finally:
        service.close()
