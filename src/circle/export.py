"""Plain records (for --json), whole-circle exports (json, markdown), and one
member's check-ins for mood trackers (Daylio's CSV) and for a clinician (Markdown).

One shape per kind, shared by `--json` listings and `circle export`.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections import Counter
from datetime import datetime, timedelta, timezone

from circle.domain.document import to_millis
from circle.domain.models import (
    CheckIn,
    CircleInfo,
    CrisisResource,
    Event,
    InboxItem,
    Member,
    ModlogEntry,
    PollResult,
    Post,
    Report,
)
from circle.domain.recurrence import next_occurrence
from circle.domain.roles import InviteStatus, MemberStatus
from circle.domain.threads import thread_order
from circle.domain.times import readable, stamp
from circle.domain.untrusted import shown


def post_record(post: Post, names: dict[str, str]) -> dict:
    return {
        "id": post.id,
        "author_id": post.author_id,
        "author": names.get(post.author_id, ""),
        "body": post.body,
        "created_at": stamp(post.created_at),
        "edited_at": stamp(post.edited_at),
        "reply_to": post.reply_to,
        "content_warning": post.content_warning,
        "reactions": {kind: sorted(who) for kind, who in sorted(post.reactions.items())},
        "deleted": post.deleted,
        "hidden": post.hidden,
        "hidden_reason": post.hidden_reason,
        "collapsed_reason": post.collapsed_reason,
    }


def checkin_record(checkin: CheckIn, names: dict[str, str]) -> dict:
    return {
        "id": checkin.id,
        "author_id": checkin.author_id,
        "author": names.get(checkin.author_id, ""),
        "mood": checkin.mood,
        "energy": checkin.energy,
        "note": checkin.note,
        "tags": list(checkin.tags),
        "created_at": stamp(checkin.created_at),
        "visibility": checkin.visibility,
        "band": checkin.band_text if checkin.visibility == "band" else None,
    }


def report_record(report: Report, names: dict[str, str], *, moderator: bool) -> dict:
    record = {"id": report.id, "post_id": report.post_id, "reason": report.reason, "status": report.status,
              "created_at": stamp(report.created_at)}
    if moderator:
        record.update({
            "reporter_id": report.reporter_id, "reporter": names.get(report.reporter_id, ""),
            "author_id": report.author_id, "author": names.get(report.author_id or "", ""),
            "reported_body": report.reported_body, "evidence": report.evidence,
        })
    return record


def inbox_record(item: InboxItem, names: dict[str, str]) -> dict:
    return {"id": item.id, "kind": item.kind, "sender_id": item.sender_id,
            "sender": names.get(item.sender_id, ""), "created_at": stamp(item.created_at), "text": item.text,
            "also_asked": [names.get(m, m) for m in item.also_asked]}


def modlog_record(entry: ModlogEntry, names: dict[str, str]) -> dict:
    return {"id": entry.id, "kind": entry.kind, "actor_id": entry.actor_id,
            "actor": names.get(entry.actor_id or "", ""), "at": stamp(entry.at), "summary": entry.summary,
            "reason": entry.reason, "target": entry.target, "status": entry.status, "why": entry.why,
            "signature": entry.signature, "parents": list(entry.parents)}


def event_record(event: Event, names: dict[str, str], now: datetime) -> dict:
    return {
        "id": event.id,
        "title": event.title,
        "author_id": event.author_id,
        "author": names.get(event.author_id, ""),
        "when": stamp(event.when),
        "next": stamp(next_occurrence(event.when, event.repeat, now, event.tz)),
        "repeat": event.repeat,
        "tz": event.tz or "UTC",
        "minutes": event.minutes,
        "cancelled": event.cancelled,
        "where": event.where,
        "notes": event.notes,
        "rsvps": dict(sorted(event.rsvps.items())),
    }


def poll_record(result: PollResult, names: dict[str, str]) -> dict:
    """Counts only: who chose what stays with each voter's device (docs/user-guide.md)."""
    poll = result.poll
    return {
        "id": poll.id,
        "question": poll.question,
        "author_id": poll.author_id,
        "author": names.get(poll.author_id, ""),
        "created_at": stamp(poll.created_at),
        "post": poll.post_id,
        "guidelines_version": poll.guidelines_version,
        "options": [{"number": n, "text": text, "votes": count}
                    for n, (text, count) in enumerate(zip(poll.options, result.counts, strict=True), 1)],
        "total": result.total,
        "open": result.open,
        "closes_at": stamp(poll.closes_at),
        "ended_at": stamp(result.ended_at),
        "closed_by": poll.closed_by,
        "my_vote": None if result.my_choice is None else result.my_choice + 1,
    }


def member_record(member: Member) -> dict:
    return {"id": member.id, "name": member.name, "role": member.role, "status": member.status,
            "joined_at": stamp(member.joined_at)}


