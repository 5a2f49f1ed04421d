"""Decisions by the circle: reading polls and counting their votes, the same on every peer.

A poll is an item of the `polls` collection (schema 2, domain/schema.py), made in
one change by its author; ownership.py refuses any later write into it except
the two member-keyed maps inside:

- `votes`: "M:choice" (an option's index) and "M:at" (when M's device voted),
  written only by M's own devices. One vote per member, whatever their number
  of devices: a later vote overwrites the earlier one, and two devices voting
  at once leave an Automerge conflict whose winner every peer picks alike.
- `closes`: "M:at" and "M:heads", written by M. An entry counts when M is the
  poll's author or a moderator or organizer. It closes the poll with the votes
  exactly as they stood at the heads M's device held, so a vote made after
  seeing the close (whatever time it claims) is not counted. Of several closes,
  the earliest (then lowest member id) counts.

Every value counts only if the member it names wrote it (views.Roster, which
also drops a removed member's ops after their removal). A poll with a deadline
closes by itself when the reader's clock passes it: a vote stamped at or after
the deadline is not counted. That stamp is the voter's own (see threat-model.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

import automerge.core as am

from circle.domain import schema
from circle.domain.document import ROOT, CircleDocument, to_millis
from circle.domain.models import Poll, PollResult, Vote
from circle.domain.untrusted import shown
from circle.domain.views import Roster, _Reader

COLLECTION = "polls"
MIN_OPTIONS, MAX_OPTIONS = 2, 10
MAX_QUESTION_CHARS = 200
MAX_OPTION_CHARS = 80
_MAX_HEADS = 64  # a device holds a handful of heads; more is a forged close
_HEX_HEAD = 64


def read_polls(document: CircleDocument, roster: Roster, may_close: frozenset[str]) -> list[Poll]:
    """Every verifiable poll, oldest first. `may_close`: members whose close counts
    on any poll (moderators and organizers); a poll's author may always close it."""
    reader = _Reader(document)
    out = []
    for key in document.doc.keys(ROOT):
        if schema.item_collection(key) != COLLECTION:
            continue
        obj = reader.obj(ROOT, key)
        poll = _poll(document, roster, key.partition("/")[2], obj, may_close) if obj is not None else None
        if poll is not None:
            out.append(poll)
    return sorted(out, key=lambda p: (p.created_at, p.id))


def _poll(document: CircleDocument, roster: Roster, poll_id: str, obj: bytes,
          may_close: frozenset[str]) -> Poll | None:
    reader = _Reader(document)
    author = roster.member_of_op(obj)
    if author is None:
        return None
    own = roster.writes_as(author)
    question = reader.scalar(obj, "question", own, str)
    created = reader.moment(obj, "created_at", own)
    listed = reader.obj(obj, "options")
    if not question or created is None or listed is None or not _maps(reader, obj):
        return None
    options = tuple(
        value[1] for value, op_id in document.doc.values(listed)
        if not isinstance(value, am.ObjType) and own(op_id) and isinstance(value[1], str)
    )
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        return None
    guidelines = reader.scalar(obj, "guidelines", own, int)
    close = _close(reader, roster, obj, may_close | {author})
    closed_by, closed_at, heads = close if close else (None, None, None)
    return Poll(
        id=poll_id,
        author_id=author,
        question=question,
        options=options,
        created_at=created,
        closes_at=reader.moment(obj, "closes_at", own),
        post_id=reader.scalar(obj, "post", own, str),
        guidelines_version=guidelines if guidelines is not None and guidelines > 0 else None,
        votes=_votes(_Reader(document, heads), roster, obj, len(options)),
        closed_by=closed_by,
        closed_at=closed_at,
    )


def _maps(reader: _Reader, poll: bytes) -> bool:
    """Whether the poll carries its votes and closes maps (a poll made without them
    could take no vote: it is not shown at all)."""
    for key in ("votes", "closes"):
        found = reader.obj(poll, key)
        if found is None or reader.doc.object_type(found) != am.ObjType.Map:
            return False
    return True


def _member_keys(reader: _Reader, obj: bytes) -> set[str]:
    return {key.partition(":")[0] for key in reader.doc.keys(obj, reader.heads) if ":" in key}


