"""A device restored from an older copy of its profile, and the peers of one.

A device writes each circle as one Automerge actor whose sequence numbers live
in the profile. Copying back an older profile directory rewinds them, so the
device's next change reuses a sequence number its peers already hold with other
content ("duplicate seq": Automerge refuses the whole batch). Two sides:

- Every device sets such clashing changes aside, with whatever builds on them,
  and applies the rest; the sender is named in one line.
- The restored device recognises itself: a peer's signed head for its own actor
  (only this device's key signs those) is ahead of, or differs from, what it
  holds. It then drops the changes it wrote since the restore (kept sealed on
  the device, never sent) so its own earlier changes can come back, and refuses
  to write to the circle until they have: its next change then continues above
  what the peers hold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from circle.domain.change_header import ChangeHeader, read_change_header
from circle.domain.document import CircleDocument
from circle.domain import views
from circle.domain.untrusted import shown
from circle.errors import NotAllowed
from circle.service.opened import OpenCircle
from circle.domain.heads import SignedHead

if TYPE_CHECKING:  # the repository imports this module
    from circle.service.repository import CircleRepository

MARK = "restored-mark"  # the newest head peers hold for our own actor, until we hold it too
SET_ASIDE = "set-aside"  # our changes that clashed with what the peers hold


class RestoredFromBackup(NotAllowed):
    """This device holds less of its own writing than its peers: it must catch up first."""


def forked_from(circle: OpenCircle, peer) -> bool:
    """We hold no change the peer's State lacks by count, yet its digest
    differs. Either it holds more (it sends that), or some changes differ under
    the same numbers (a restored device): our signed heads go anyway, so that
    device learns it was restored."""
    return bool(peer.digest) and peer.digest != circle.digest()


def split_clashes(circle: OpenCircle, changes: list[bytes]) -> tuple[list[bytes], list[ChangeHeader]]:
    """`changes` (in causal order) without those that reuse an actor's sequence
    number held here, or earlier in the list, with other content, nor any that
    build on one; and the headers of those left out."""
    index = circle.change_index()
    taken: dict[tuple[bytes, int], bytes] = {}
    bad: set[bytes] = set()
    kept, clashing = [], []
    for raw in changes:
        header = read_change_header(raw)
        chain = index.get(header.actor, [])
        held = chain[header.seq - 1] if header.seq <= len(chain) else taken.get((header.actor, header.seq))
        if (held is not None and held != header.hash) or any(dep in bad for dep in header.deps):
            bad.add(header.hash)
            clashing.append(header)
            continue
        taken[(header.actor, header.seq)] = header.hash
        kept.append(raw)
    return kept, clashing


def note_clashes(circle: OpenCircle, clashing: list[ChangeHeader]) -> dict[bytes, int]:
    """Remember, per actor, the first seq at which a peer holds another version
    than ours; returns those of this bundle."""
    firsts: dict[bytes, int] = {}
    for header in clashing:
        firsts[header.actor] = min(firsts.get(header.actor, header.seq), header.seq)
    for actor, seq in firsts.items():
        circle.clashes[actor] = min(circle.clashes.get(actor, seq), seq)
    return firsts


def lower_vector(vector: dict[bytes, int], clashes: dict[bytes, int]) -> dict[bytes, int]:
    """A peer's vector as far as it agrees with us: an actor some peer holds
    another version of counts only up to the clash, so what we hold from there
    goes back out (to the folder, or in the session) and reaches the device
    that forked."""
    out = dict(vector)
    for actor, seq in clashes.items():
        if actor in out:
            out[actor] = min(out[actor], seq - 1)
    return out


def refusal_notes(circle: OpenCircle, clashing: list[ChangeHeader]) -> list[str]:
    """One line per device whose changes clash here (call before applying), naming
    it; changes of others that only build on those are counted in."""
    if not clashing:
        return []
    index = circle.change_index()
    own = circle.document.doc.get_actor()  # our own clashes are catch_up's to report
    forked = {h.actor for h in clashing if h.seq <= len(index.get(h.actor, ()))} - {own}
    if not forked and clashing[0].actor != own:
        forked = {clashing[0].actor}  # two versions within one bundle
    if not forked:
        return []
    lines = []
    for actor in sorted(forked):
        mine = sum(1 for h in clashing if h.actor == actor)
        lines.append(f"refused {mine} change(s) from {_who(circle, actor)}: they reuse numbers "
                     "it had already used (it was probably restored from an older backup; it recovers "
                     "when it syncs)")
    others = sum(1 for h in clashing if h.actor not in forked)
    if others:
        lines[-1] += f"; also {others} change(s) of others that build on them"
    return lines


def catch_up(repo: CircleRepository, circle: OpenCircle, heads: dict[bytes, SignedHead],
             changes: list[bytes]) -> tuple[list[bytes], list[str]]:
    """Follow each device's own newest version of its changes, before applying
    `changes` (call inside `writing`).

    For our own actor: if a peer's head is ahead of what we hold, remember it
    (writing waits until we hold it too); if it differs, drop what we wrote
    since the restore first, so the peers' changes (here or in a later bundle)
    can be applied. For another device's actor: if its head is ahead of our
    chain and this bundle's changes differ from ours, it went on from another
    version after a restore; we drop ours when nothing but its own builds on
    them. Returns `changes` without any set aside here before (a peer that took
    them may relay them, or replay their heads: we must not flip back), and the
    lines to tell the person."""
    aside = {bytes.fromhex(item) for item, _ in repo.profile.store.private_items(circle.id, SET_ASIDE)}
    parsed = [(raw, read_change_header(raw)) for raw in changes]
    if aside:
        parsed = [(raw, header) for raw, header in parsed if header.hash not in aside]
        changes = [raw for raw, _ in parsed]
    heads = {actor: head for actor, head in heads.items() if head.hash not in aside}
    own = circle.document.doc.get_actor()
    firsts: dict[bytes, int] = {}
    index = circle.change_index()
    for _, header in parsed:
        chain = index.get(header.actor, [])
        if header.seq <= len(chain) and chain[header.seq - 1] != header.hash:
            firsts[header.actor] = min(firsts.get(header.actor, header.seq), header.seq)
    notes = []
    for actor, first in sorted(firsts.items()):
        head = heads.get(actor)
        if actor == own or head is None or head.seq <= len(circle.change_index().get(actor, [])):
            continue
        taken = _rewind(repo, circle, actor, first, head, only_its_own=True)
        if taken:
            notes.append(f"{_who(circle, actor)} went on from other changes after a restore: "
                         f"{taken} change(s) of it held here were set aside")
    return changes, notes + _catch_up_own(repo, circle, heads.get(own), firsts.get(own))


def _catch_up_own(repo: CircleRepository, circle: OpenCircle, head: SignedHead | None, first: int | None) -> list[str]:
    own = circle.document.doc.get_actor()
    if head is None:
        return []
    chain = circle.change_index().get(own, [])
    if head.seq <= len(chain) and chain[head.seq - 1] == head.hash:
        return []
    fork = head.seq if head.seq <= len(chain) else None
    if first is not None:
        fork = first if fork is None else min(fork, first)
    mark = _mark(repo, circle.id)
    if mark is None or mark.seq < head.seq:
        sealed = repo.profile.seal(head.encode(), "private", circle.id, MARK, "head")
        repo.profile.store.put_private(circle.id, MARK, "head", sealed)
    if fork is None:
        return []
    set_aside = _rewind(repo, circle, own, fork, head)
    circle.clashes[own] = min(circle.clashes.get(own, fork), fork)  # others may hold what we dropped
    return [f"this device was restored from an older backup: {set_aside} change(s) it wrote since "
            "were set aside (the others hold different ones under the same numbers)"]


def offered_vector(repo: CircleRepository, circle: OpenCircle) -> dict[bytes, int]:
    """Our version vector as we tell peers. While we are behind on our own actor
    it leaves that actor out: a peer then sends our own changes from where the
    others' changes stop covering them, which shows where a restored device's
    own chain parted from the one its peers hold."""
    vector = circle.vector()
    mark = _mark(repo, circle.id)
    if mark is not None and not _holds(circle, mark):
        vector.pop(circle.document.doc.get_actor(), None)
    return vector


def _holds(circle: OpenCircle, head: SignedHead) -> bool:
    chain = circle.change_index().get(head.actor, [])
    return head.seq <= len(chain) and chain[head.seq - 1] == head.hash


def ensure_may_write(repo: CircleRepository, circle: OpenCircle) -> None:
    """Raise RestoredFromBackup while peers hold more of our own actor than we
    do (call inside `writing`: once caught up, the mark is dropped)."""
    mark = _mark(repo, circle.id)
    if mark is None:
        return
    if _holds(circle, mark):
        repo.profile.store.delete_private(circle.id, MARK, "head")
        return
    raise RestoredFromBackup(
        "this device was restored from an older backup: it must catch up before writing; "
        "run `circle sync` with a peer (or `circle sync --folder DIR`) first"
    )


def _who(circle: OpenCircle, actor: bytes) -> str:
    """"<member name>'s device <id prefix>", the name cleaned for a terminal."""
    device = circle.state.device_by_actor()[actor]
    names = views.read_names(circle.document, circle.roster())
    return f"{shown(names.get(device.member, ('a member',))[0], limit=40)}'s device {device.id[:8]}"


def _mark(repo: CircleRepository, circle_id: str) -> SignedHead | None:
    for item_id, blob in repo.profile.store.private_items(circle_id, MARK):
        return SignedHead.decode(repo.profile.open(blob, "private", circle_id, MARK, item_id))
    return None


def _rewind(repo: CircleRepository, circle: OpenCircle, actor: bytes, fork: int, head: SignedHead, *,
            only_its_own: bool = False) -> int:
    """Rebuild the document without `actor`'s changes from seq `fork` on, nor
    anything building on them (with `only_its_own`, do nothing if that would
    include another actor's change); store it, keep those changes aside and
    `head` as the actor's head. Returns how many were set aside."""
    own = circle.document.doc.get_actor()
    changes = circle.document.doc.get_changes([])
    dropped = {c.hash for c in changes if c.actor_id == actor and c.seq >= fork}
    grew = True
    while grew:  # whatever builds on a dropped change goes too
        grew = False
        for change in changes:
            if change.hash not in dropped and any(dep in dropped for dep in change.deps):
                if only_its_own and change.actor_id != actor:
                    return 0
                dropped.add(change.hash)
                grew = True
    document = CircleDocument.rebuilt(circle.id, own, [c.bytes for c in changes if c.hash not in dropped])
    profile, store = repo.profile, repo.profile.store

    def build(newer: list[bytes]) -> bytes:
        # Another process's writes since our last refresh (the write lock is held).
        fresh = [profile.open(b, "change", circle.id) for b in newer]
        document.apply_changes(c for c in fresh if read_change_header(c).hash not in dropped)
        return profile.seal(document.save(), "snapshot", circle.id)

    for change in changes:
        if change.hash in dropped:
            item = change.hash.hex()
            sealed = profile.seal(change.bytes, "private", circle.id, SET_ASIDE, item)
            store.put_private(circle.id, SET_ASIDE, item, sealed)
    circle.last_change_id = store.compact(circle.id, circle.last_change_id, build)
    store.append(circle.id, heads=[repo.sealed_head(circle.id, head)])
    circle.heads[actor] = head
    circle.document = document
    circle.changes_since_snapshot = 0
    circle.snapshot_seq = store.snapshot_seq(circle.id)
    circle.forget_objects()
    return len(dropped)
