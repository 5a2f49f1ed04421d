"""The safety routine from the command line, with every member a real process.

Ana (organizer) runs `circle serve`; Ben and Cy joined with a code and sync with
her over loopback. Reports, folding, warnings, the moderation log, guideline
acceptance, band check-ins, reach-outs, filters and the region setting all go
through the real CLI, a real SQLite file per profile and real sockets.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.cli import Cli
from tests.helpers.live import member_id
from tests.helpers.served import assert_one_line_error, group


def sync(cli: Cli, g) -> None:
    cli.ok("sync", g.served_a.address)


@pytest.fixture
def walkers(tmp_path: Path, serve):  # noqa: F811
    g = group(tmp_path, serve, ("Ben", "Cy"))
    return g, g.a, g.members["Ben"], g.members["Cy"]


def test_a_moderators_whole_routine_from_the_cli(walkers, tmp_path: Path) -> None:
    g, ana, ben, cy = walkers
    circle = g.circle
    ids = {name: member_id(cli) for name, cli in (("Ana", ana), ("Ben", ben), ("Cy", cy))}

    # Guidelines: new ones block posting until accepted.
    rules = tmp_path / "rules.txt"
    rules.write_text("Be kind. Listen first.\n")
    ana.ok("guidelines", circle, "--set", str(rules))
    sync(ben, g)
    blocked = assert_one_line_error(ben.run("post", circle, "hello"))
    assert "guidelines" in blocked
    shown = ben.ok("guidelines", circle).stdout
    assert "Be kind. Listen first." in shown and "--accept" in shown
    assert ben.ok("guidelines", circle, "--accept", "--json").json()["accepted"] is True
    post = ben.ok("post", circle, "you are all useless").stdout.strip()
    sync(ben, g)
    members = {m["name"]: m for m in ana.ok("members", circle, "--json").json()}
    assert members["Ben"]["guidelines_accepted"] is True and members["Cy"]["guidelines_accepted"] is False

    # A report: the reporter sees their own, without themselves as a field; the
    # organizer sees who reported, and the text with its verified author.
    sync(cy, g)
    report_id = cy.ok("report", circle, post[:8], "--reason", "REASON-MARKER cruel").stdout.strip()
    mine = cy.ok("reports", circle, "--json").json()
    assert [set(r) for r in mine] == [{"id", "post_id", "reason", "status", "created_at"}]
    assert mine[0]["id"] == report_id and mine[0]["post_id"] == post and mine[0]["status"] == "open"
    sync(cy, g)
    queue = ana.ok("reports", circle, "--json").json()
    assert [(r["id"], r["reporter_id"], r["author_id"], r["reported_body"], r["evidence"]) for r in queue] == [
        (report_id, ids["Cy"], ids["Ben"], "you are all useless", "verified")]
    assert "REASON-MARKER" in ana.ok("reports", circle).stdout
    sync(ben, g)
    assert ben.ok("reports", circle, "--json").json() == []  # the reported author reads nothing

    # Fold after one report: the organizer's device folds it, every member sees it folded.
    ana.ok("report-policy", circle, "--fold-after", "1")
    assert ana.ok("report-policy", circle, "--json").json()["collapse_after"] == 1
    sync(ben, g)
    folded = {p["id"]: p for p in ben.ok("feed", circle, "--json").json()}[post]
    assert folded["collapsed_reason"] == "pending moderator review (1 report)"
    assert "you are all useless" not in ben.ok("feed", circle).stdout

    # Warn privately, then hide with a reason and mute with a reason.
    warning_id = ana.ok("warn", circle, "Ben", "--reason", "Please keep it kind.").stdout.strip()
    ana.ok("hide", circle, post[:8], "--reason", "unkind to the group")
    ana.ok("mute", circle, "Ben", "--for", "1h", "--reason", "cool off")
    sync(ben, g)
    sync(cy, g)
    inbox = ben.ok("inbox", circle, "--json").json()
    assert [(i["id"], i["kind"], i["sender"], i["text"]) for i in inbox] == [
        (warning_id, "warning", "Ana", "Please keep it kind.")]
    assert cy.ok("inbox", circle, "--json").json() == []
    hidden = {p["id"]: p for p in cy.ok("feed", circle, "--json").json()}[post]
    assert hidden["hidden"] and hidden["body"] == "" and hidden["hidden_reason"] == "unkind to the group"
    assert cy.ok("reports", circle, "--all", "--json").json()[0]["status"] == "hidden"
    assert "muted you" in assert_one_line_error(ben.run("post", circle, "again"))

    # The log: every member reads who did what and why; only moderators (and
    # the member warned) read whom a warning was for.
    log = cy.ok("modlog", circle, "--json").json()
    summary = [(e["actor"], e["summary"].split(" until ")[0], e["reason"], e["status"]) for e in log]
    assert summary == [
        ("Ana", "updated the guidelines (version 1)", "", "valid"),
        ("Ana", "set reported posts to fold after 1 report", "", "valid"),
        ("Ana", f"folded post {post[:8]} for review after 1 report", "", "valid"),
        ("Ana", "sent a private warning", "", "valid"),
        ("Ana", f"hid post {post[:8]}", "unkind to the group", "valid"),
        ("Ana", "muted Ben", "cool off", "valid"),
    ]
    assert all(len(e["signature"]) == 128 and e["parents"] for e in log)
    ana_log = {e["id"]: e for e in ana.ok("modlog", circle, "--json").json()}
    assert ana_log[warning_id]["summary"] == "privately warned Ben"
    assert "muted Ben" in cy.ok("modlog", circle).stdout

    ana.ok("unmute", circle, "Ben")
    sync(ben, g)
    ben.ok("post", circle, "sorry, everyone")
    assert "unmuted Ben" in ben.ok("modlog", circle).stdout


def test_care_signals_filters_and_region_from_the_cli(walkers) -> None:
    g, ana, ben, cy = walkers
    circle = g.circle

    # A band check-in: the circle sees the band, never the number or the note.
    cy.ok("checkin", circle, "--mood", "1", "--note", "NOTE-MARKER", "--band")
    own = cy.ok("checkins", circle, "--json").json()[-1]
    assert (own["mood"], own["note"], own["visibility"], own["band"]) == (1, "NOTE-MARKER", "band",
                                                                          "could use support")
    sync(cy, g)
    seen = ana.ok("checkins", circle, "--json").json()[-1]
    assert (seen["mood"], seen["note"], seen["band"]) == (None, "", "could use support")
    assert "NOTE-MARKER" not in ana.ok("export", circle, "--format", "json").stdout
    for fmt in ("json", "md"):  # --no-private exports what the circle saw: the band alone
        export = cy.ok("export", circle, "--format", fmt, "--no-private").stdout
        assert "NOTE-MARKER" not in export and "could use support" in export
    assert "NOTE\\-MARKER" in cy.ok("export", circle, "--format", "md").stdout  # Markdown-escaped
    assert "could use support" in ana.ok("checkins", circle).stdout

    # Reach out: only the chosen member hears of it.
    sync(ben, g)
    ben.ok("reach-out", circle, "--to", "Cy", "--note", "rough night")
    sync(ben, g)
    sync(cy, g)
    assert [(i["kind"], i["sender"], i["text"]) for i in cy.ok("inbox", circle, "--json").json()] == [
        ("reach_out", "Ben", "rough night")]
    assert ana.ok("inbox", circle, "--json").json() == []

    # Topic filters fold matching posts for this member only.
    ana.ok("post", circle, "Thinking about grief today.")
    sync(cy, g)
    assert cy.ok("filters", "--add", "Grief", "--json").json() == ["grief"]
    assert "folded: matches your filter: grief" in cy.ok("feed", circle).stdout
    assert "Thinking about grief today." in ana.ok("feed", circle).stdout
    assert cy.ok("filters", "--remove", "grief", "--json").json() == []
    assert "Thinking about grief today." in cy.ok("feed", circle).stdout

    # The region for built-in resources: a setting, overridden by CIRCLE_REGION.
    assert cy.ok("region", "GB", "--json").json() == {"region": "GB"}
    builtin = [r for r in cy.ok("resources", "--json").json() if r["source"] == "builtin"]
    assert builtin[0]["region"] == "GB"
    env = cy.env(CIRCLE_REGION="US")
    first_us = json.loads(cy.ok("resources", circle, "--json", env=env).stdout)
    assert [r for r in first_us if r["source"] == "builtin"][0]["region"] == "US"


def test_safety_commands_refuse_bad_input_with_one_line(walkers) -> None:
    g, ana, ben, cy = walkers
    circle = g.circle
    post = ben.ok("post", circle, "hello").stdout.strip()
    sync(ben, g)
    sync(cy, g)
    for cli, args, words in [
        (ben, ("report", circle, post, "--reason", "mine"), "your own post"),
        (cy, ("report", circle, post, "--reason", "  "), "reason is empty"),
        (cy, ("report", circle, "ffffffff", "--reason", "x"), "unknown post"),
        (cy, ("warn", circle, "Ben", "--reason", "stop"), "may not warn"),
        (cy, ("report-policy", circle, "--fold-after", "2"), "may not set policy"),
        (ana, ("report-policy", circle, "--fold-after", "101"), "0 (never) to 100"),
        (ana, ("dismiss", circle, "abcdef"), "unknown report"),
        (ana, ("unmute", circle, "Ben"), "not muted"),
        (ana, ("warn", circle, "Ana", "--reason", "x"), "yourself"),
        (ben, ("reach-out", circle, "--to", "Ben"), "other than yourself"),
        (ana, ("region", "Narnia"), "two-letter country code"),
        (ana, ("guidelines", circle, "--accept"), "no guidelines"),
    ]:
        error = assert_one_line_error(cli.run(*args))
        assert words in error, (args, error)
