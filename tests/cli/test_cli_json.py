"""Every command that takes --json prints one JSON document on stdout and nothing else.

The commands run against real profiles (real SQLite stores) of one circle whose members were
synced in process; serve, sync and join run over real sockets on 127.0.0.1. A walk over the
argparse tree checks that each command with a --json option has a case here.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers.cli_in_process import InProcessCli
from tests.helpers.cli import PASSPHRASE, Cli

from circle import cli
from circle.domain.models import CrisisResource
from circle.service import Service
from tests.helpers.in_process import join, quiet_circle


@dataclass
class World:
    root: Path
    ids: dict

    def cli(self, name: str = "ana") -> InProcessCli:
        return InProcessCli(self.root / name)


def _build(root: Path) -> dict:
    made = {n: Service.create_profile(root / n, n.title(), PASSPHRASE)
            for n in ("ana", "ben", "cat", "dan", "eve", "hub", "gus")}
    ana, ben, cat = made["ana"], made["ben"], made["cat"]
    cid = ana.create_circle("Walkers", "weekly walks")
    others = [made[n] for n in ("ben", "cat", "dan", "eve")]
    code = ana.invite(cid, uses=len(others))
    for member in others:
        join(sponsor=ana, newcomer=member, code=code)
    device = {s: s.whoami().device_id for s in made.values()}

    def sync() -> None:  # through the organizer, who knows every device
        for member in others:
            ana.receive_bundle(member.bundle_for(cid, device[ana]))
        for member in others:
            member.receive_bundle(ana.bundle_for(cid, device[member]))

    sync()
    mid = {n: s.whoami().member_id for n, s in made.items()}
    posts = {n: ana.post(cid, f"post to {n}").id for n in ("edit", "delete", "react", "hide", "unhide")}
    ana.hide(cid, posts["unhide"], "off topic")
    sync()
    posts["ben"] = ben.post(cid, "ben's post").id
    reported = ana.post(cid, "a post ben reports").id
    sync()
    report = ben.report(cid, reported, "please look")
    cat.reach_out(cid, [mid["ana"]], "call me?")
    sync()
    ana.checkin(cid, 4, note="fine")
    event = ana.add_event(cid, "Lake walk", datetime.now().astimezone() + timedelta(days=3)).id
    club = ana.add_event(cid, "Book club", datetime.now().astimezone() + timedelta(days=4)).id
    polls = {n: ana.create_poll(cid, f"{n}?", ["Yes", "No"]).poll.id for n in ("vote", "close")}
    invite = ana.invite(cid)
    ana.mute(cid, mid["eve"], timedelta(days=1), "cool down")
    ana.add_resource(cid, CrisisResource("Walk buddy line", "0800 000 000"))
    ana.set_cw_filters(["spiders"])
    ana.note_peer(cid, device[ben], "127.0.0.1:7000")
    spare = ana.create_circle("Spare")

    hub_circle = made["hub"].create_circle("Hub")
    hub_code = made["hub"].invite(hub_circle, uses=2)
    join(sponsor=made["hub"], newcomer=ana, code=hub_code)
    made["hub"].receive_bundle(ana.bundle_for(hub_circle, device[made["hub"]]))
    gus_code = made["hub"].invite(hub_circle)
    for service in made.values():
        service.close()
    return {"circle": cid, "spare": spare, "hub_circle": hub_circle, "gus_code": gus_code, "event": event,
            "club": club, "invite": invite, "report": report.id, "posts": posts, "members": mid,
            "polls": polls}


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    root = tmp_path_factory.mktemp("json-world")
    return World(root, _build(root))


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIRCLE_")}
    env["CIRCLE_PASSPHRASE"] = PASSPHRASE
    return env


def _start_serve(home: Path, log: Path, command: tuple[str, ...] = ("serve", "--no-discovery")
                 ) -> tuple[subprocess.Popen, str]:
    """`circle serve --json` (or `command`) on 127.0.0.1 as a real process; returns it and its first stdout."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "circle", "--home", str(home), *command, "--host", "127.0.0.1", "--port", "0",
         "--json"],
        stdout=subprocess.PIPE, stderr=log.open("w"), stdin=subprocess.DEVNULL, bufsize=0, env=_env())
    data, deadline = b"", time.monotonic() + 30
    while not data.endswith(b"}\n"):  # the object's closing line
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(proc.stdout.fileno(), 4096) if ready else b""
        if not chunk:
            proc.kill()
            raise AssertionError(f"serve printed {data!r}; log: {log.read_text()}")
        data += chunk
    return proc, data.decode("utf-8")


