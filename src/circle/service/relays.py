"""A circle's relays: which ones (in the governance log), the key members show
them, registering a circle at one, and syncing each circle through its relays.

A relay keeps one mailbox per circle (sync/relay_client.py); the reconciliation
over it is the same `MailboxSync` as for a shared folder. Access is a key
derived from the circle's epoch key (crypto/relay_access.py), so it follows the
circle's key rotations. The organizer's device that registered the circle at a
relay is its admin there: when the circle's key moves on, that device registers
the new access key at its next sync, and from then on a removed member (who
holds only older epoch keys) may still fetch ciphertext but store nothing.

Each sync also answers the join requests newcomers left at the relay
(service/relay_joins.py); an admission made there is stored at the relay in
the same visit, so the next member to come online knows of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from circle.crypto.identity import DeviceIdentity
from circle.crypto.relay_access import public_bytes, relay_access_key
from circle.domain.roles import Role
from circle.errors import InvalidInput, NotAllowed
from circle.service.mailbox_sync import MailboxReport
from circle.service.membership import Membership
from circle.service.relay_joins import RelayJoins
from circle.service.repository import CircleRepository
from circle.sync.address import peer_address
from circle.sync.mailbox import Mailbox, MailboxError
from circle.sync.relay_client import RelayMailbox, register

ADMIN = "relay-admin"  # private records: relays this device registered a circle at, and for which epoch
REFUSED = "relay refused"

RunMailbox = Callable[[Mailbox, list[str]], MailboxReport]


@dataclass(frozen=True)
class RelayInfo:
    address: str
    key: str  # the relay's Noise static key (hex), as the organizer's device met it


@dataclass(frozen=True)
class RelayResult:
    circle_id: str
    address: str
    status: str  # "synced", or one line saying why not
    report: MailboxReport | None = None


def _connection_key() -> X25519PrivateKey:
    """A fresh Noise key for each connection to a relay: the relay authenticates
    nobody by it (access is the circle's access key), and the device's own key
    would let it link one device across every circle it relays."""
    return X25519PrivateKey.generate()


def _relay_key(mailbox: RelayMailbox) -> str:
    # mailbox_id is "relay:<static key hex>:<circle id>"
    return mailbox.mailbox_id().value.split(":")[1]


class Relays:
    def __init__(self, repo: CircleRepository, membership: Membership, identity: DeviceIdentity,
                 run_mailbox: RunMailbox, joins: RelayJoins) -> None:
        self.repo, self.membership, self.identity = repo, membership, identity
        self.run_mailbox, self.joins = run_mailbox, joins

    # -- which relays --------------------------------------------------------------

    def relays(self, circle_id: str) -> list[RelayInfo]:
        return [RelayInfo(address, key) for address, key in self.repo.open(circle_id).state.relays]

    def add_relay(self, circle_id: str, address: str, *, token: str | None, timeout: float = 30.0) -> RelayInfo:
        """Organizers: register the circle at a relay (a new circle there needs the
        relay's registration token) and list it in the governance log, so every
        member's device syncs through it."""
        address = peer_address(address)
        circle = self.repo.open(circle_id)
        if circle.state.role_of(circle.my_member_id or "") != Role.ORGANIZER:
            raise NotAllowed("only organizers add relays")
        if any(info.address == address for info in self.relays(circle_id)):
            raise InvalidInput(f"{address} is already a relay of this circle")
        epoch, access = self._newest_access(circle_id)
        self._register(circle_id, address, epoch, access, token, timeout)
        with RelayMailbox(address, circle_id, access, static=_connection_key(), timeout=timeout) as mailbox:
            info = RelayInfo(address, _relay_key(mailbox))
        self._set(circle_id, [*self.relays(circle_id), info])
        return info

    def remove_relay(self, circle_id: str, address: str) -> None:
        listed = self.relays(circle_id)
        if not any(info.address == address for info in listed):
            raise InvalidInput(f"{address} is not a relay of this circle")
        self._set(circle_id, [info for info in listed if info.address != address])

    def _set(self, circle_id: str, relays: list[RelayInfo]) -> None:
        self.membership.act(circle_id, "set_relays",
                            {"relays": [{"address": r.address, "key": r.key} for r in relays]})

    # -- access ----------------------------------------------------------------------

    def access_keys(self, circle_id: str) -> list[tuple[str, Ed25519PrivateKey]]:
        """(epoch id, access key) for each epoch this device holds, newest first."""
        circle = self.repo.open(circle_id)
        return [(epoch, relay_access_key(circle.keys[epoch], circle_id, epoch))
                for epoch in reversed(circle.state.epoch_order) if epoch in circle.keys]

    def _newest_access(self, circle_id: str) -> tuple[str, Ed25519PrivateKey]:
        keys = self.access_keys(circle_id)
        if not keys:
            raise NotAllowed("this device holds no key of the circle yet")
        return keys[0]

    def _register(self, circle_id: str, address: str, epoch: str, access: Ed25519PrivateKey,
                  token: str | None, timeout: float) -> None:
        register(address, circle_id, admin_pub=self.identity.public.sign_pub, admin_sign=self.identity.sign,
                 access_pub=public_bytes(access), token=token, static=_connection_key(), timeout=timeout)
        self.repo.put_private_record(circle_id, ADMIN, self.repo.blind_id(address), {"epoch": epoch})

    # -- syncing -----------------------------------------------------------------------

    def relay_addresses(self) -> dict[str, set[str]]:
        """Every relay any circle held here lists -> those circles."""
        out: dict[str, set[str]] = {}
        for circle_id in self.repo.ids():
            for info in self.relays(circle_id):
                out.setdefault(info.address, set()).add(circle_id)
        return out

    def sync_relays(self, circle_ids: Iterable[str] | None = None, *, only: Iterable[str] | None = None,
                    timeout: float = 30.0) -> list[RelayResult]:
        """Sync each circle once with each of its relays (those in `only`, if given);
        one result per pair."""
        wanted = None if only is None else set(only)
        results = []
        for circle_id in self.repo.ids() if circle_ids is None else circle_ids:
            for info in self.relays(circle_id):
                if wanted is None or info.address in wanted:
                    results.append(self._sync_one(circle_id, info, timeout))
        return results

    def _sync_one(self, circle_id: str, info: RelayInfo, timeout: float) -> RelayResult:
        try:
            self._renew_registration(circle_id, info.address, timeout)
            status, report = "synced", None
            # Twice at most: reading may bring a key rotation, after which this
            # device shows the relay the newer key and can store again.
            for _ in range(2):
                status, report, newer = self._session(circle_id, info, timeout)
                if not newer:
                    break
            return RelayResult(circle_id, info.address, status, report)
        except MailboxError as exc:
            return RelayResult(circle_id, info.address, str(exc) or "unreachable")

    def _renew_registration(self, circle_id: str, address: str, timeout: float) -> None:
        """As the device that registered the circle at this relay: register the
        newest access key when the circle's key has moved on since."""
        record = self.repo.private_record(circle_id, ADMIN, self.repo.blind_id(address))
        if record is None or not self.repo.open(circle_id).is_active_member():
            return
        epoch, access = self._newest_access(circle_id)
        if record.get("epoch") != epoch:
            self._register(circle_id, address, epoch, access, None, timeout)

    def _session(self, circle_id: str, info: RelayInfo,
                 timeout: float) -> tuple[str, MailboxReport | None, bool]:
        """One connection with the newest access key the relay takes: (status,
        report, whether a newer key arrived that the relay should be shown)."""
        keys = self.access_keys(circle_id)
        refusals = []
        for _, access in keys:
            try:
                with RelayMailbox(info.address, circle_id, access, static=_connection_key(),
                                  timeout=timeout) as mailbox:
                    if _relay_key(mailbox) != info.key:
                        raise MailboxError(f"{info.address} is not the relay the circle lists (its key differs)")
                    try:
                        report, status = self.run_mailbox(mailbox, [circle_id]), "synced"
                        if self.joins.answer_waiting(mailbox, circle_id):
                            more = self.run_mailbox(mailbox, [circle_id])  # the admissions
                            report = replace(report, written=report.written + more.written,
                                             problems=report.problems + more.problems)
                    except MailboxError as exc:  # e.g. storing refused with a rotated key
                        report, status = None, str(exc)
                newest = self.access_keys(circle_id)[0][0]
                return status, report, newest != keys[0][0]
            except MailboxError as exc:
                if not str(exc).startswith(REFUSED):
                    raise
                refusals.append(str(exc))
        raise MailboxError(refusals[0] if refusals else f"{REFUSED}: this device holds no key of the circle")
