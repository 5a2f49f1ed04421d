"""Property-based tests of the circle document (hypothesis).

(a) Replicas converge: 2-4 members act on their own replicas in any order,
    with pairwise syncs that may deliver changes reversed, shuffled or only in
    part; after a final full sync every replica shows the same views, and they
    match a model of what each member meant (every field has one writer, so
    nothing anyone did may be lost).
(b) The op id parser never fails with anything but ValueError, and reads real
    op ids back exactly (long counters, actor ids of many lengths, many actors).
(c) Garbage handed to apply_changes raises an ordinary exception and leaves the
    document as it was.

Example counts are modest so the suite stays fast; set CIRCLE_FUZZ_EXAMPLES to
run more (e.g. CIRCLE_FUZZ_EXAMPLES=1000 in a nightly job).
"""

from __future__ import annotations

import os
import random
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import automerge.core as am
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from circle.crypto.identity import DeviceIdentity
from circle.domain import views
from circle.domain.document import CircleDocument, sync_message_carrying
from circle.domain.models import REPEATS, RSVP_ANSWERS
from circle.domain.opids import op_actor, op_counter

EXAMPLES = int(os.environ.get("CIRCLE_FUZZ_EXAMPLES", "50"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
T0 = datetime(2024, 6, 1, tzinfo=timezone.utc)
KINDS = ("hug", "same here")
DELIVERIES = ("in order", "reversed", "shuffled", "partial")

# -- (a) convergence -------------------------------------------------------------------

member = st.integers(0, 3)
pick = st.integers(0, 3)  # small: members tend to act on the same few posts
words = st.text(min_size=1, max_size=12)
operation = st.one_of(
    st.tuples(st.just("post"), member, words),
    st.tuples(st.just("post"), member, words),
    st.tuples(st.just("reply"), member, pick, words),
    st.tuples(st.just("edit"), member, pick, words),
    st.tuples(st.just("delete"), member, pick),
    st.tuples(st.just("react"), member, pick, st.sampled_from(KINDS), st.booleans()),
    st.tuples(st.just("react"), member, pick, st.sampled_from(KINDS), st.just(True)),
    st.tuples(st.just("checkin"), member, st.integers(1, 5), st.text(max_size=12)),
    st.tuples(st.just("event"), member, words, st.sampled_from(REPEATS)),
    st.tuples(st.just("rsvp"), member, pick, st.sampled_from(RSVP_ANSWERS)),
    st.tuples(
        st.just("sync"), member, member, st.sampled_from(DELIVERIES), st.randoms(use_true_random=False)
    ),
    st.tuples(st.just("sync all"), member),
)


@dataclass
class Intent:
    """What the members meant, independent of Automerge: the expected final views."""

    posts: dict[str, dict] = field(default_factory=dict)
    reactions: dict[tuple[str, str, str], bool] = field(default_factory=dict)  # (post, kind, member)
    checkins: dict[str, tuple] = field(default_factory=dict)
    events: dict[str, dict] = field(default_factory=dict)

    def expected(self) -> tuple:
        posts = {}
        for post_id, p in self.posts.items():
            reactions: dict[str, set[str]] = {}
            for (on_post, kind, who), on in self.reactions.items():
                if on_post == post_id and on:
                    reactions.setdefault(kind, set()).add(who)
            posts[post_id] = (p["author"], p["body"], p["reply_to"], p["deleted"],
                              {k: frozenset(v) for k, v in reactions.items()})
        events = {eid: (e["author"], e["title"], e["repeat"], e["rsvps"]) for eid, e in self.events.items()}
        return posts, dict(self.checkins), events


def shown(document: CircleDocument, roster: views.Roster) -> tuple:
    """The views, projected onto what Intent can predict."""
    posts = {p.id: (p.author_id, p.body, p.reply_to, p.deleted, p.reactions)
             for p in views.read_posts(document, roster)}
    checkins = {c.id: (c.author_id, c.mood, c.note) for c in views.read_checkins(document, roster)}
    events = {e.id: (e.author_id, e.title, e.repeat, e.rsvps) for e in views.read_events(document, roster)}
    return posts, checkins, events


class World:
    """n members, each with a real device key and a replica writing as its own actor."""

    def __init__(self, n: int) -> None:
        self.circle_id = secrets.token_hex(16)
        self.keys = [DeviceIdentity.generate() for _ in range(n)]
        founder, _ = CircleDocument.create(self.circle_id, self.keys[0].actor_id(self.circle_id),
                                           name="Fuzz", purpose="", created_at=T0)
        self.replicas = [founder] + [founder.fork_as(k.actor_id(self.circle_id)) for k in self.keys[1:]]
        # What governance yields once every device is admitted (state.actor_bindings()).
        self.roster = views.Roster({k.actor_id(self.circle_id): k.device_id for k in self.keys}, {})
        for replica, key in zip(self.replicas, self.keys):
            replica.introduce(key.device_id, f"member {key.device_id[:4]}", T0)
        self.full_sync()
        self.intent = Intent()
        self.tick = 0

    def now(self) -> datetime:
        self.tick += 1
        return T0 + timedelta(minutes=self.tick)

    def deliver(self, src: int, dst: int, how: str, rng: random.Random) -> None:
        changes = self.replicas[src].changes_since([])
        if how == "reversed":
            changes.reverse()
        elif how == "shuffled":
            rng.shuffle(changes)
        elif how == "partial":
            changes = rng.sample(changes, k=rng.randint(0, len(changes)))
        for start in range(0, len(changes), 3):
            self.replicas[dst].apply_changes(changes[start : start + 3])

    def full_sync(self) -> None:
        for i in range(1, len(self.replicas)):
            self.replicas[0].apply_changes(self.replicas[i].changes_since([]))
        everything = self.replicas[0].changes_since([])
        for replica in self.replicas[1:]:
            replica.apply_changes(everything)

    def run(self, op: tuple) -> None:
        kind, who = op[0], op[1] % len(self.replicas)
        if kind == "sync all":
            self.full_sync()
            return
        if kind == "sync":
            if who != op[2] % len(self.replicas):
                self.deliver(who, op[2] % len(self.replicas), op[3], op[4])
            return
        doc, me = self.replicas[who], self.keys[who].device_id
        visible = views.read_posts(doc, self.roster)
        live = [p for p in visible if not p.deleted]
        mine = [p for p in live if p.author_id == me]
        posts, reactions = self.intent.posts, self.intent.reactions
        if kind in ("post", "reply"):
            parent = None
            if kind == "reply":
                if not visible:
                    return
                parent = visible[op[2] % len(visible)].id
            post_id = f"p{self.tick}"
            doc.add_post(post_id, op[-1], self.now(), parent)
            posts[post_id] = {"author": me, "body": op[-1], "reply_to": parent, "deleted": False}
        elif kind == "edit" and mine:
            target = mine[op[2] % len(mine)].id
            doc.edit_post(target, op[3], self.now())
            posts[target]["body"] = op[3]
        elif kind == "delete" and mine:
            target = mine[op[2] % len(mine)].id
            doc.delete_post(target, self.now())
            posts[target].update(body="", deleted=True)
        elif kind == "react" and live:
            target = live[op[2] % len(live)].id
            doc.set_reaction(target, op[3], me, op[4])
            reactions[(target, op[3], me)] = op[4]
        elif kind == "checkin":
            checkin_id = f"c{self.tick}"
            doc.add_checkin(checkin_id, op[2], self.now(), note=op[3])
            self.intent.checkins[checkin_id] = (me, op[2], op[3])
        elif kind == "event":
            event_id = f"e{self.tick}"
            doc.add_event(event_id, op[2], self.now() + timedelta(days=7), self.now(), repeat=op[3])
            self.intent.events[event_id] = {"author": me, "title": op[2], "repeat": op[3], "rsvps": {}}
        elif kind == "rsvp":
            events = views.read_events(doc, self.roster)
            if events:
                target = events[op[2] % len(events)].id
                doc.set_rsvp(target, me, op[3])
                self.intent.events[target]["rsvps"][me] = op[3]


@FUZZ
@given(n=st.integers(2, 4), ops=st.lists(operation, min_size=10, max_size=50))
def test_replicas_converge_to_what_every_member_meant(n, ops):
    """Any interleaving of writes and (partial, reordered) syncs ends, after a full sync,
    in identical views on every replica, equal to the members' intent."""
    world = World(n)
    for op in ops:
        world.run(op)
    world.full_sync()

    heads = {tuple(sorted(r.heads())) for r in world.replicas}
    assert len(heads) == 1
    seen = [shown(r, world.roster) for r in world.replicas]
    assert all(s == seen[0] for s in seen)
    assert seen[0] == world.intent.expected()

    # A newcomer receiving everything backwards, one change at a time, agrees too.
    newcomer = CircleDocument(world.circle_id, am.Document(actor_id=secrets.token_bytes(16)))
    for change in reversed(world.replicas[0].changes_since([])):
        newcomer.apply_changes([change])
    assert tuple(sorted(newcomer.heads())) in heads
    assert shown(newcomer, world.roster) == seen[0]


# -- (b) op id parser ------------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=80))
def test_op_id_parser_raises_only_value_error_on_arbitrary_bytes(data):
    """Op ids come from the binding, but a parser that can raise IndexError or
    loop on odd bytes would turn a binding change into a crash of every view."""
    for parse in (op_actor, op_counter):
        try:
            parse(data)
        except ValueError:
            pass


@FUZZ
@given(
    prefix=st.binary(max_size=3),
    length=st.integers(0, 2**70),
    tail=st.binary(max_size=20),
)
def test_op_id_parser_survives_hostile_lengths(prefix, length, tail):
    """Actor lengths up to 2**70 (LEB128-encoded) never allocate or raise oddly."""
    encoded = bytearray()
    while True:
        byte, length = length & 0x7F, length >> 7
        encoded.append(byte | 0x80 if length else byte)
        if not length:
            break
    data = b"\x10" + bytes(encoded) + prefix + tail
    for parse in (op_actor, op_counter):
        try:
            parse(data)
        except ValueError:
            pass


@FUZZ
@given(actor=st.binary(min_size=0, max_size=64), ops=st.integers(1, 300))
def test_op_ids_of_real_documents_round_trip(actor, ops):
    """Every op a document records names the actor that wrote it and its counter."""
    doc = am.Document(actor_id=actor)
    with doc.transaction() as tx:
        for i in range(ops):
            tx.put(am.ROOT, f"k{i}", am.ScalarType.Int, i)
    for i in range(ops):
        _, op_id = doc.get(am.ROOT, f"k{i}")
        assert op_actor(op_id) == actor
        assert op_counter(op_id) == i + 1


@pytest.mark.parametrize("actor_len", [1, 16, 127, 128, 200])
def test_op_ids_round_trip_past_two_byte_counters(actor_len):
    """Counters above 2**14 take three LEB128 bytes; long actors take two length bytes."""
    actor = bytes(range(actor_len % 256))[:actor_len].ljust(actor_len, b"\x07")
    doc = am.Document(actor_id=actor)
    count = 2**14 + 20
    with doc.transaction() as tx:
        for i in range(count):
            tx.put(am.ROOT, f"k{i}", am.ScalarType.Int, i)
    for i in (0, 127, 128, 2**14 - 1, 2**14, count - 1):
        _, op_id = doc.get(am.ROOT, f"k{i}")
        assert (op_actor(op_id), op_counter(op_id)) == (actor, i + 1)


def test_op_ids_round_trip_with_more_actors_than_one_index_byte():
    """With over 128 actors in a document, the actor index in an op id takes two bytes."""
    base = am.Document(actor_id=b"\x00" * 16)
    actors = [secrets.token_bytes(16) for _ in range(140)]
    for actor in actors:
        other = base.fork()
        other.set_actor(actor)
        with other.transaction() as tx:
            tx.put(am.ROOT, actor.hex(), am.ScalarType.Int, 1)
        base.merge(other)
    for actor in actors:
        _, op_id = base.get(am.ROOT, actor.hex())
        assert op_actor(op_id) == actor


# -- (c) garbage changes -----------------------------------------------------------------


def _small_document() -> tuple[CircleDocument, list[bytes]]:
    """A circle document, and a few real changes it has not seen yet."""
    key = DeviceIdentity.generate()
    circle_id = secrets.token_hex(16)
    doc, _ = CircleDocument.create(circle_id, key.actor_id(circle_id), name="G", purpose="", created_at=T0)
    doc.introduce(key.device_id, "G", T0)
    other = doc.fork_as(secrets.token_bytes(16))
    later = other.add_post("p", "x" * 400, T0)  # long enough to be stored compressed
    later += other.add_post("q", "short", T0)
    return doc, later


def _assert_rejected_and_untouched(doc: CircleDocument, changes: list[bytes]) -> None:
    before, saved = sorted(doc.heads()), doc.save()
    with pytest.raises(Exception) as err:  # an ordinary exception: a Rust panic is BaseException
        doc.apply_changes(changes)
    assert isinstance(err.value, Exception)
    assert sorted(doc.heads()) == before and doc.save() == saved


@FUZZ
@given(garbage=st.lists(st.binary(max_size=300), min_size=1, max_size=3))
def test_garbage_changes_raise_and_leave_the_document_unchanged(garbage):
    """Arbitrary bytes are not a change: refused loudly, nothing applied."""
    doc, _ = _small_document()
    assert sync_message_carrying(garbage)  # the carrier itself takes any bytes
    _assert_rejected_and_untouched(doc, garbage)


@FUZZ
@given(data=st.data())
def test_damaged_real_changes_raise_and_apply_nothing(data):
    """A real change with one byte flipped or cut short, even beside intact changes in
    the same call, is refused and none of the batch is applied."""
    doc, later = _small_document()
    victim = data.draw(st.sampled_from(later))
    # Positions are drawn independently of the (run-dependent) change length.
    index = data.draw(st.integers(0, 2**20)) % len(victim)
    if data.draw(st.booleans()):
        flipped = victim[index] ^ data.draw(st.integers(1, 255))
        damaged = victim[:index] + bytes([flipped]) + victim[index + 1 :]
    else:
        damaged = victim[:index]
    batch = [c if c is not victim else damaged for c in later]
    _assert_rejected_and_untouched(doc, batch)
    doc.apply_changes(later)  # the intact batch still applies afterwards
    assert len(doc.changes_since([])) == 4