def _stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGTERM)
    rest, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, proc.returncode
    return rest.decode("utf-8")


@pytest.fixture(scope="module")
def hub_port(world: World, tmp_path_factory):
    proc, first = _start_serve(world.root / "hub", tmp_path_factory.mktemp("hub-log") / "serve.log")
    yield json.loads(first)["port"]
    _stop(proc)


def _serve(world: World, request) -> str:
    proc, first = _start_serve(world.root / "ben", world.root / "ben-serve.log")
    return first + _stop(proc)  # the whole of stdout, up to the exit


def _relay(world: World, request) -> str:
    command = ("relay", "--data", str(world.root / "relay-data"))
    proc, first = _start_serve(world.root / "no-profile", world.root / "relay.log", command)
    return first + _stop(proc)


def _relays(world: World, request) -> str:
    """Ana adds a real relay (a separate process) to the circle, then lists the circle's relays."""
    from tests.helpers.relay import Relay

    relay = Relay(world.root / "relays-data", world.root).start()
    try:
        circle = world.ids["circle"]
        world.cli().ok("relays", circle, "--add", relay.address, "--token", relay.token, "--json")
        return world.cli().ok("relays", circle, "--json").stdout
    finally:
        relay.stop()


def _sync(world: World, request) -> str:
    port = request.getfixturevalue("hub_port")
    return world.cli().ok("sync", f"127.0.0.1:{port}", "--json").stdout


def _join(world: World, request) -> str:
    port = request.getfixturevalue("hub_port")
    return world.cli("gus").ok("join", world.ids["gus_code"], "--peer", f"127.0.0.1:{port}", "--json").stdout


def _quiet(world: World, request) -> str:
    cid, _, ana, _ = quiet_circle(request.getfixturevalue("tmp_path"))
    return ana.ok("quiet", cid, "--json").stdout


def _init(world: World, request) -> str:
    return InProcessCli(world.root / "fresh").ok("init", "--name", "Zed", "--json").stdout


def _args(*parts):
    """A case that runs `circle PARTS... --json` as Ana; callables in PARTS take the world's ids."""
    def case(world: World, request) -> str:
        argv = [p(world.ids) if callable(p) else p for p in parts]
        return world.cli().ok(*argv, "--json").stdout
    return case


C = lambda ids: ids["circle"]  # noqa: E731
post = lambda key: lambda ids: ids["posts"][key]  # noqa: E731
member = lambda key: lambda ids: ids["members"][key]  # noqa: E731

