"""The CLI contract for a circle's content: what each local command does and prints."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.helpers.cli import PASSPHRASE, Cli
from tests.helpers.live import member_id

from circle.domain import views
from circle.service import Service

HEX16 = re.compile(r"[0-9a-f]{16}")
HEX32 = re.compile(r"[0-9a-f]{32}")

POST_KEYS = {"id", "author_id", "author", "body", "created_at", "reply_to", "content_warning",
             "reactions", "hidden", "deleted", "edited_at"}
CHECKIN_KEYS = {"id", "author_id", "author", "mood", "note", "tags", "created_at", "visibility"}
EVENT_KEYS = {"id", "title", "when", "repeat", "where", "rsvps"}
MEMBER_KEYS = {"id", "name", "role", "status"}


def printed_id(cli: Cli, *args: str, **kw) -> str:
    """Run a command that prints one id and nothing else; return the id."""
    out = cli.ok(*args, **kw).stdout
    assert out.endswith("\n") and out.count("\n") == 1, repr(out)
    return out.strip()


def by_id(records: list[dict]) -> dict[str, dict]:
    return {r["id"]: r for r in records}


def test_new_prints_only_the_id_and_circles_lists_it(profile_cli: Cli):
    out = profile_cli.ok("new", "Walkers", "--purpose", "weekly walks").stdout
    assert HEX32.fullmatch(out.rstrip("\n")) and out.count("\n") == 1, repr(out)
    walkers = out.strip()
    runners = printed_id(profile_cli, "new", "Runners")

    listed = profile_cli.ok("circles", "--json").json()
    assert [(c["id"], c["name"], c["members"], c["posts"]) for c in listed] == [
        (walkers, "Walkers", 1, 0), (runners, "Runners", 1, 0)]
    plain = profile_cli.ok("circles").stdout
    assert "Walkers" in plain and "Runners" in plain and walkers[:8] in plain


def test_circle_is_resolved_by_id_unique_prefix_or_exact_name(profile_cli: Cli):
    walkers = printed_id(profile_cli, "new", "Walkers")
    runners = printed_id(profile_cli, "new", "Runners")
    # `guidelines --json` echoes the circle it resolved to, and writes nothing.
    for ref, expected in ((walkers, walkers), (walkers[:6], walkers), ("Walkers", walkers),
                          ("Runners", runners)):
        assert profile_cli.ok("--json", "guidelines", ref).json()["circle_id"] == expected, ref

    printed_id(profile_cli, "new", "Walkers")
    twice = profile_cli.run("guidelines", "Walkers")
    assert twice.returncode != 0
    assert twice.stderr.startswith("circle: ") and twice.stderr.count("\n") == 1
    assert "matches 2" in twice.stderr
    # The id still reaches the first one when its name no longer does.
    assert profile_cli.ok("--json", "guidelines", walkers).json()["circle_id"] == walkers


def test_post_reply_content_warning_and_stdin_show_in_feed_json(profile_cli: Cli, circle_id: str):
    first = printed_id(profile_cli, "post", circle_id, "Went round the lake today.")
    assert HEX16.fullmatch(first)
    piped = printed_id(profile_cli, "post", "Walkers", "-", input="from stdin\nsecond line\n")
    reply = printed_id(profile_cli, "post", circle_id, "So glad you went.",
                       "--reply-to", first[:6], "--cw", "grief")

    feed = profile_cli.ok("feed", circle_id, "--json").json()
    assert [p["id"] for p in feed] == [first, piped, reply]
    me = member_id(profile_cli)
    for post in feed:
        assert POST_KEYS <= set(post), set(post)
        assert (post["author_id"], post["author"], post["hidden"]) == (me, "Ana", False)
        assert post["reactions"] == {}
    posts = by_id(feed)
    assert posts[first]["body"] == "Went round the lake today."
    assert posts[first]["reply_to"] is None and posts[first]["content_warning"] is None
    assert posts[piped]["body"] == "from stdin\nsecond line"
    assert posts[reply]["reply_to"] == first
    assert posts[reply]["content_warning"] == "grief"
    assert posts[reply]["body"] == "So glad you went."

    plain = profile_cli.ok("feed", circle_id).stdout
    assert "Went round the lake today." in plain
    assert "CW: grief" in plain and "So glad you went." not in plain


def test_edit_delete_and_reactions(profile_cli: Cli, circle_id: str):
    kept = printed_id(profile_cli, "post", circle_id, "first draft")
    gone = printed_id(profile_cli, "post", circle_id, "regrettable")
    assert printed_id(profile_cli, "edit", circle_id, kept[:5], "second draft") == kept
    printed_id(profile_cli, "react", circle_id, kept, "heart")
    printed_id(profile_cli, "react", circle_id, kept, "hug")
    printed_id(profile_cli, "react", circle_id, kept, "heart", "--remove")
    assert printed_id(profile_cli, "delete", circle_id, gone) == gone

    posts = by_id(profile_cli.ok("feed", circle_id, "--json").json())
    me = member_id(profile_cli)
    assert posts[kept]["body"] == "second draft"
    assert posts[kept]["edited_at"] is not None and posts[kept]["deleted"] is False
    assert posts[kept]["reactions"] == {"hug": [me]}
    assert posts[gone]["deleted"] is True and posts[gone]["body"] == ""


def test_checkins_and_private_checkins_stay_out_of_the_shared_document(profile_cli: Cli, circle_id: str):
    shared = printed_id(profile_cli, "checkin", circle_id, "--mood", "4", "--note", "slept well",
                        "--tag", "sleep", "--tag", "walk")
    private = printed_id(profile_cli, "checkin", circle_id, "--mood", "2", "--note", "only for me",
                         "--private")

    listed = by_id(profile_cli.ok("checkins", circle_id, "--json").json())
    assert set(listed) == {shared, private}
    for record in listed.values():
        assert CHECKIN_KEYS <= set(record), set(record)
        assert record["author"] == "Ana"
    assert (listed[shared]["mood"], listed[shared]["note"], listed[shared]["tags"],
            listed[shared]["visibility"]) == (4, "slept well", ["sleep", "walk"], "circle")
    assert (listed[private]["mood"], listed[private]["note"], listed[private]["tags"],
            listed[private]["visibility"]) == (2, "only for me", [], "me")
    assert "(only me)" in profile_cli.ok("checkins", circle_id).stdout

    service = Service.unlock(profile_cli.home, PASSPHRASE)
    try:
        circle = service.open_circle(circle_id)
        in_document = {c.id for c in views.read_checkins(circle.document, circle.roster())}
        assert in_document == {shared}
        assert {c.id for c in service.checkins(circle_id)} == {shared, private}
    finally:
        service.close()


def test_events_and_rsvps_by_title_or_prefix(profile_cli: Cli, circle_id: str):
    walk = printed_id(profile_cli, "event", circle_id, "Lake walk", "--when", "2030-05-04T10:00+00:00",
                      "--repeat", "weekly", "--where", "North gate")
    club = printed_id(profile_cli, "event", circle_id, "Book club", "--when", "2030-06-01T19:00+02:00",
                      "--repeat", "monthly")
    assert printed_id(profile_cli, "rsvp", circle_id, "Lake walk", "yes") == walk
    assert printed_id(profile_cli, "rsvp", circle_id, club[:6], "maybe") == club

    events = by_id(profile_cli.ok("events", circle_id, "--json").json())
    me = member_id(profile_cli)
    for record in events.values():
        assert EVENT_KEYS <= set(record), set(record)
    assert (events[walk]["title"], events[walk]["when"], events[walk]["repeat"],
            events[walk]["where"], events[walk]["rsvps"]) == (
        "Lake walk", "2030-05-04T10:00:00+00:00", "weekly", "North gate", {me: "yes"})
    assert (events[club]["title"], events[club]["when"], events[club]["repeat"],
            events[club]["where"], events[club]["rsvps"]) == (
        "Book club", "2030-06-01T17:00:00+00:00", "monthly", "", {me: "maybe"})


def test_members_resources_and_guidelines(profile_cli: Cli, circle_id: str, tmp_path: Path):
    members = profile_cli.ok("members", circle_id, "--json").json()
    assert len(members) == 1 and MEMBER_KEYS <= set(members[0])
    assert (members[0]["id"], members[0]["name"], members[0]["role"], members[0]["status"]) == (
        member_id(profile_cli), "Ana", "organizer", "active")

    gb = profile_cli.env(CIRCLE_REGION="GB")
    assert "Samaritans" in profile_cli.ok("resources", circle_id, env=gb).stdout
    added = profile_cli.ok("resources", circle_id, "--add", "Walk buddy line", "--contact",
                           "07700 900123", "--json", env=gb).json()
    own = [r for r in added if r["source"] == "circle"]
    assert [(r["name"], r["contact"]) for r in own] == [("Walk buddy line", "07700 900123")]
    assert any(r["name"] == "Samaritans" and r["source"] == "builtin" for r in added)

    rules = tmp_path / "guidelines.txt"
    rules.write_text("1. What is shared here stays here.\n2. Listen first.\n", "utf-8")
    profile_cli.ok("guidelines", circle_id, "--set", str(rules))
    shown = profile_cli.ok("guidelines", circle_id).stdout
    assert "What is shared here stays here." in shown and "2. Listen first." in shown


def test_export_json_and_markdown_hold_the_whole_circle(profile_cli: Cli, circle_id: str, tmp_path: Path):
    first = printed_id(profile_cli, "post", circle_id, "Anyone up for Tuesday?")
    printed_id(profile_cli, "post", circle_id, "Count me in.", "--reply-to", first, "--cw", "logistics")
    printed_id(profile_cli, "checkin", circle_id, "--mood", "3")
    private = printed_id(profile_cli, "checkin", circle_id, "--mood", "1", "--private")
    printed_id(profile_cli, "event", circle_id, "Lake walk", "--when", "2030-05-04T10:00+00:00")

    data = json.loads(profile_cli.ok("export", circle_id, "--format", "json").stdout)
    assert data["circle"]["name"] == "Walkers"
    assert [p["body"] for p in data["posts"]] == ["Anyone up for Tuesday?", "Count me in."]
    assert data["posts"][1]["reply_to"] == first
    assert {c["mood"] for c in data["checkins"]} == {3, 1}
    assert any(c["id"] == private and c["visibility"] == "me" for c in data["checkins"])
    assert [e["title"] for e in data["events"]] == ["Lake walk"]
    assert [m["name"] for m in data["members"]] == ["Ana"]

    markdown = profile_cli.ok("export", circle_id, "--format", "md").stdout
    lines = markdown.splitlines()
    assert lines[0] == "# Walkers"
    assert any("Anyone up for Tuesday?" in line for line in lines)
    # the reply, quoted under its parent (Markdown specials escaped)
    assert any(line.startswith(">") and "Count me in\\." in line for line in lines)
    assert any("CW: logistics" in line for line in lines)

    target = tmp_path / "walkers.json"
    written = profile_cli.ok("export", circle_id, "--format", "json", "--output", str(target))
    assert written.stdout == ""
    from_file = json.loads(target.read_text("utf-8"))
    assert from_file["posts"] == data["posts"] and from_file["checkins"] == data["checkins"]


def test_json_flag_works_before_and_after_the_subcommand(profile_cli: Cli, circle_id: str):
    printed_id(profile_cli, "post", circle_id, "hello")
    for command in (("feed", circle_id), ("members", circle_id), ("circles",)):
        before = profile_cli.ok("--json", *command).json()
        after = profile_cli.ok(*command, "--json").json()
        assert before == after and before, command
