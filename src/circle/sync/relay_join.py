"""Joining through a relay while no member is online: the newcomer's side.

The join request is left, sealed, in the invite's join area at each relay the
code names (crypto/relay_join.py); then the relays are asked for the answer
with backoff on the injected clock until a member has left one or the wait is
over. The request stays at the relay (until it expires there), so running the
same `circle join` again picks up where this one stopped. Every connection uses
a fresh Noise key: the relay never sees this device's key.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from circle.crypto.aead import SealError
from circle.crypto.invite_code import InviteCode
from circle.crypto.relay_join import REFUSAL, area_of_code, request_id
from circle.domain.untrusted import shown
from circle.sync.clock import Clock
from circle.sync.host import SyncHost
from circle.sync.mailbox import MailboxError
from circle.sync.relay_client import fetch_join_answer, leave_join_request
from circle.sync.relay_wire import NO_SUCH_JOIN_REQUEST
from circle.sync.tcp import SyncError

log = logging.getLogger("circle.sync")

FIRST_POLL = 1.0  # seconds before asking a relay for the answer the first time
MOST_POLL = 20.0  # the backoff stops growing here
RELAY_TIMEOUT = 15.0


class RelayJoinFailed(SyncError):
    """No relay the code names took the join request; the message names each failure."""


class JoinRefused(SyncError):
    """A member answered the request with a refusal; the message is their reason."""


class StillWaiting(SyncError):
    """The wait ran out before a member answered; the request is still at the relay."""


@dataclass(frozen=True)
class RelayJoined:
    circle_id: str
    address: str  # the relay the welcome came through


async def _blocking(call, *args, **kwargs):
    # relay_client runs its own loop in a thread; waiting here keeps this loop (and Ctrl-C) free
    return await asyncio.to_thread(call, *args, static=X25519PrivateKey.generate(), timeout=RELAY_TIMEOUT, **kwargs)


async def join_through_relays(host: SyncHost, code: str, relays: list[str], *, clock: Clock, wait: float,
                              waiting: Callable[[list[str]], None] = lambda relays: None) -> RelayJoined:
    """Leave the request for `code` at `relays`, call `waiting(those that took it)`,
    then wait up to `wait` seconds of `clock` for a member's answer and store the
    circle it carries. RelayJoinFailed, JoinRefused or StillWaiting (all one line)
    if not; the host's CircleError if the code or the welcome is refused."""
    invite = InviteCode.decode(code)
    request = host.join_request(code)
    area, rid = area_of_code(invite), request_id(invite, request)
    sealed = area.seal_request(request)

    async def leave(address: str) -> None:
        await _blocking(leave_join_request, address, invite.circle_id, area.area_id, rid, sealed)

    taken, failures = [], []
    for address in relays:
        try:
            await leave(address)
        except MailboxError as exc:
            failures.append(f"{address}: {exc}")
            continue
        taken.append(address)
    if not taken:
        raise RelayJoinFailed("; ".join(failures) or "the invite names no relay")
    waiting(taken)
    started, pause = clock.now(), FIRST_POLL
    while True:
        for address in taken:
            try:
                answer = await _blocking(fetch_join_answer, address, invite.circle_id, rid)
                if answer is None:
                    continue
                kind, payload = area.open_answer(rid, answer)
            except MailboxError as exc:
                if NO_SUCH_JOIN_REQUEST in str(exc):  # it expired there: leave it again
                    await _again(leave, address)
                else:
                    log.info("relay %s: %s (asking again)", address, exc)
                continue
            except SealError:  # not sealed by a member: the relay's doing, ignore it
                log.warning("relay %s gave an answer no member sealed; still waiting", address)
                continue
            if kind == REFUSAL:
                raise JoinRefused("a member refused the join request: "
                                  + shown(payload.decode("utf-8", "replace"), limit=300))
            return RelayJoined(host.accept_welcome(code, payload), address)
        left = wait - (clock.now() - started)
        if left <= 0:
            raise StillWaiting("no member answered at the relay in time; run the same command again "
                               "to keep waiting (the request stays there)")
        await clock.sleep(min(pause, left))
        pause = min(pause * 2, MOST_POLL)


async def _again(leave: Callable, address: str) -> None:
    try:
        await leave(address)
    except MailboxError as exc:
        log.info("relay %s: %s (asking again)", address, exc)
