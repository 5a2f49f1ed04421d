"""Who may use a relay: a real `circle relay` process, RelayMailbox and register as a device uses them."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from circle.sync import relay_wire as w
from circle.sync.framing import SecureStream
from circle.sync.mailbox import MailboxError, UnreadableBundle
from circle.sync.relay_client import RelayMailbox
from tests.helpers.relay import CircleKeys, Relay, raw_public


def test_register_then_put_list_and_get_round_trip(relay: Relay):
    keys = CircleKeys()
    keys.register(relay)
    with keys.mailbox(relay) as box:
        first = box.put(b"sealed one")
        second = box.put(b"sealed two")
        assert box.put(b"sealed one") == first  # already there: nothing written
        assert first == hashlib.sha256(b"sealed one").hexdigest() + ".cbundle"
        assert box.names() == [first, second]
        assert box.read(second) == b"sealed two"
        with pytest.raises(UnreadableBundle, match="not at the relay"):
            box.read(hashlib.sha256(b"never put").hexdigest() + ".cbundle")
        mailbox_id = box.mailbox_id()
        box.clean_up(0)
    assert mailbox_id.value == f"relay:{relay.status()['key']}:{keys.circle_id}" and mailbox_id.problem is None
    # Another device of the circle, another connection: the same bundles.
    with CircleKeys(keys.circle_id, keys.admin, keys.access).mailbox(relay) as other:
        assert other.names() == [first, second]
        assert other.read(first) == b"sealed one"
    assert relay.status()["bundles"] == 2


def test_a_stranger_without_the_token_cannot_register(relay: Relay):
    for token in (None, "not-the-token"):
        with pytest.raises(MailboxError, match="^relay refused: registering a circle needs this relay's registration token$"):
            CircleKeys().register(relay, token=token)
    assert relay.status()["circles"] == 0


def test_unknown_access_keys_and_unknown_circles_get_the_same_refusal(relay: Relay):
    keys = CircleKeys()
    keys.register(relay)
    for attempt in (CircleKeys(keys.circle_id), CircleKeys()):  # wrong key for a known circle; unknown circle
        with pytest.raises(MailboxError, match="^relay refused: not allowed$"):
            attempt.mailbox(relay).__enter__()
    # The admin key is not an access key either.
    with pytest.raises(MailboxError, match="^relay refused: not allowed$"):
        keys.mailbox(relay, access=keys.admin).__enter__()


def test_after_re_registering_the_previous_key_may_read_but_not_write(relay: Relay):
    keys = CircleKeys()
    keys.register(relay)
    with keys.mailbox(relay) as box:
        old_name = box.put(b"before the rotation")
    rotated = Ed25519PrivateKey.generate()
    keys.register(relay, token=None, access=rotated)  # the same admin needs no token
    with keys.mailbox(relay) as old:
        assert old.names() == [old_name]
        assert old.read(old_name) == b"before the rotation"
        with pytest.raises(MailboxError, match="^relay refused: this access key was rotated$"):
            old.put(b"from a removed member")
        assert old.names() == [old_name]
    with keys.mailbox(relay, access=rotated) as new:
        new.put(b"after the rotation")
        assert len(new.names()) == 2
    # One more rotation: the first key is neither current nor previous.
    keys.register(relay, token=None, access=Ed25519PrivateKey.generate())
    with pytest.raises(MailboxError, match="^relay refused: not allowed$"):
        keys.mailbox(relay).__enter__()
    with keys.mailbox(relay, access=rotated) as previous:
        assert len(previous.names()) == 2


def test_a_rotation_takes_effect_on_a_connection_already_open(relay: Relay):
    keys = CircleKeys()
    keys.register(relay)
    with keys.mailbox(relay) as box:
        box.put(b"while current")
        keys.register(relay, token=None, access=Ed25519PrivateKey.generate())
        with pytest.raises(MailboxError, match="this access key was rotated"):
            box.put(b"after the rotation, same connection")


def test_a_different_admin_cannot_take_over_a_circle(relay: Relay):
    keys = CircleKeys()
    keys.register(relay)
    thief_access = Ed25519PrivateKey.generate()
    thief = Ed25519PrivateKey.generate()
    # Without the token the answer is the one an unknown circle gets: no hint it is here.
    with pytest.raises(MailboxError, match="^relay refused: registering a circle needs this relay's registration token$"):
        keys.register(relay, token=None, admin=thief, access=thief_access)
    with pytest.raises(MailboxError, match="^relay refused: this circle is registered with another admin key$"):
        keys.register(relay, admin=thief, access=thief_access)
    with pytest.raises(MailboxError, match="^relay refused: not allowed$"):
        keys.mailbox(relay, access=thief_access).__enter__()
    with keys.mailbox(relay) as box:  # the real key still works
        box.put(b"still ours")


def test_a_register_signed_by_another_key_than_the_admin_key_it_names_is_refused(relay: Relay):
    keys = CircleKeys()
    from circle.sync.relay_client import register

    with pytest.raises(MailboxError, match="^relay refused: not allowed$"):
        register(relay.address, keys.circle_id, admin_pub=raw_public(keys.admin),
                 admin_sign=Ed25519PrivateKey.generate().sign, access_pub=raw_public(keys.access),
                 token=relay.token, static=keys.device, timeout=15)
    assert relay.status()["circles"] == 0


def test_a_proof_of_access_cannot_be_replayed_on_another_connection(relay: Relay):
    keys = CircleKeys()
    keys.register(relay)
    host, port = relay.address.rsplit(":", 1)

    async def connect() -> SecureStream:
        reader, writer = await asyncio.open_connection(host, int(port))
        return await SecureStream.connect(reader, writer, X25519PrivateKey.generate(), initiator=True)

    async def scenario() -> tuple:
        first = await connect()
        circle, access_pub = bytes.fromhex(keys.circle_id), raw_public(keys.access)
        opening = w.encode_open(w.Open(circle, access_pub,
                                       keys.access.sign(w.open_signed(first.handshake_hash, circle, access_pub))))
        await first.send(opening)
        answer_first = w.decode_answer(await first.receive(15))
        second = await connect()
        await second.send(opening)  # the very same bytes, seen on the wire of the first
        answer_second = w.decode_answer(await second.receive(15))
        await first.close()
        await second.close()
        return answer_first, answer_second

    first, second = asyncio.run(scenario())
    assert first == (w.OK, None)
    assert second == (w.REFUSED, "not allowed")


def test_the_mailbox_works_inside_a_running_event_loop_and_from_a_worker_thread(relay: Relay):
    keys = CircleKeys()
    keys.register(relay)

    def use() -> list[str]:
        with keys.mailbox(relay) as box:
            box.put(b"from a thread")
            return box.names()

    async def scenario() -> tuple[list[str], list[str]]:
        direct = use()  # blocking on this loop's thread: the mailbox runs its own loop
        threaded = await asyncio.to_thread(use)
        return direct, threaded

    direct, threaded = asyncio.run(scenario())
    assert direct == threaded and len(direct) == 1


def test_an_unreachable_relay_and_a_bad_address_are_one_line_mailbox_errors(relay: Relay):
    keys = CircleKeys()
    port = relay.port
    relay.stop()
    with pytest.raises(MailboxError, match=rf"^cannot reach relay 127\.0\.0\.1:{port}: "):
        keys.mailbox(relay).__enter__()
    with pytest.raises(MailboxError, match="^not a peer address"):
        RelayMailbox("no-port", keys.circle_id, keys.access, static=keys.device).__enter__()
    with pytest.raises(MailboxError, match=rf"^cannot reach relay 127\.0\.0\.1:{port}: "):
        keys.register(relay)