def _votes(reader: _Reader, roster: Roster, poll: bytes, n_options: int) -> dict[str, Vote]:
    votes = reader.obj(poll, "votes")
    if votes is None:
        return {}
    out = {}
    for member in sorted(_member_keys(reader, votes)):
        own = roster.writes_as(member)
        choice = reader.scalar(votes, f"{member}:choice", own, int)
        at = reader.moment(votes, f"{member}:at", own)
        if choice is not None and at is not None and 0 <= choice < n_options:
            out[member] = Vote(choice, at)
    return out


def _close(reader: _Reader, roster: Roster, poll: bytes,
           may_close: frozenset[str]) -> tuple[str, datetime, list[bytes]] | None:
    closes = reader.obj(poll, "closes")
    if closes is None:
        return None
    found = []
    for member in _member_keys(reader, closes) & may_close:
        own = roster.writes_as(member)
        at = reader.moment(closes, f"{member}:at", own)
        heads = _heads(reader, reader.scalar(closes, f"{member}:heads", own, str))
        if at is not None and heads is not None:
            found.append((at, member, heads))
    if not found:
        return None
    at, member, heads = min(found, key=lambda entry: (entry[0], entry[1]))
    return member, at, heads


def _heads(reader: _Reader, text: str | None) -> list[bytes] | None:
    """The heads a close names, if well formed and all held here (else the close
    waits: a peer that lacks them cannot count the votes they name)."""
    if not text:
        return None
    parts = text.split(",")
    if len(parts) > _MAX_HEADS or any(len(p) != _HEX_HEAD for p in parts):
        return None
    try:
        heads = [bytes.fromhex(p) for p in parts]
    except ValueError:
        return None
    # Every document's first change makes the `circle` map: absent at heads means unknown heads.
    if reader.doc.get(ROOT, "circle", heads) is None:
        return None
    return heads


def result(poll: Poll, now: datetime, me: str | None,
           mutes: Mapping[str, tuple[int, int]] | None = None) -> PollResult:
    """What `poll` shows at `now`: open or closed, and the votes that count.

    A vote counts if it was stamped before the deadline (when there is one) and
    outside a mute of its voter, as a post written while muted is hidden."""
    deadline = poll.closes_at
    ended = [poll.closed_at] if poll.closed_at is not None else []
    if deadline is not None and deadline <= now:
        ended.append(deadline)
    mutes = mutes or {}
    counts = [0] * len(poll.options)
    mine = None
    for member, vote in poll.votes.items():
        stamp = to_millis(vote.at)
        since, until = mutes.get(member, (0, 0))
        if (deadline is not None and vote.at >= deadline) or since <= stamp < until:
            continue
        counts[vote.choice] += 1
        if member == me:
            mine = vote.choice
    return PollResult(poll, open=not ended, counts=tuple(counts), my_choice=mine,
                      ended_at=min(ended) if ended else None)


BAR_CELLS = 10


def lines(result: PollResult, names: Mapping[str, str], stamp: Callable[[datetime], str]) -> list[str]:
    """A poll as plain text lines, the same in the feed, the app and `circle polls`:
    the question, each option with a text bar and its count, where it stands, and
    this reader's vote. Member text is cleaned here (untrusted.shown); callers
    still render the lines as text, never as markup."""
    poll = result.poll
    about = f" (about the guidelines, version {poll.guidelines_version})" if poll.guidelines_version else ""
    out = [f"Poll: {shown(poll.question, limit=MAX_QUESTION_CHARS)}{about}"]
    width = max(len(shown(o, limit=MAX_OPTION_CHARS)) for o in poll.options)
    top = max(result.counts) or 1
    for number, (option, count) in enumerate(zip(poll.options, result.counts, strict=True), 1):
        filled = round(BAR_CELLS * count / top)
        bar = "█" * filled + "·" * (BAR_CELLS - filled)
        out.append(f"  {number}. {shown(option, limit=MAX_OPTION_CHARS):<{width}}  {bar} {count}")
    votes = f"{result.total} vote{'s' * (result.total != 1)}"
    if result.open:
        state = f"open, closes {stamp(poll.closes_at)}" if poll.closes_at else "open"
    else:
        state = f"closed {stamp(result.ended_at)}" if result.ended_at else "closed"
    asker = shown(names.get(poll.author_id, poll.author_id[:8]), limit=80)
    mine = "you have not voted" if result.my_choice is None else \
        f"you voted {result.my_choice + 1} ({shown(poll.options[result.my_choice], limit=MAX_OPTION_CHARS)})"
    out.append(f"  {votes} · {state} · asked by {asker} · {mine}")
    return out
