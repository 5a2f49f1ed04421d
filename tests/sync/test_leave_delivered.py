"""`circle leave` reaches the circle (TCP and folder), and only then does the
device stop syncing it. Real processes, real sockets on 127.0.0.1."""

from __future__ import annotations

from tests.helpers.cli import Cli
from tests.helpers.live import member_id, wait_until
from tests.helpers.served import assert_one_line_error, group


def statuses(cli: Cli, circle: str) -> dict[str, str]:
    return {m["id"]: m["status"] for m in cli.ok("members", circle, "--all", "--json").json()}


def test_leave_is_delivered_over_tcp_then_the_device_stops_syncing(tmp_path, serve):
    g = group(tmp_path, serve, ("Ben",))
    ben = g.members["Ben"]
    ben.ok("sync", g.served_a.address)
    ben.ok("leave", g.circle)
    ben.ok("sync", g.served_a.address)
    wait_until(lambda: statuses(g.a, g.circle)[member_id(ben)] == "left", 10, "Ana to see Ben leave")
    mine = ben.ok("circles", "--json").json()
    assert [c["left"] for c in mine] == [True]
    assert "no longer a member" in ben.ok("circles").stdout
    # Delivered: nothing more to sync for that circle.
    assert "not a member of any circle" in assert_one_line_error(ben.run("sync", g.served_a.address))


def test_leave_is_delivered_through_a_folder(tmp_path, serve):
    g = group(tmp_path, serve, ("Ben",))
    ben = g.members["Ben"]
    ben.ok("sync", g.served_a.address)
    folder = tmp_path / "shared"
    folder.mkdir()
    ben.ok("leave", g.circle)
    ben.ok("sync", "--folder", str(folder))
    g.a.ok("sync", "--folder", str(folder))
    assert statuses(g.a, g.circle)[member_id(ben)] == "left"
