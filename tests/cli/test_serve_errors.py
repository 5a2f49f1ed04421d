"""`circle serve` with a bad --host/--port, or on a port already in use: one
`circle: ...` line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import socket

import pytest

from circle.sync.discovery import interface_addresses


@pytest.mark.parametrize("args, says", [
    (["--port", "70000"], "a port is a number from 0 to 65535"),
    (["--port", "-1"], "a port is a number from 0 to 65535"),
    (["--port", "seven"], "invalid int value"),
    (["--host", "no-such-host.invalid", "--port", "0"], "no such host"),
])
def test_a_bad_host_or_port_is_one_clear_line(profile_cli, args, says):
    result = profile_cli.run("serve", "--no-discovery", *args)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("circle: ") and says in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_a_port_already_in_use_is_one_clear_line(profile_cli):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = profile_cli.run("serve", "--no-discovery", "--host", "127.0.0.1", "--port", str(port))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines == [f"circle: cannot listen on 127.0.0.1:{port}: that port is already in use "
                     "(another `circle serve`, or the app, may be running)"], result.stderr


def test_any_address_advertises_interface_addresses_not_the_hostname_lookup():
    advertised = {socket.inet_ntoa(a) for a in interface_addresses("0.0.0.0")}
    assert advertised and not any(a.startswith("127.0.1.") for a in advertised)
    assert {socket.inet_ntoa(a) for a in interface_addresses("127.0.0.1")} == {"127.0.0.1"}
