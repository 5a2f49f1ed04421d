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

from circle.domain.change_header import ChangeHeader, read_change_header
from circle.domain.document import CircleDocument
from circle.domain import views
from circle.domain.untrusted import shown
from circle.errors import NotAllowed
from circle.service.opened import OpenCircle
from circle.sync.heads import SignedHead

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
    devices = circle.state.device_by_actor()
    names = views.read_names(circle.document, circle.roster())
    own = circle.document.doc.get_actor()  # our own clashes are catch_up's to report
    forked = {h.actor for h in clashing if h.seq <= len(index.get(h.actor, ()))} - {own}
    if not forked and clashing[0].actor != own:
        forked = {clashing[0].actor}  # two versions within one bundle
    if not forked:
        return []
    lines = []
    for actor in sorted(forked):
        device = devices[actor]
        name = shown(names.get(device.member, ("a member",))[0], limit=40)
        mine = sum(1 for h in clashing if h.actor == actor)
        lines.append(f"refused {mine} change(s) from {name}'s device {device.id[:8]}: they reuse numbers "
                     "it had already used (it was probably restored from an older backup; it recovers "
                     "when it syncs)")
    others = sum(1 for h in clashing if h.actor not in forked)
    if others:
        lines[-1] += f"; also {others} change(s) of others that build on them"
    return lines


def catch_up(service, circle: OpenCircle, heads: dict[bytes, SignedHead],
             changes: list[bytes]) -> tuple[list[bytes], list[str]]:
    """Compare what a bundle says peers hold of our own actor with what we hold.

    If it is more, remember it (writing waits until we hold it too); if it
    differs, drop what we wrote since the restore first, so the peers' changes
    (in `changes`, or in a later bundle) can be applied. Call inside `_writing`,
    before applying `changes`. Returns `changes` without any we set aside
    before (a peer that took them may relay them, or replay our old heads: we
    must not flip back), and the lines to tell the person."""
    own = circle.document.doc.get_actor()
    head = heads.get(own)
    if head is None:
        return changes, []
    chain = circle.change_index().get(own, [])
    if head.seq <= len(chain) and chain[head.seq - 1] == head.hash:
        return changes, []
    aside = {bytes.fromhex(item) for item, _ in service.profile.store.private_items(circle.id, SET_ASIDE)}
    changes = [raw for raw in changes if read_change_header(raw).hash not in aside]
    if head.hash in aside:
        return changes, []
    fork = head.seq if head.seq <= len(chain) else None
    for raw in changes:
        header = read_change_header(raw)
        if header.actor == own and header.seq <= len(chain) and chain[header.seq - 1] != header.hash:
            fork = header.seq if fork is None else min(fork, header.seq)
    mark = _mark(service, circle.id)
    if mark is None or mark.seq < head.seq:
        sealed = service.profile.seal(head.encode(), "private", circle.id, MARK, "head")
        service.profile.store.put_private(circle.id, MARK, "head", sealed)
    if fork is None:
        return changes, []
    set_aside = _rewind(service, circle, fork, head)
    return changes, [f"this device was restored from an older backup: {set_aside} change(s) it wrote since "
            "were set aside (the others hold different ones under the same numbers)"]


def ensure_may_write(service, circle: OpenCircle) -> None:
    """Raise RestoredFromBackup while peers hold more of our own actor than we do."""
    mark = _mark(service, circle.id)
    if mark is None:
        return
    chain = circle.change_index().get(circle.document.doc.get_actor(), [])
    if mark.seq <= len(chain) and chain[mark.seq - 1] == mark.hash:
        service.profile.store.delete_private(circle.id, MARK, "head")
        return
    raise RestoredFromBackup(
        "this device was restored from an older backup: it must catch up before writing; "
        "run `circle sync` with a peer (or `circle sync --folder DIR`) first"
    )


def _mark(service, circle_id: str) -> SignedHead | None:
    for item_id, blob in service.profile.store.private_items(circle_id, MARK):
        return SignedHead.decode(service.profile.open(blob, "private", circle_id, MARK, item_id))
    return None


def _rewind(service, circle: OpenCircle, fork: int, head: SignedHead) -> int:
    """Rebuild the document without our own changes from seq `fork` on, nor
    anything building on them; store it and keep those changes aside. Returns
    how many were set aside."""
    own = circle.document.doc.get_actor()
    changes = circle.document.doc.get_changes([])
    dropped = {c.hash for c in changes if c.actor_id == own and c.seq >= fork}
    grew = True
    while grew:  # whatever builds on a dropped change goes too
        grew = False
        for change in changes:
            if change.hash not in dropped and any(dep in dropped for dep in change.deps):
                dropped.add(change.hash)
                grew = True
    document = CircleDocument.rebuilt(circle.id, own, [c.bytes for c in changes if c.hash not in dropped])
    profile, store = service.profile, service.profile.store

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
    store.append(circle.id, heads=[service._sealed_head(circle.id, head)])
    circle.heads[own] = head
    circle.document = document
    circle.changes_since_snapshot = 0
    circle.snapshot_seq = store.snapshot_seq(circle.id)
    circle.forget_objects()
    return len(dropped)
