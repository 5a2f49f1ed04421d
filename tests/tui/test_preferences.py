"""Service preferences: last circle, posts seen, content filters, region; sealed, per device."""

from __future__ import annotations

import sqlite3


def test_preferences_survive_a_restart_and_are_sealed(world):
    service = world.ana()
    assert service.last_circle() is None
    assert service.unread_count(world.circle_id) == 2  # Ben's posts
    service.remember_circle(world.circle_id)
    service.mark_seen(world.circle_id, [world.posts["reply"]])
    service.set_cw_filters(["Grief", "hospital"])
    service.set_region("nz")
    service.close()

    service = world.ana()
    assert service.last_circle() == world.circle_id
    assert service.seen_posts(world.circle_id) == {world.posts["reply"]}
    assert service.unread_count(world.circle_id) == 1
    assert service.cw_filters() == ("grief", "hospital")
    assert service.region() == "GB"  # CIRCLE_REGION (set for these tests) wins over the setting
    service.close()

    raw = b"".join(
        bytes(row[0]) for row in sqlite3.connect(world.home / "circle.db").execute(
            "SELECT blob FROM private_items WHERE kind = 'prefs'")
    )
    assert raw and world.posts["reply"].encode() not in raw and world.circle_id.encode() not in raw


def test_a_circle_you_left_is_not_the_last_circle(world):
    service = world.ana()
    service.remember_circle("0" * 32)
    assert service.last_circle() is None
    service.close()


def test_hidden_and_deleted_posts_do_not_count_as_unread(world):
    service = world.ana()
    service.hide(world.circle_id, world.posts["cw"], "too much")
    assert service.unread_count(world.circle_id) == 1
    service.close()
