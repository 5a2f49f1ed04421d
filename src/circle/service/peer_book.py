"""The addresses this device keeps dialling: those it reached members at (the
exchange remembers them as it syncs), plus those the person added by hand, minus
those they told it to forget.

Both lists are this device's own sealed preferences: an address is personal data
and never leaves the device. Forgetting a remembered address holds even after it
is reached again (by a sync typed by hand or by LAN discovery) until it is added
back: the person said no, and a background dialler must not overrule them.
"""

from __future__ import annotations

from circle.errors import InvalidInput, NotFound
from circle.service.exchange import Exchange
from circle.service.preferences import Preferences
from circle.sync.address import peer_address

ADDED, FORGOTTEN = "added-peers", "forgotten-peers"
MAX_ADDED = 50
_DEVICE = ""  # preferences of the whole profile, not of one circle


class PeerBook:
    def __init__(self, prefs: Preferences, exchange: Exchange) -> None:
        self.prefs, self.exchange = prefs, exchange

    def _list(self, name: str) -> list[str]:
        return list(self.prefs.get(_DEVICE, name) or ())

    def added_peers(self) -> list[str]:
        """The addresses added by hand, in the order they were added."""
        return self._list(ADDED)

    def known_addresses(self) -> list[str]:
        """Every address to dial: the ones added by hand first, then those this
        device reached members at (newest first), none forgotten, each once."""
        forgotten = set(self._list(FORGOTTEN))
        every = self.added_peers() + self.exchange.reached_addresses()
        return [a for a in dict.fromkeys(every) if a not in forgotten]

    def add_peer(self, text: str) -> str:
        """Dial `text` (HOST:PORT) from now on; InvalidInput, saying why, if it is not
        an address. Returns the address."""
        address = peer_address(text.strip())
        added = self.added_peers()
        if address not in added:
            if len(added) >= MAX_ADDED:
                raise InvalidInput(f"at most {MAX_ADDED} peers can be added by hand; forget one first")
            self.prefs.put(_DEVICE, ADDED, [*added, address])
        forgotten = self._list(FORGOTTEN)
        if address in forgotten:
            self.prefs.put(_DEVICE, FORGOTTEN, [a for a in forgotten if a != address])
        return address

    def forget_peer(self, address: str) -> None:
        """Stop dialling `address`; NotFound if this device does not dial it."""
        if address not in self.known_addresses():
            raise NotFound(f"this device does not dial {address!r}: `circle peers` lists the ones it does")
        added = self.added_peers()
        if address in added:
            self.prefs.put(_DEVICE, ADDED, [a for a in added if a != address])
        if address in self.exchange.reached_addresses():
            self.prefs.put(_DEVICE, FORGOTTEN, [*self._list(FORGOTTEN), address][-1000:])