def peer_record(peer) -> dict:
    return {"device_id": peer.device_id, "member_id": peer.member_id, "name": peer.name,
            "address": peer.address,
            "last_contact": stamp(datetime.fromtimestamp(peer.last_contact / 1000, timezone.utc)),
            "active": peer.active}


def invite_status(invite, now: datetime) -> InviteStatus:
    """One of revoked, closed, used up, expired, open: the first that stops the
    invite working, judged at `now` the way the accepting member judges it."""
    if invite.revoked:
        return InviteStatus.REVOKED
    if invite.closed:
        return InviteStatus.CLOSED
    if invite.used >= invite.uses:
        return InviteStatus.USED_UP
    if invite.expires_at * 1000 < to_millis(now):
        return InviteStatus.EXPIRED
    return InviteStatus.OPEN


def invite_record(invite, now: datetime) -> dict:
    status = invite_status(invite, now)
    return {"id": invite.id, "uses": invite.uses, "used": invite.used,
            "expires_at": stamp(datetime.fromtimestamp(invite.expires_at, timezone.utc)),
            "revoked": invite.revoked, "status": status, "created_by": invite.created_by,
            "readmit": invite.readmit}


def resource_record(resource: CrisisResource, source: str) -> dict:
    return {"name": resource.name, "contact": resource.contact, "region": resource.region,
            "hours": resource.hours, "source": source}


def circle_record(info: CircleInfo) -> dict:
    return {
        "id": info.id,
        "name": info.name,
        "purpose": info.purpose,
        "guidelines": info.guidelines,
        "created_at": stamp(info.created_at),
        "resources": [resource_record(r, "circle") for r in info.resources],
    }


