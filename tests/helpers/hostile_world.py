"""A circle in which every field another member controls is hostile text.

Bea is the organizer: she names the circle and writes its purpose, guidelines, resources and
every moderation reason. Cal is a member: name, posts, warnings, reactions, check-in notes and
tags, events, reach-out notes, reports. Ana is a moderator who reads it all (the profile under
test). Each hostile string carries a marker ("NAMEB", "POST1"...) that must show up, so a test
cannot pass by showing nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from circle.domain.models import CrisisResource
from circle.service import Service
from tests.helpers.in_process import join

PASSPHRASE = "correct horse battery staple"
NOW = datetime(2025, 3, 4, 12, 0, tzinfo=timezone.utc)

# Terminal escapes (OSC 52 clipboard write, CSI, 8-bit CSI/OSC, DCS, APC), bidi override and
# isolate, a zero-width space, and Rich/Textual markup that crashes or acts.
ATTACK = ("\x1b]52;c;cHduZWQ=\x07\x1b[2J\x1b[31m\x9b6n\x9d0;own\x9c\x1bP1$q\x1b\\\x1b_a\x1b\\"
          "\u202e\u2066\u200b\x07\x08\r"
          "[/][bold red][link=http://x]L[@click=app.quit]Q")
SHORT = "\x1b]52;c;eA==\x07\x9b1m\u202e[/][b]"  # for fields of 80 characters at most
LONG = "W" * 1500


def hostile(marker: str, *, short: bool = False) -> str:
    return f"{marker}{SHORT if short else ATTACK}{marker}Z"


MARKERS_SEEN_BY_MODERATOR = ("NAMEB", "NAMEC", "CIRCLEN", "PURPOSE", "GUIDE", "RESNAME", "POST1", "CW1",
                             "NOTE1", "TAG1", "EVTITLE", "EVWHERE", "REASON1", "REACH1", "HIDE1", "WARN1")


def build(root: Path) -> dict[str, object]:
    """Three profiles under `root` (ana, bea, cal), synced in process; returns ids."""
    clock = lambda: NOW - timedelta(hours=1)
    ana = Service.create_profile(root / "ana", "Ana", PASSPHRASE, clock=clock)
    bea = Service.create_profile(root / "bea", hostile("NAMEB", short=True), PASSPHRASE, clock=clock)
    cal = Service.create_profile(root / "cal", hostile("NAMEC", short=True), PASSPHRASE, clock=clock)
    cid = bea.create_circle(hostile("CIRCLEN", short=True), hostile("PURPOSE"))
    bea.set_guidelines(cid, hostile("GUIDE") + "\n" + LONG)
    bea.add_resource(cid, CrisisResource(hostile("RESNAME"), hostile("RESCONTACT"), "GB", hostile("RESHOURS")))
    code = bea.invite(cid, uses=2)
    for newcomer in (ana, cal):
        join(sponsor=bea, newcomer=newcomer, code=code)
    devices = {s: s.whoami().device_id for s in (ana, bea, cal)}

    def sync() -> None:  # through the organizer, who knows every device first
        for member in (ana, cal):
            bea.receive_bundle(member.bundle_for(cid, devices[bea]))
        for member in (ana, cal):
            member.receive_bundle(bea.bundle_for(cid, devices[member]))

    sync()
    for s in (ana, cal):
        s.accept_guidelines(cid)
    bea.set_role(cid, ana.whoami().member_id, "moderator")
    sync()
    mine = ana.post(cid, "Ana's own post about the walk")
    sync()
    bad = cal.post(cid, hostile("POST1") + "\n" + LONG, content_warning=hostile("CW1"))
    cal.post(cid, hostile("POST2"), reply_to=mine.id)
    hidden = cal.post(cid, hostile("POST3"))
    sync()
    cal.react(cid, mine.id, "\x1b[31m\u202eK[/]")
    cal.checkin(cid, 2, note=hostile("NOTE1"), tags=(hostile("TAG1", short=True), "[/]"))
    cal.add_event(cid, hostile("EVTITLE"), NOW + timedelta(days=2), where=hostile("EVWHERE"),
                  notes=hostile("EVNOTES") + "\n" + LONG)
    cal.report(cid, mine.id, hostile("REASON1"))
    cal.reach_out(cid, [ana.whoami().member_id], hostile("REACH1"))
    sync()
    bea.hide(cid, hidden.id, hostile("HIDE1"))
    bea.warn(cid, ana.whoami().member_id, hostile("WARN1"))
    bea.mute(cid, cal.whoami().member_id, timedelta(days=1), hostile("MUTE1"))
    sync()
    ids = {"circle": cid, "bad_post": bad.id, "my_post": mine.id, "cal": cal.whoami().member_id}
    for s in (ana, bea, cal):
        s.close()
    return ids
