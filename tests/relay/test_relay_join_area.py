"""The join area's rules, each attacked: a stranger may only leave a small request
and fetch an answer; a forged request is refused, one for an invite no member
knows is left alone; a flood stops at the per-circle cap with a clear refusal;
waiting runs on the injected clock and a second run resumes the same request;
everything in a join area expires on the relay's injected clock."""

from __future__ import annotations

import asyncio
import json
import secrets
import sqlite3
import threading

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from circle.crypto.invite_code import InviteCode
from circle.crypto.relay_join import REFUSAL, WELCOME, area_of_code, join_area, request_id
from circle.domain.governance.actions import admit_proof_message, canonical
from circle.relay.server import Limits, RelayServer
from circle.relay.store import RelayStore
from circle.sync import relay_wire as w
from circle.sync.mailbox import MailboxError
from circle.sync.node import Node, join_relays
from circle.sync.relay_client import RelayMailbox, _Connection, fetch_join_answer, leave_join_request
from circle.sync.relay_join import StillWaiting
from tests.helpers.in_process import Net
from tests.helpers.live import ManualClock, eventually
from tests.helpers.relay import CircleKeys, Relay


def _key() -> X25519PrivateKey:
    return X25519PrivateKey.generate()


@pytest.fixture
def net(tmp_path, relay: Relay):
    """Ana's circle, registered at the relay; Ben has a profile and no circle."""
    net = Net(tmp_path)
    net.ana, net.ben = net.profile("Ana"), net.profile("Ben")
    net.cid = net.ana.create_circle("Walkers")
    net.ana.add_relay(net.cid, relay.address, token=relay.token)
    yield net
    net.ana.close()
    net.ben.close()


def _rows(relay: Relay) -> list[tuple]:
    db = sqlite3.connect(relay.data / "relay.db")
    try:
        return db.execute("SELECT request_id, answer IS NOT NULL FROM join_requests").fetchall()
    finally:
        db.close()


def _leave(relay: Relay, code: str, request: bytes) -> bytes:
    invite = InviteCode.decode(code)
    area, rid = area_of_code(invite), request_id(invite, request)
    leave_join_request(relay.address, invite.circle_id, area.area_id, rid, area.seal_request(request), static=_key())
    return rid


def _answer(relay: Relay, code: str, rid: bytes) -> tuple[int, bytes]:
    invite = InviteCode.decode(code)
    sealed = fetch_join_answer(relay.address, invite.circle_id, rid, static=_key())
    assert sealed is not None, "no answer yet"
    return area_of_code(invite).open_answer(rid, sealed)


def test_a_stranger_can_neither_list_requests_nor_store_an_answer(net, relay: Relay):
    code = net.ana.invite(net.cid)
    rid = _leave(relay, code, net.ben.join_request(code))
    for message in (w.encode_join_list(), w.encode_join_answer(w.JoinAnswer(rid, b"a forged welcome"))):
        connection = _Connection(relay.address, _key(), 15)
        connection.open()
        try:
            with pytest.raises(MailboxError, match="relay refused: open a circle first"):
                connection.ask(message)
        finally:
            connection.close()
    # Nor with a key of its own: the relay does not open the circle for it.
    stranger = CircleKeys(circle_id=net.cid)
    with pytest.raises(MailboxError, match="relay refused: not allowed"):
        with stranger.mailbox(relay):
            pass
    assert _rows(relay) == [(rid, 0)]
    assert fetch_join_answer(relay.address, net.cid, rid, static=_key()) is None


def test_a_removed_members_old_key_cannot_list_or_answer(net, relay: Relay):
    cy = net.profile("Cy")
    net.join(net.ana, cy)
    _, old_access = cy.relaying.access_keys(net.cid)[0]
    net.ana.remove(net.cid, net.mid(cy), reason="test")
    net.ana.sync_relays()  # registers the new access key
    with RelayMailbox(relay.address, net.cid, old_access, static=_key(), timeout=15) as mailbox:
        with pytest.raises(MailboxError, match="relay refused: this access key was rotated"):
            mailbox.join_requests()
    cy.close()