# command -> (how to run it, the type printed, keys each object holds)
CASES: dict[str, tuple] = {
    "init": (_init, dict, {"member_id", "device_id", "name", "home"}),
    "whoami": (_args("whoami"), dict, {"member_id", "device_id", "name", "home"}),
    "new": (_args("new", "Hikers"), dict, {"id", "name"}),
    "circles": (_args("circles"), list, {"id", "name", "members", "posts", "left"}),
    "post": (_args("post", C, "hello"), dict, {"id", "circle", "reply_to"}),
    "edit": (_args("edit", C, post("edit"), "changed"), dict, {"id", "circle", "edited_at"}),
    "delete": (_args("delete", C, post("delete")), dict, {"id", "circle", "deleted"}),
    "react": (_args("react", C, post("react"), "heart"), dict, {"id", "circle", "reactions"}),
    "feed": (_args("feed", C), list, {"id", "author_id", "body", "reactions"}),
    "search": (_args("search", C, "post"), dict, {"query", "total", "hits"}),
    "checkin": (_args("checkin", C, "--mood", "3"), dict, {"id", "circle", "visibility"}),
    "checkins": (_args("checkins", C), list, {"id", "mood", "visibility"}),
    "event": (_args("event", C, "Hill walk", "--when", "2031-05-04T10:00+00:00"), dict,
              {"id", "circle", "next", "repeat"}),
    "events": (_args("events", C), list, {"id", "title", "next"}),
    "rsvp": (_args("rsvp", C, lambda ids: ids["event"], "yes"), dict, {"event", "circle", "answer"}),
    "event-edit": (_args("event-edit", C, lambda ids: ids["event"], "--tz", "Europe/London"), dict,
                   {"id", "circle", "next", "repeat", "tz", "cancelled"}),
    "event-cancel": (_args("event-cancel", C, lambda ids: ids["club"]), dict, {"id", "circle", "cancelled"}),
    "poll": (_args("poll", C, "Walk?", "--option", "Yes", "--option", "No"), dict,
             {"id", "circle", "question", "options", "open"}),
    "vote": (_args("vote", C, lambda ids: ids["polls"]["vote"], "1"), dict, {"id", "circle", "my_vote", "total"}),
    "poll-close": (_args("poll-close", C, lambda ids: ids["polls"]["close"]), dict, {"id", "circle", "open"}),
    "polls": (_args("polls", C), list, {"id", "question", "options", "open", "my_vote"}),
    "members": (_args("members", C), list, {"id", "name", "role", "status", "guidelines_accepted"}),
    "invite": (_args("invite", C, "--peer", "127.0.0.1:7000"), dict,
               {"code", "id", "circle", "expires", "uses", "device", "peers", "readmit"}),
    "invites": (_args("invites", C), list, {"id", "status", "expires_at"}),
    "revoke-invite": (_args("revoke-invite", C, lambda ids: _invite_id(ids["invite"])), dict,
                      {"circle", "id", "status", "revoked"}),
    "role": (_args("role", C, member("ben"), "moderator"), dict, {"ok", "circle", "member", "role"}),
    "remove": (_args("remove", C, member("dan"), "--reason", "asked to"), dict,
               {"ok", "circle", "member", "status", "closed_invites"}),
    "leave": (_args("leave", lambda ids: ids["spare"]), dict, {"ok", "circle", "left"}),
    "rename": (_args("rename", C, "Ana M."), dict, {"circle", "member_id", "name"}),
    "hide": (_args("hide", C, post("hide"), "--reason", "off topic"), dict, {"ok", "circle", "post", "hidden"}),
    "unhide": (_args("unhide", C, post("unhide")), dict, {"ok", "circle", "post", "hidden"}),
    "mute": (_args("mute", C, member("cat"), "--for", "1h"), dict, {"ok", "circle", "member", "until"}),
    "unmute": (_args("unmute", C, member("eve")), dict, {"ok", "circle", "member", "muted"}),
    "report": (_args("report", C, post("ben"), "--reason", "check this"), dict, {"id", "post_id", "status"}),
    "reports": (_args("reports", C), list, {"id", "post_id", "status", "reason"}),
    "dismiss": (_args("dismiss", C, lambda ids: ids["report"]), dict, {"circle", "dismissed"}),
    "warn": (_args("warn", C, member("cat"), "--reason", "be kind"), dict, {"id", "circle", "member"}),
    "modlog": (_args("modlog", C), list, {"id", "kind", "summary", "status"}),
    "report-policy": (_args("report-policy", C), dict, {"circle_id", "collapse_after"}),
    "quiet": (_quiet, list, {"id", "author_id", "author", "body", "created_at"}),
    "quiet-after": (_args("quiet-after", C), dict, {"circle_id", "quiet_after_hours"}),
    "checkin-reminder": (_args("checkin-reminder", "20:30"), dict, {"checkin_reminder"}),
    "reach-out": (_args("reach-out", C, "--to", member("ben")), dict, {"id", "circle", "to"}),
    "inbox": (_args("inbox", C), list, {"id", "kind", "sender_id", "text"}),
    "filters": (_args("filters"), list, None),
    "region": (_args("region"), dict, {"region"}),
    "resources": (_args("resources", C), list, {"id", "name", "contact", "source"}),
    "about": (_args("about", C, "--purpose", "weekly walks, gently"), dict, {"circle_id", "name", "purpose"}),
    "guidelines": (_args("guidelines", C), dict, {"circle_id", "guidelines", "version", "accepted"}),
    "export": (_args("export", C, "--format", "json"), dict, {"format", "circle", "members", "posts"}),
    "serve": (_serve, dict, {"listening", "host", "port"}),
    "relay": (_relay, dict, {"listening", "host", "port", "token", "key"}),
    "sync": (_sync, dict, {"synced"}),
    "join": (_join, dict, {"circle", "name", "peer", "guidelines_pending"}),
    "peers": (_args("peers", C), list, {"device_id", "member_id", "address", "active"}),
    "relays": (_relays, list, {"address", "key"}),
}


