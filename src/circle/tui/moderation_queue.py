"""The moderation queue: open reports grouped per post, in words a moderator can act on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from circle.domain.models import Post, Report
from circle.domain.roles import Evidence, ReportStatus

OPEN = (ReportStatus.OPEN, ReportStatus.COLLAPSED)

EVIDENCE = {
    Evidence.VERIFIED: "verified: the reported text matches this device's signed copy",
    Evidence.PENDING: "pending: the reported version has not reached this device yet",
    Evidence.MISMATCH: "MISMATCH: the report quotes text that differs from the signed post",
}


@dataclass(frozen=True)
class QueueEntry:
    """One reported post and every open report on it, oldest first."""

    post_id: str
    author_id: str | None
    text: str | None  # the reported text from this device's verified copy, else the post as it is now
    reports: tuple[Report, ...]

    @property
    def folded(self) -> bool:
        return any(r.status == ReportStatus.COLLAPSED for r in self.reports)

    @property
    def evidence(self) -> Evidence:
        kinds = {r.evidence for r in self.reports}
        return next(kind for kind in (Evidence.MISMATCH, Evidence.PENDING, Evidence.VERIFIED) if kind in kinds)


def build_queue(reports: Sequence[Report], posts: Mapping[str, Post]) -> list[QueueEntry]:
    """Posts with open reports, the longest-waiting first."""
    grouped: dict[str, list[Report]] = {}
    for report in reports:
        if report.status in OPEN:
            grouped.setdefault(report.post_id, []).append(report)
    out = []
    for post_id, group in grouped.items():
        post = posts.get(post_id)
        verified = next((r for r in group if r.evidence == Evidence.VERIFIED), None)
        text = verified.reported_body if verified else (post.body if post else None)
        author = next((r.author_id for r in group if r.author_id), None) or (post.author_id if post else None)
        out.append(QueueEntry(post_id, author, text, tuple(group)))
    return sorted(out, key=lambda e: e.reports[0].created_at)


def excerpt(text: str | None, width: int = 60) -> str:
    if text is None:
        return "(not on this device yet)"
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def status_words(entry: QueueEntry, *, long: bool = False) -> str:
    if entry.folded:
        return "folded for members until a moderator acts" if long else "folded"
    return "open"