def test_a_forged_request_is_refused_and_one_for_an_unknown_invite_is_left(net, relay: Relay):
    code = net.ana.invite(net.cid)
    invite = InviteCode.decode(code)
    genuine = json.loads(net.ben.join_request(code))
    # Someone who knows the invite's public key (say, from an old copy of the log)
    # but not its secret: the request seals fine, its proof is their own signature.
    device = genuine["device"]
    forged_proof = Ed25519PrivateKey.generate().sign(admit_proof_message(net.cid, invite.invite_id, device))
    forged = canonical({**genuine, "proof": forged_proof.hex()})
    forged_id = secrets.token_bytes(32)
    area = area_of_code(invite)
    leave_join_request(relay.address, net.cid, area.area_id, forged_id, area.seal_request(forged), static=_key())
    # And a request in an area no invite of the circle has (an invite this device may not know yet).
    other = join_area(secrets.token_bytes(32), net.cid, "00" * 8)
    unknown_id = secrets.token_bytes(32)
    leave_join_request(relay.address, net.cid, other.area_id, unknown_id, other.seal_request(b"{}"), static=_key())
    # Bytes that no member sealed, in the genuine area: answered so they free their slot.
    junk_id = secrets.token_bytes(32)
    leave_join_request(relay.address, net.cid, area.area_id, junk_id, b"\x00" * 60, static=_key())
    members_before = len(net.ana.members(net.cid))
    [result] = net.ana.sync_relays()
    assert result.status == "synced"
    kind, reason = _answer(relay, code, forged_id)
    assert kind == REFUSAL and b"did not prove they hold the invite" in reason
    kind, reason = _answer(relay, code, junk_id)
    assert kind == REFUSAL and reason == b"the join request could not be read"
    assert fetch_join_answer(relay.address, net.cid, unknown_id, static=_key()) is None
    assert len(net.ana.members(net.cid)) == members_before
    assert net.ana.invites(net.cid)[0].used == 0
    # The genuine request is still admitted after all that, once.
    rid = _leave(relay, code, net.ben.join_request(code))
    net.ana.sync_relays()
    kind, welcome = _answer(relay, code, rid)
    assert kind == WELCOME and net.ben.accept_welcome(code, welcome) == net.cid
    net.ana.sync_relays()
    assert net.ana.invites(net.cid)[0].used == 1


def test_a_flood_of_requests_stops_at_the_cap_with_a_clear_refusal(net, relay: Relay):
    code = net.ana.invite(net.cid)
    area = area_of_code(InviteCode.decode(code))
    for _ in range(Limits().max_join_pending):
        leave_join_request(relay.address, net.cid, area.area_id, secrets.token_bytes(32), b"x" * 100, static=_key())
    with pytest.raises(MailboxError, match=r"relay refused: over quota \(join requests\)"):
        leave_join_request(relay.address, net.cid, area.area_id, secrets.token_bytes(32), b"x" * 100, static=_key())
    # A request over 4 KiB is never even sent, and the relay's parser would drop it.
    with pytest.raises(MailboxError, match="too large"):
        leave_join_request(relay.address, net.cid, area.area_id, secrets.token_bytes(32),
                           b"x" * (w.MAX_JOIN_REQUEST_BYTES + 1), static=_key())
    # A member's visit answers the junk (it does not open), which frees the area for a real newcomer.
    net.ana.sync_relays()
    rid = _leave(relay, code, net.ben.join_request(code))
    net.ana.sync_relays()
    assert _answer(relay, code, rid)[0] == WELCOME


def test_a_circle_the_relay_does_not_keep_is_refused_in_one_line(net, relay: Relay):
    code = net.ana.invite(net.cid)
    area = area_of_code(InviteCode.decode(code))
    with pytest.raises(MailboxError, match="relay refused: this relay does not keep that circle"):
        leave_join_request(relay.address, "ab" * 16, area.area_id, secrets.token_bytes(32), b"x", static=_key())


