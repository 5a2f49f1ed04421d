"""The circles this profile holds: creating one, renaming or redescribing it
(organizers), listing them, finding one by name."""

from __future__ import annotations

import secrets

from circle.crypto.identity import DeviceIdentity
from circle.domain.document import CircleDocument, to_millis
from circle.domain.governance.actions import sign_action
from circle.domain.governance.keyring import rotation_body
from circle.domain.governance.resolver import resolve
from circle.domain.models import CircleInfo
from circle.domain.refs import resolve as resolve_ref
from circle.domain.roles import Role
from circle.errors import NotAllowed
from circle.service.content import Content
from circle.service.core import CircleSummary, Clock, clean_text
from circle.service.opened import OpenCircle
from circle.service.repository import CircleRepository


class Circles:
    def __init__(self, repo: CircleRepository, content: Content, identity: DeviceIdentity,
                 member_id: str, name: str, clock: Clock) -> None:
        self.repo, self.content, self.identity = repo, content, identity
        self.member_id, self.name, self.clock = member_id, name, clock

    def create_circle(self, name: str, purpose: str = "") -> str:
        """A new circle with this member as its organizer: the genesis action, the
        first key epoch and a document introducing them, stored together."""
        name, purpose = _name(name), _purpose(purpose)
        identity, now = self.identity, self.clock()
        device = {"sign": identity.public.sign_pub.hex(), "dh": identity.public.dh_pub.hex()}
        genesis = sign_action(
            identity, None, "create", [], to_millis(now),
            {"name": name, "nonce": secrets.token_hex(16), "device": device},
        )
        circle_id = genesis.id[:32]
        body, _ = rotation_body(resolve(circle_id, [genesis]), {})
        first_epoch = sign_action(identity, circle_id, "rotate", [genesis.id], to_millis(now), body)
        document, changes = CircleDocument.create(
            circle_id, identity.actor_id(circle_id), name=name, purpose=purpose, created_at=now
        )
        changes += document.introduce(self.member_id, self.name, now)
        circle = OpenCircle(identity, document, {a.id: a for a in (genesis, first_epoch)}, {}, 0, 0)
        circle.sign_own_head(changes)
        self.repo.add(circle)
        return circle_id

    def set_circle_details(self, circle_id: str, *, name: str | None = None,
                           purpose: str | None = None) -> CircleInfo:
        """Organizers: change the circle's name or purpose (None keeps it). Every
        peer ignores the same write from anyone else (domain/ownership.py)."""
        circle = self.repo.open(circle_id)
        if circle.state.role_of(circle.my_member_id or "") != Role.ORGANIZER:
            raise NotAllowed("only organizers change the circle's name and purpose")
        fields = {"name": None if name is None else _name(name),
                  "purpose": None if purpose is None else _purpose(purpose)}
        writes = [lambda d, f=field, v=value: d.set_circle_field(f, v)
                  for field, value in fields.items() if value is not None]
        if writes:
            self.repo.write(circle_id, *writes)
        return self.content.info(circle_id)

    def circles(self) -> list[CircleSummary]:
        out = []
        for circle_id in self.repo.ids():
            circle = self.repo.open(circle_id)
            out.append(CircleSummary(
                circle_id,
                self.content.info(circle_id).name,
                len(circle.state.active_members()),
                len(self.content.feed(circle_id)),
                circle.state.role_of(circle.my_member_id or ""),
            ))
        return out

    def resolve_circle(self, ref: str) -> str:
        ids = self.repo.ids()
        if ref in ids:
            return ref
        return resolve_ref(ref, [(cid, self.content.info(cid).name) for cid in ids], "circle")


def _name(name: str) -> str:
    return clean_text(name, "circle name", 80)


def _purpose(purpose: str) -> str:
    return clean_text(purpose, "purpose", 500, allow_empty=True)
