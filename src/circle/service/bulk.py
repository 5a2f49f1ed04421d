"""Many writes made durable together: for generating large circles (bench/).

`Service.post` makes every post durable on its own (one fsync each), which is
what a person posting needs and far too slow to build a 100k-item circle. Here
each write is still its own Automerge change by this device's actor, signed and
sealed like any other; only the store transaction (and its fsync) is shared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from circle.domain.document import CircleDocument
from circle.errors import NotAllowed
from circle.service.core import ServiceCore
from circle.service.restore import ensure_may_write


class BulkMixin(ServiceCore):
    def write_many(self, circle_id: str, writes: Iterable[Callable[[CircleDocument], list[bytes]]]) -> list[bytes]:
        """Run each write as its own change, then store them all in one transaction.

        Returns the new changes (raw Automerge change chunks), oldest first."""
        with self._writing(circle_id) as circle:
            if not circle.is_active_member():
                raise NotAllowed("you are no longer a member of this circle")
            ensure_may_write(self, circle)
            changes: list[bytes] = []
            for write in writes:
                changes += write(circle.document)
            if changes:
                self._persist(circle, changes)
        return changes