def _invite_id(code: str) -> str:
    from circle.crypto.invite_code import InviteCode

    return InviteCode.decode(code).invite_id


@pytest.mark.parametrize("command", list(CASES))
def test_json_output_is_one_document_with_the_expected_keys(world: World, request, command: str):
    run, kind, keys = CASES[command]
    value = json.loads(run(world, request))  # the whole of stdout: nothing printed around it
    assert isinstance(value, kind) and value, value
    for item in value if kind is list else [value]:
        if keys is None:
            assert isinstance(item, str), item
        else:
            assert keys <= set(item), (command, sorted(keys - set(item)))


def test_action_answers_say_what_happened(world: World):
    """A few values, so the keys cannot be filled with anything."""
    ids, ana = world.ids, world.cli()
    cid = ids["circle"]
    answer = ana.ok("react", cid, ids["posts"]["react"], "hug", "--json").json()
    assert answer["id"] == ids["posts"]["react"] and answer["reactions"]["hug"] == 1
    invite = ana.ok("invite", cid, "--expires", "2d", "--peer", "[::1]:7000", "--json").json()
    assert invite["peers"] == ["[::1]:7000"] and invite["circle"] == cid
    expires = datetime.fromisoformat(invite["expires"])
    assert timedelta(days=2) - timedelta(minutes=5) < expires - datetime.now().astimezone() <= timedelta(days=2)
    assert invite["id"] in {r["id"] for r in ana.ok("invites", cid, "--json").json()}
    muted = ana.ok("mute", cid, "Cat", "--for", "2h", "--json").json()
    assert muted["member"] == ids["members"]["cat"]
    hidden = ana.ok("hide", cid, ids["posts"]["ben"][:8], "--reason", "spam", "--json").json()
    assert (hidden["post"], hidden["hidden"]) == (ids["posts"]["ben"], True)
    out = ana.ok("unhide", cid, ids["posts"]["ben"], "--json").json()
    assert out["hidden"] is False


def test_without_json_the_actions_print_as_before(world: World):
    ana, cid = world.cli(), world.ids["circle"]
    post_id = ana.ok("post", cid, "plain").stdout.strip()
    assert len(post_id) == 16 and int(post_id, 16) >= 0
    assert ana.ok("react", cid, post_id, "heart").stdout == post_id + "\n"
    assert ana.ok("hide", cid, post_id, "--reason", "test").stdout == ""
    assert ana.ok("unhide", cid, post_id).stdout == ""
    assert ana.ok("mute", cid, "Cat", "--for", "1h").stdout == ""
    assert ana.ok("unmute", cid, "Cat").stdout == ""
    assert ana.ok("invite", cid).stdout.startswith("circle1")


def test_export_with_json_names_the_file_or_refuses_markdown_on_stdout(world: World, tmp_path: Path):
    ana, cid = world.cli(), world.ids["circle"]
    target = tmp_path / "walkers.md"
    answer = ana.ok("export", cid, "--format", "md", "--output", str(target), "--json").json()
    assert answer == {"circle": cid, "format": "md", "output": str(target)}
    assert target.read_text("utf-8").startswith("# Walkers")
    refused = ana.run("export", cid, "--format", "md", "--json")
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.startswith("circle: ") and refused.stderr.count("\n") == 1


def test_the_interactive_app_refuses_json(tmp_path: Path):
    app = Cli(tmp_path / "home")
    for argv in (("--json", "demo"), ("--json",), ("demo", "--json")):
        result = app.run(*argv, timeout=30)
        assert result.returncode == 2 and result.stdout == "", argv
        assert result.stderr.startswith("circle: ") and result.stderr.count("\n") == 1, result.stderr


def _commands_with_json() -> set[str]:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {name for name, p in sub.choices.items() if any("--json" in a.option_strings for a in p._actions)}


def test_every_command_with_a_json_option_has_a_case():
    commands = _commands_with_json()
    assert {"post", "role", "serve", "export"} <= commands  # the walk finds them at all
    assert commands - set(CASES) == set(), "add a case to CASES for each new --json command"
    assert set(CASES) - commands == set()
