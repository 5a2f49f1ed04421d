"""`circle poll`, `vote`, `poll-close` and `polls`: the contract, between two real profiles.

Commands run through `circle.cli.main` in this process (the subprocess path is the
same code; one real subprocess checks the exit and the one stderr line); the two
profiles exchange real sealed bundles in between.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from circle.service import Service
from tests.helpers.cli import PASSPHRASE, Cli
from tests.helpers.cli_in_process import InProcessCli
from tests.helpers.in_process import join


def _exchange(root: Path, cid: str) -> None:
    ana, ben = (Service.unlock(root / n, PASSPHRASE) for n in ("ana", "ben"))
    for src, dst in ((ana, ben), (ben, ana)):
        bundle = src.bundle_for(cid, dst.whoami().device_id)
        if bundle is not None:
            dst.receive_bundle(bundle)
    ana.close()
    ben.close()


@pytest.fixture
def pair(tmp_path):
    ana = Service.create_profile(tmp_path / "ana", "Ana", PASSPHRASE)
    ben = Service.create_profile(tmp_path / "ben", "Ben", PASSPHRASE)
    cid = ana.create_circle("Walkers")
    join(sponsor=ana, newcomer=ben, code=ana.invite(cid))
    ana.receive_bundle(ben.bundle_for(cid, ana.whoami().device_id))
    ana.close()
    ben.close()
    return tmp_path, cid, InProcessCli(tmp_path / "ana"), InProcessCli(tmp_path / "ben")


def test_ask_vote_see_counts_and_close_from_the_command_line(pair):
    root, cid, ana, ben = pair
    post = ana.ok("post", cid, "Shall we move the walk?").stdout.strip()
    poll = ana.ok("poll", cid, "Sunday or Saturday?", "--option", "Sunday", "--option", "Saturday",
                  "--post", post[:8], "--closes", "3d").stdout
    assert poll.count("\n") == 1 and len(poll.strip()) == 16
    poll = poll.strip()
    _exchange(root, cid)
    assert ben.ok("vote", cid, poll[:8], "Saturday").stdout == poll + "\n"
    ben.ok("vote", cid, poll, "1")  # changed his mind: still one vote
    _exchange(root, cid)
    listed = ana.ok("polls", cid, "--json").json()
    assert [(o["text"], o["votes"]) for o in listed[0]["options"]] == [("Sunday", 1), ("Saturday", 0)]
    assert listed[0]["open"] and listed[0]["post"] == post and listed[0]["my_vote"] is None
    assert ben.ok("polls", cid, "--json").json()[0]["my_vote"] == 1
    feed = ben.ok("feed", cid).stdout  # under its post
    assert "Poll: Sunday or Saturday?" in feed and "you voted 1 (Sunday)" in feed
    closed = ana.ok("poll-close", cid, poll, "--json").json()
    assert closed["open"] is False and closed["closed_by"] and closed["total"] == 1
    assert "closed" in ana.ok("polls", cid).stdout
    exported = ana.ok("export", cid, "--format", "json").json()["polls"]
    assert [(o["text"], o["votes"]) for o in exported[0]["options"]] == [("Sunday", 1), ("Saturday", 0)]
    assert "- **Sunday or Saturday?** (closed " in ana.ok("export", cid, "--format", "md").stdout


@pytest.mark.parametrize("args, line", [
    (("poll", "{cid}", "Q?", "--option", "only"), "circle: a poll has 2 to 10 options, not 1\n"),
    (("poll", "{cid}", "Q?", "--option", "a", "--option", "b", "--closes", "soon"),
     "circle: not a duration: 'soon' (use e.g. 30m, 12h, 7d, 2w)\n"),
    (("poll", "{cid}", "Q?", "--option", "a", "--option", "b", "--guidelines"),
     "circle: this circle has no guidelines yet for a poll to be about\n"),
    (("vote", "{cid}", "{poll}", "3"), "circle: no option '3': give its number (1 to 2) or its exact text\n"),
    (("vote", "{cid}", "nopoll00", "1"), "circle: unknown poll: 'nopoll00'\n"),
    (("poll-close", "{cid}", "{poll}"),
     "circle: only the member who asked, a moderator or an organizer closes a poll\n"),
])
def test_bad_input_is_one_line_on_stderr_and_nothing_changes(pair, args, line):
    root, cid, ana, ben = pair
    poll = ana.ok("poll", cid, "Tea?", "--option", "Yes", "--option", "No").stdout.strip()
    _exchange(root, cid)
    before = ben.ok("polls", cid, "--json").stdout
    result = ben.run(*(a.format(cid=cid, poll=poll) for a in args))
    assert (result.returncode, result.stdout, result.stderr) == (1, "", line)
    assert ben.ok("polls", cid, "--json").stdout == before


def test_a_vote_on_a_closed_poll_is_refused_by_the_real_command(pair):
    root, cid, ana, ben = pair
    poll = ana.ok("poll", cid, "Tea?", "--option", "Yes", "--option", "No").stdout.strip()
    ana.ok("poll-close", cid, poll)
    _exchange(root, cid)
    result = Cli(root / "ben").run("vote", cid, poll, "Yes")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == f"circle: poll {poll[:8]} is closed\n"


def test_a_hostile_question_and_options_print_as_plain_text(pair):
    root, cid, ana, ben = pair
    ana.ok("poll", cid, "[b]Vote[/b]\x1b]52;c;ZXZpbA==\x07 now\u202e", "--option", "North\x1b[2J",
           "--option", "South\r\ngate")
    _exchange(root, cid)
    out = ben.ok("polls", cid).stdout
    assert "Poll: [b]Vote[/b] now" in out and "1. North " in out and "2. South gate" in out
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", out)


def test_votes_from_separate_processes_meet_over_tcp(tmp_path, serve):
    """Ana serves the circle as a real process; Ben and Cy, each a real `circle` process,
    sync with her over 127.0.0.1, vote, and sync again: every profile shows the same counts."""
    from tests.helpers.served import group

    g = group(tmp_path, serve, ("Ben", "Cy"))
    ben, cy = g.members["Ben"], g.members["Cy"]
    poll = g.a.ok("poll", g.circle, "Which gate?", "--option", "North", "--option", "South").stdout.strip()
    for member, choice in ((ben, "South"), (cy, "2")):
        member.ok("sync", g.served_a.address)
        member.ok("vote", g.circle, poll, choice)
        member.ok("sync", g.served_a.address)
    ben.ok("sync", g.served_a.address)  # Cy's vote reaches Ben through Ana
    for cli, mine in ((g.a, None), (ben, 2), (cy, 2)):
        [listed] = cli.ok("polls", g.circle, "--json").json()
        assert [o["votes"] for o in listed["options"]] == [0, 2] and listed["my_vote"] == mine
