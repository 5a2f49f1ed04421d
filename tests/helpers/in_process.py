"""Profiles of one circle exchanging real sealed bundles in one process."""

from __future__ import annotations

import hashlib
from pathlib import Path

from circle.service import Service
from tests.helpers.cli import PASSPHRASE


def join(*, sponsor: Service, newcomer: Service, code: str) -> str:
    """`newcomer` redeems `code` with `sponsor`, both in this process: join request,
    admission, welcome. Returns the circle id now on the newcomer's device."""
    return newcomer.accept_welcome(code, sponsor.admit_request(newcomer.join_request(code)))


class Net:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.cid = ""

    def profile(self, name: str, **kw) -> Service:
        return Service.create_profile(self.root / name, name, PASSPHRASE, **kw)

    @staticmethod
    def dev(service: Service) -> str:
        return service.whoami().device_id

    @staticmethod
    def mid(service: Service) -> str:
        return service.whoami().member_id

    def send(self, src: Service, dst: Service):
        return dst.receive_bundle(src.bundle_for(self.cid, self.dev(dst)))

    def join(self, organizer: Service, *newcomers: Service) -> None:
        code = organizer.invite(self.cid, uses=len(newcomers))
        for newcomer in newcomers:
            join(sponsor=organizer, newcomer=newcomer, code=code)
            self.send(newcomer, organizer)
        for newcomer in newcomers:
            self.send(organizer, newcomer)

    def bodies(self, service: Service) -> list[str]:
        return [p.body for p in service.feed(self.cid)]


def stored(service: Service, circle_id: str) -> tuple:
    """Everything the store holds for a circle, by content hash."""
    store = service.profile.store
    records = store.load_circle(circle_id)
    digest = lambda blob: hashlib.sha256(blob).hexdigest()
    return (
        digest(records.snapshot),
        tuple(digest(c) for c in records.changes),
        tuple(sorted((a, digest(b)) for a, b in store.actions(circle_id))),
        tuple(sorted((h, digest(b)) for h, b in store.signed_heads(circle_id))),
    )


def quiet_circle(root: Path):
    """Ana and Ben's circle, where Ben posted 13 hours ago (by the real clock) and nobody
    answered, while his other post got Ana's heart: (circle id, the quiet post's id,
    a Cli for Ana, a Cli for Ben)."""
    from datetime import datetime, timedelta, timezone

    from tests.helpers.cli import Cli

    then = datetime.now(timezone.utc) - timedelta(hours=13)
    net = Net(root)
    ana, ben = net.profile("Ana", clock=lambda: then), net.profile("Ben", clock=lambda: then)
    net.cid = ana.create_circle("Walkers")
    net.join(ana, ben)
    net.send(ana, ben)
    quiet = ben.post(net.cid, "Up since four, again.").id
    answered = ben.post(net.cid, "Walk on Sunday?").id
    net.send(ben, ana)
    ana.react(net.cid, answered, "heart")
    net.send(ana, ben)
    ana.close()
    ben.close()
    return net.cid, quiet, Cli(root / "Ana"), Cli(root / "Ben")
