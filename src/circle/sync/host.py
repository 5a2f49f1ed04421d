"""`SyncHost`: everything the sync package asks of the profile it serves.

The sync code never imports the service; it is handed an object with these
methods (in the app, the CLI and the demo that is `circle.service.Service`;
tests/test_sync_host.py checks that it has every one, with a compatible
signature). A method the sync package starts calling on its host belongs here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from circle.sync import messages as m


class ReceivedBundle(Protocol):
    """What the host reports of a bundle it applied (the service's `Received`)."""

    @property
    def circle_id(self) -> str: ...
    @property
    def changes_applied(self) -> int: ...
    @property
    def actions_added(self) -> int: ...
    @property
    def notes(self) -> tuple[str, ...]: ...
    @property
    def sender_vector(self) -> dict[bytes, int]: ...
    @property
    def sender_actions(self) -> frozenset[str]: ...


class RelayOutcome(Protocol):
    """One circle's sync with one of its relays (service/relays.py)."""

    @property
    def circle_id(self) -> str: ...
    @property
    def address(self) -> str: ...
    @property
    def status(self) -> str: ...  # "synced", or one line saying why not


class SyncHost(Protocol):
    # -- the session (sync/session.py) --------------------------------------------
    def shared_circles(self, remote_static: bytes) -> dict[str, str]:
        """The circles shared with the device holding `remote_static`: circle id -> its device id."""

    def sync_state(self, circle_id: str) -> m.State: ...

    def delta_for(self, circle_id: str, device_id: str | None, peer: m.State | None) -> tuple[bytes, int] | None:
        """A bundle of what `peer` lacks, addressed to `device_id`, and its item count; None if nothing."""

    def receive_bundle(self, data: bytes) -> ReceivedBundle:
        """Check and apply a bundle; raises CircleError when it is refused."""

    def subscribe(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Call `listener(circle_id)` after every stored change; returns the unsubscribe."""

    def note_peer(self, circle_id: str, device_id: str, address: str, *, dialled: bool = False) -> None:
        """Remember when and where we synced with a device; `dialled`: we reached it
        at `address`, so it is worth dialling again."""
        ...

    def known_addresses(self) -> list[str]:
        """Addresses to dial again: added by hand, then where this device reached
        members, newest first; none the person told it to forget."""
        ...

    def add_peer(self, text: str) -> str:
        """Dial `text` from now on; returns the address (InvalidInput if it is none)."""
        ...

    def forget_peer(self, address: str) -> None:
        """Dial `address` no more (NotFound if it is not dialled)."""
        ...

    def leave_delivered(self, circle_id: str) -> bool: ...

    def admit_request(self, request: bytes, *, remote_static: bytes | None = None) -> bytes:
        """Redeem a join request; returns the welcome, or raises CircleError."""

    # -- the server (sync/tcp.py) ---------------------------------------------------
    def refresh_all(self) -> list[str]:
        """Fold in what other processes stored; returns the circles that changed."""

    def discovery_tags(self, window: int) -> set[str]: ...

    # -- the node (sync/node.py) ----------------------------------------------------
    def static_key(self) -> X25519PrivateKey:
        """This device's Noise static key (it never leaves the sync package)."""

    def join_request(self, code: str) -> bytes: ...

    def accept_welcome(self, code: str, welcome: bytes) -> str:
        """Store the circle a welcome carries; returns its id."""

    def relay_addresses(self) -> dict[str, set[str]]:
        """Every relay address any circle's log lists -> those circles."""
        ...

    def sync_relays(self, *, only: Iterable[str] | None = None, timeout: float = 30.0) -> Sequence[RelayOutcome]:
        """Sync every circle once with each relay its log lists (those in `only`), blocking."""
        ...
