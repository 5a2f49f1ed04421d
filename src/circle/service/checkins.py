"""Mood check-ins: shared with the circle in full, as a band only, or kept here.

Whatever is not shared in full never enters the circle's document: the full
record is a sealed private record on this device (kind `checkin`).
"""

from __future__ import annotations

from datetime import time, tzinfo

from circle.domain import views
from circle.domain.document import from_millis, to_millis
from circle.domain.models import MOODS, SHARES, CheckIn, band_of
from circle.errors import InvalidInput
from circle.service.core import Clock, IdSource, clean_text
from circle.service.preferences import Preferences
from circle.service.repository import CircleRepository

MAX_TAGS = 10
PRIVATE = "checkin"


class CheckIns:
    def __init__(self, repo: CircleRepository, prefs: Preferences, member_id: str, clock: Clock,
                 new_id: IdSource) -> None:
        self.repo, self.prefs, self.member_id, self.clock, self.new_id = repo, prefs, member_id, clock, new_id

    def checkin(self, circle_id: str, mood: int, *, energy: int | None = None, note: str = "",
                tags: tuple[str, ...] = (), share: str = "circle") -> CheckIn:
        """Record a check-in. `share`: "circle" (in full), "band" (the circle sees
        only "doing okay" / "could use support"; the rest stays here) or "me"."""
        if mood not in MOODS:
            raise InvalidInput(f"mood must be 1 to 5, not {mood}")
        if energy is not None and energy not in MOODS:
            raise InvalidInput(f"energy must be 1 to 5, not {energy}")
        if share not in SHARES:
            raise InvalidInput(f"share must be one of {', '.join(SHARES)}, not {share!r}")
        note = clean_text(note, "note", 2000, allow_empty=True)
        tags = tuple(dict.fromkeys(clean_text(t, "tag", 40) for t in tags))
        if len(tags) > MAX_TAGS:
            raise InvalidInput(f"at most {MAX_TAGS} tags")
        checkin = CheckIn(
            id=self.new_id(), author_id=self._me(circle_id), mood=mood,
            created_at=self.clock(), energy=energy, note=note, tags=tags, visibility=share,
            band=band_of(mood) if share == "band" else None,
        )
        if share == "circle":
            self.repo.write(circle_id, lambda d: d.add_checkin(
                checkin.id, mood, checkin.created_at, energy=energy, note=note, tags=tags))
            return checkin
        if share == "band":  # the band goes out first: if that fails, nothing is kept
            band = band_of(mood)
            self.repo.write(circle_id, lambda d: d.add_checkin_band(checkin.id, band, checkin.created_at))
        record = {"mood": mood, "energy": energy, "note": note, "tags": list(tags),
                  "created_at": to_millis(checkin.created_at), "share": share}
        self.repo.put_private_record(circle_id, PRIVATE, checkin.id, record)
        return checkin

    def checkins(self, circle_id: str) -> list[CheckIn]:
        """Everyone's shared check-ins, with this member's own in full (their
        band-only ones included) from the sealed local copies."""
        circle = self.repo.open(circle_id)
        mine = {c.id: c for c in self._private(circle_id)}
        shared = [c for c in views.read_checkins(circle.document, circle.roster()) if c.id not in mine]
        return sorted(shared + list(mine.values()), key=lambda c: (c.created_at, c.id))

    def my_checkins(self, circle_id: str) -> list[CheckIn]:
        """This member's own check-ins, all in full, oldest first: shared ones from
        the circle's document, the rest from the sealed local copies."""
        me = self._me(circle_id)
        return [c for c in self.checkins(circle_id) if c.author_id == me]

    def checkin_reminder_due(self, tz: tzinfo | None = None) -> bool:
        """Whether to offer the daily reminder now: one is set on this device, its
        time of day has passed (in `tz`, default this machine's zone), and no
        check-in was made today in any circle."""
        at = self.prefs.checkin_reminder()
        if at is None:
            return False
        now = self.clock().astimezone(tz)
        if now.time() < time.fromisoformat(at):
            return False
        return not any(c.created_at.astimezone(tz).date() == now.date()
                       for circle_id in self.repo.ids() for c in self.my_checkins(circle_id))

    def _me(self, circle_id: str) -> str:
        return self.repo.open(circle_id).my_member_id or self.member_id

    def _private(self, circle_id: str) -> list[CheckIn]:
        me = self._me(circle_id)
        out = []
        for item_id, record in self.repo.private_records(circle_id, PRIVATE):
            share = record.get("share", "me")
            out.append(CheckIn(
                id=item_id, author_id=me, mood=record["mood"],
                created_at=from_millis(record["created_at"]), energy=record["energy"],
                note=record["note"], tags=tuple(record["tags"]), visibility=share,
                band=band_of(record["mood"]) if share == "band" else None,
            ))
        return out
