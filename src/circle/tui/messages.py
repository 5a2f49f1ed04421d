"""Messages the app's background work sends to its screens.

A burst of the same kind collapses into the newest (`can_replace`), so a fast
sync or a flurry of writes never floods the UI.
"""

from __future__ import annotations

from textual.message import Message

from circle.sync.session import SessionEvent


class StoreChanged(Message):
    """Something new was stored for a circle (own write, a peer's bundle, another process)."""

    def __init__(self, circle_id: str) -> None:
        super().__init__()
        self.circle_id = circle_id

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, StoreChanged) and message.circle_id == self.circle_id


class SyncProgress(Message):
    """A sync session changed state or made progress."""

    def __init__(self, event: SessionEvent) -> None:
        super().__init__()
        self.event = event

    def can_replace(self, message: Message) -> bool:
        # Only progress within one state collapses: a change of state is always seen.
        return (
            isinstance(message, SyncProgress)
            and message.event.peer == self.event.peer
            and message.event.circle_id == self.event.circle_id
            and message.event.state == self.event.state
        )


class SyncProblem(Message):
    """A line from the sync layer's log worth showing in the network panel."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class RelayChanged(Message):
    """One circle's latest sync with one of its relays: "synced" or why not."""

    def __init__(self, circle_id: str, address: str, status: str) -> None:
        super().__init__()
        self.circle_id, self.address, self.status = circle_id, address, status


class ListeningChanged(Message):
    """The sync server started (address) or could not (None, with a reason)."""

    def __init__(self, address: str | None, discovery: str) -> None:
        super().__init__()
        self.address = address
        self.discovery = discovery