def export_json(info, members, posts, checkins, events, now, polls=()) -> dict:
    names = {m.id: m.name for m in members}
    return {
        "format": "circle-export/1",
        "exported_at": stamp(now),
        "circle": circle_record(info),
        "members": [member_record(m) for m in members],
        "posts": [post_record(p, names) for p in posts],
        "checkins": [checkin_record(c, names) for c in checkins],
        "events": [event_record(e, names, now) for e in events],
        "polls": [poll_record(r, names) for r in polls],
    }


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def md_text(text: str, *, multiline: bool = False) -> str:
    """Member text for Markdown: controls out, HTML escaped (no `<script>` survives a conversion
    to HTML), Markdown specials backslash-escaped (no link, heading or emphasis of theirs)."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(shown(text, multiline=multiline), quote=True))


def md_time(moment: datetime | None, tz=None) -> str:
    return readable(moment, tz) if moment else "?"


def export_markdown(info, members, posts, checkins, events, now, polls=()) -> str:
    names = {m.id: m.name + ("" if m.status == MemberStatus.ACTIVE else f" ({m.status})") for m in members}
    lines = [f"# {md_text(info.name)}", ""]
    if info.purpose:
        lines += [md_text(info.purpose), ""]
    zone = now.astimezone().strftime("%Z, UTC%z")
    lines += [f"Exported {md_time(now)}; times are local ({zone} at export).", ""]
    if info.guidelines:
        lines += ["## Guidelines", ""] + [f"{md_text(line)}  " for line in info.guidelines.splitlines()] + [""]
    lines += ["## Members", ""] + [f"- {md_text(names[m.id])} ({m.role})" for m in members] + [""]
    lines += ["## Posts", ""]
    for post, depth in thread_order(posts):
        quote = "> " * min(depth, 8)
        who = md_text(names.get(post.author_id, post.author_id[:8]))
        lines.append(f"{quote}**{who}**, {md_time(post.created_at)}  ")
        if post.content_warning:
            lines.append(f"{quote}_CW: {md_text(post.content_warning)}_  ")
        if post.deleted:
            body = ["_(deleted)_"]
        elif post.hidden and not post.body:
            body = [f"_(hidden by moderators: {md_text(post.hidden_reason or '')})_"]
        else:
            body = [md_text(line) for line in shown(post.body, multiline=True).splitlines()] or [""]
        lines.extend(f"{quote}{line}  " for line in body)  # two spaces: the line break is kept
        if post.reactions:
            summary = ", ".join(f"{md_text(kind)} ×{len(who)}" for kind, who in sorted(post.reactions.items()))
            lines.append(f"{quote}({summary})")
        lines.append("")  # a blank line closes the quote, so the next post does not run into it
    lines += ["", "## Check-ins", ""]
    for c in checkins:
        extra = f" — {md_text(c.note)}" if c.note else ""
        tags = f" \\[{', '.join(md_text(t) for t in c.tags)}\\]" if c.tags else ""
        who = md_text(names.get(c.author_id, c.author_id[:8]))
        if c.mood is None:
            lines.append(f"- {md_time(c.created_at)} {who}: {md_text(c.band_text)}")
            continue
        private = {"me": " (private)", "band": f" (shared as: {md_text(c.band_text)})"}.get(c.visibility, "")
        lines.append(f"- {md_time(c.created_at)} {who}: mood {c.mood}/5{extra}{tags}{private}")
    lines += ["", "## Events", ""]
    for e in events:
        repeat = f", repeats {e.repeat} ({md_text(e.tz or 'UTC')})" if e.repeat != "none" else ""
        repeat += ", cancelled" if e.cancelled else ""
        where = f" at {md_text(e.where)}" if e.where else ""
        lines.append(f"- **{md_text(e.title)}** {md_time(e.when)}{repeat}{where}")
    if polls:
        lines += ["", "## Polls", ""]
    for r in polls:
        state = "open" if r.open else f"closed {md_time(r.ended_at)}"
        counts = ", ".join(f"{md_text(o)} ×{n}" for o, n in zip(r.poll.options, r.counts, strict=True))
        lines.append(f"- **{md_text(r.poll.question)}** ({state}): {counts}")
    return "\n".join(lines).rstrip() + "\n"


# -- check-ins for mood trackers and for a clinician ---------------------------------------

DAYLIO_HEADER = ("full_date", "date", "weekday", "time", "mood", "activities", "note_title", "note")
DAYLIO_MOODS = {1: "awful", 2: "bad", 3: "meh", 4: "good", 5: "rad"}
# A spreadsheet runs a cell starting with one of these as a formula (`=cmd|' /C calc'!A0`).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def sheet_safe(text: str) -> str:
    """Member text for a spreadsheet cell: a leading `'` makes a would-be formula
    plain text, as spreadsheets themselves write it (OWASP's advice for CSV injection)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_daylio_csv(checkins: list[CheckIn], tz=None) -> str:
    """Check-ins in Daylio's CSV layout, newest first as Daylio writes them, in
    local time (`tz`, default this machine's zone). Band-only records (no mood) are left out."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(DAYLIO_HEADER)
    for c in sorted(checkins, key=lambda c: (c.created_at, c.id), reverse=True):
        if c.mood is None:
            continue
        local = c.created_at.astimezone(tz)
        writer.writerow((
            local.strftime("%Y-%m-%d"), f"{local.strftime('%B')} {local.day}", local.strftime("%A"),
            local.strftime("%H:%M"), DAYLIO_MOODS[c.mood],
            sheet_safe(" | ".join(shown(t) for t in c.tags)), "", sheet_safe(shown(c.note, multiline=True)),
        ))
    return out.getvalue()


def export_checkin_summary(name: str, checkins: list[CheckIn], now: datetime, tz=None) -> str:
    """A printable Markdown summary of one member's check-ins, week by week (weeks
    start on Monday, local time). No streaks and no judgement of gaps: a week
    without check-ins simply has none recorded."""
    rated = sorted((c for c in checkins if c.mood is not None), key=lambda c: (c.created_at, c.id))
    lines = [f"# Mood check-ins: {md_text(name)}", "",
             f"Prepared {md_time(now, tz)} from check-ins recorded in circle. Mood and energy are "
             "self-rated from 1 (very low) to 5 (very good).", ""]
    if not rated:
        return "\n".join(lines + ["No check-ins recorded yet."]) + "\n"
    weeks: dict = {}
    for c in rated:
        day = c.created_at.astimezone(tz).date()
        weeks.setdefault(day - timedelta(days=day.weekday()), []).append(c)
    first, last = min(weeks), max(weeks)
    lines += [f"Covers {first:%d %B %Y} to {rated[-1].created_at.astimezone(tz):%d %B %Y}.", "",
              "## Mood over the weeks", "",
              "| Week of | Check-ins | Mood, average | Mood, range | Energy, average | Often noted |",
              "|---|---|---|---|---|---|"]
    week = first
    while week <= last:
        items = weeks.get(week, [])
        if not items:
            lines.append(f"| {week:%d %b %Y} | none recorded | | | | |")
        else:
            moods = [c.mood for c in items if c.mood is not None]
            energy = [c.energy for c in items if c.energy is not None]
            tags = Counter(t for c in items for t in c.tags).most_common(3)
            lines.append(
                f"| {week:%d %b %Y} | {len(items)} | {sum(moods) / len(moods):.1f} {_bar(sum(moods) / len(moods))} "
                f"| {min(moods)} to {max(moods)} | {f'{sum(energy) / len(energy):.1f}' if energy else ''} "
                f"| {', '.join(md_text(t) for t, _ in tags)} |")
        week += timedelta(days=7)
    notes = [c for c in rated if c.note]
    if notes:
        lines += ["", "## Notes", ""]
        lines += [f"- {md_time(c.created_at, tz)}, mood {c.mood}: "
                  f"{md_text(' '.join(c.note.split()))}" for c in notes]
    return "\n".join(lines) + "\n"


def _bar(average: float) -> str:
    """The weekly average as a short bar a printout keeps (five steps, one per point)."""
    filled = round(average)
    return "▮" * filled + "▯" * (5 - filled)
