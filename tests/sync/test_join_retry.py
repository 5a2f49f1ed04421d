"""An interrupted `circle join`: the member admitted the device, the welcome never
arrived. A retry (same code or a fresh one) must complete, with real processes."""

from __future__ import annotations

from tests.helpers.cli import Cli
from tests.helpers.cutting_proxy import WelcomeDroppingProxy
from tests.helpers.live import wait_until
from tests.helpers.served import assert_one_line_error, new_profiles, posts_of


def invites(a: Cli, circle: str) -> dict[str, int]:
    return {i["id"]: i["used"] for i in a.ok("invites", circle, "--json").json()}


def half_joined(tmp_path, serve):
    a, b = new_profiles(tmp_path, "Ana", "Ben")
    circle = a.ok("new", "Walkers").stdout.strip()
    a.ok("post", circle, "before Ben")
    served = serve(a)
    proxy = WelcomeDroppingProxy(served.port)
    code = a.ok("invite", circle, "--uses", "1", "--peer", proxy.address).stdout.strip()
    try:
        lost = b.run("join", code)
    finally:
        proxy.close()
    assert proxy.dropped.is_set()
    assert_one_line_error(lost)
    assert b.ok("circles", "--json").json() == []
    # The member did admit Ben: the invite is used up.
    wait_until(lambda: list(invites(a, circle).values()) == [1], 10, "the admission to be stored")
    return a, b, circle, served, code


def test_retry_with_the_same_code_completes_without_using_the_invite_again(tmp_path, serve):
    a, b, circle, served, code = half_joined(tmp_path, serve)
    again = b.ok("join", code, "--peer", served.address)
    assert again.stdout.strip() == circle
    assert posts_of(b, circle) and list(posts_of(b, circle).values()) == ["before Ben"]
    assert list(invites(a, circle).values()) == [1]
    b.ok("post", circle, "Ben is in")
    b.ok("sync", served.address)
    wait_until(lambda: "Ben is in" in posts_of(a, circle).values(), 10, "Ben's post to reach Ana")
    # A third attempt is told plainly that there is nothing left to do.
    err = assert_one_line_error(b.run("join", code, "--peer", served.address))
    assert "already in this circle" in err


def test_retry_with_a_fresh_code_completes_and_leaves_that_code_unused(tmp_path, serve):
    a, b, circle, served, first = half_joined(tmp_path, serve)
    fresh = a.ok("invite", circle, "--uses", "1", "--peer", served.address).stdout.strip()
    assert b.ok("join", fresh).stdout.strip() == circle
    assert list(posts_of(b, circle).values()) == ["before Ben"]
    assert sorted(invites(a, circle).values()) == [0, 1]
    members = a.ok("members", circle, "--json").json()
    assert len(members) == 2


def test_a_stranger_cannot_reuse_a_used_up_code(tmp_path, serve):
    a, b, circle, served, code = half_joined(tmp_path, serve)
    c = Cli(tmp_path / "Cara")
    c.ok("init", "--name", "Cara")
    err = assert_one_line_error(c.run("join", code, "--peer", served.address))
    assert "used up" in err