def test_waiting_runs_on_the_injected_clock_and_a_second_run_resumes_the_same_request(net, relay: Relay):
    code = net.ana.invite(net.cid)
    assert join_relays(code) == [relay.address]
    clock = ManualClock()
    waited: list[list[str]] = []

    async def wait_out() -> None:
        node = Node(net.ben, clock=clock)
        task = asyncio.create_task(node.join_through_relays(code, [relay.address], wait=120, waiting=waited.append))
        slept = []
        while not task.done():
            await eventually(lambda: bool(clock.pending()) or task.done(), "the next poll", 30)
            if clock.pending():
                slept.append(clock.pending()[0])
                clock.advance(clock.pending()[0])
        with pytest.raises(StillWaiting, match="no member answered at the relay in time"):
            await task
        assert slept[:5] == [1.0, 2.0, 4.0, 8.0, 16.0] and max(slept) <= 20.0 and sum(slept) == 120
        await node.close()

    asyncio.run(wait_out())
    assert waited == [[relay.address]]
    assert len(_rows(relay)) == 1
    net.ana.sync_relays()  # a member comes online and answers the request left by the first run

    async def resume() -> str:
        node = Node(net.ben, clock=clock)
        try:
            # The answer is there on the first ask: no sleep on the clock (which nobody moves here).
            joining = node.join_through_relays(code, [relay.address], wait=120)
            return (await asyncio.wait_for(joining, 60)).circle_id
        finally:
            await node.close()

    assert asyncio.run(resume()) == net.cid
    assert len(_rows(relay)) == 1  # the same request: the second run queued nothing new
    assert net.ben.circles()[0].id == net.cid


# -- expiry on the relay's injected clock (an in-process relay) -----------------------


class _Clock:
    def __init__(self) -> None:
        self.time = 1_800_000_000.0

    def now(self) -> float:
        return self.time

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)


@pytest.fixture
def local_relay(tmp_path):
    """A RelayServer on its own loop in a thread, with a clock the test moves."""
    store, clock = RelayStore(tmp_path / "relay.db"), _Clock()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = RelayServer(store, _key(), "tok", clock=clock)
    host, port = asyncio.run_coroutine_threadsafe(server.start("127.0.0.1", 0), loop).result(10)
    yield f"{host}:{port}", clock, store
    asyncio.run_coroutine_threadsafe(server.close(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    store.close()


def test_requests_and_answers_expire_on_the_relays_clock_and_give_back_their_bytes(local_relay):
    address, clock, store = local_relay
    keys = CircleKeys()
    relay = Relay(data=None, logs=None)  # type: ignore[arg-type]  # only the address is used
    relay.address, relay.token = address, "tok"
    keys.register(relay)
    area, rid, late = secrets.token_bytes(32), secrets.token_bytes(32), secrets.token_bytes(32)
    leave_join_request(address, keys.circle_id, area, rid, b"sealed request", static=_key())
    with keys.mailbox(relay) as mailbox:
        [pending] = mailbox.join_requests()
        assert (pending.request_id, pending.area_id, pending.sealed) == (rid, area, b"sealed request")
        mailbox.answer_join(rid, b"A" * 1000)
        with pytest.raises(MailboxError, match="has an answer already"):
            mailbox.answer_join(rid, b"B" * 10)
        assert mailbox.join_requests() == []  # answered ones are no longer listed
    assert store.totals().bytes == 1000  # the answer counts against the circle's quota
    assert fetch_join_answer(address, keys.circle_id, rid, static=_key()) == b"A" * 1000
    clock.time += Limits().join_expiry - 60
    leave_join_request(address, keys.circle_id, area, late, b"a later request", static=_key())
    assert fetch_join_answer(address, keys.circle_id, rid, static=_key()) == b"A" * 1000  # not yet
    clock.time += 61
    with pytest.raises(MailboxError, match="no such join request"):
        fetch_join_answer(address, keys.circle_id, rid, static=_key())
    assert store.totals().bytes == 0
    assert fetch_join_answer(address, keys.circle_id, late, static=_key()) is None  # its own 14 days
    with keys.mailbox(relay) as mailbox:
        with pytest.raises(MailboxError, match="no such join request"):
            mailbox.answer_join(rid, b"too late")
        assert [p.request_id for p in mailbox.join_requests()] == [late]
