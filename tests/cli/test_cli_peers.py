"""`circle peers` without a circle: the addresses this device dials, added and forgotten by hand."""

from __future__ import annotations

import pytest

from tests.helpers.cli_in_process import InProcessCli


@pytest.fixture
def ana(tmp_path):
    cli = InProcessCli(tmp_path / "home")
    cli.ok("init", "--name", "Ana")
    cli.ok("new", "Walkers")
    return cli


def test_an_added_peer_is_listed_and_forgetting_it_takes_it_off(ana):
    assert "no peers to dial" in ana.ok("peers").stdout
    assert ana.ok("peers", "--add", "192.0.2.5:7654").stdout.startswith("added 192.0.2.5:7654")
    assert ana.ok("peers", "--json").json() == [{"address": "192.0.2.5:7654", "added": True}]
    assert "192.0.2.5:7654  added by you" in ana.ok("peers").stdout
    ana.ok("peers", "--forget", "192.0.2.5:7654")
    assert ana.ok("peers", "--json").json() == []


@pytest.mark.parametrize("args, says", [
    (("peers", "--add", "ho\x1bst:7000"), "circle: not a peer address"),
    (("peers", "--add", "host"), "circle: not a peer address"),
    (("peers", "--forget", "192.0.2.9:1"), "circle: this device does not dial"),
    (("peers", "Walkers", "--add", "192.0.2.5:7654"), "circle: --add and --forget are for this device"),
])
def test_bad_input_is_one_line_a_non_zero_exit_and_changes_nothing(ana, args, says):
    result = ana.run(*args)
    assert result.returncode != 0 and result.stdout == ""
    assert result.stderr.startswith(says) and result.stderr.count("\n") == 1
    assert "\x1b" not in result.stderr
    assert ana.ok("peers", "--json").json() == []
