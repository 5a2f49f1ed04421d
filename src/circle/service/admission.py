"""Joining a circle with an invite code: the newcomer's request and the
member's welcome.

The newcomer proves they hold a code of this circle by signing with the
invite's key; the member's device checks the invite against the governance log,
records the admission as a signed action with the circle's keys in lockboxes
for the new device, and sends the whole circle back sealed to that device. The
newcomer checks the welcome (service/verify.py) before storing anything.
"""

from __future__ import annotations

import json

from circle.crypto.identity import DeviceIdentity, DevicePublic, device_id_of
from circle.crypto.invite_code import InviteCode, InviteCodeError, invite_key
from circle.domain import schema, views
from circle.domain.document import CircleDocument, to_millis
from circle.domain.governance.actions import admit_proof_message, canonical
from circle.domain.governance.keyring import admission_lockboxes
from circle.domain.governance.resolver import resolve
from circle.domain.governance.state import GovernanceState, InviteState
from circle.domain.schema import NewerSchema
from circle.errors import InvalidInput, NotAllowed
from circle.service.core import Clock
from circle.service.exchange import Exchange
from circle.service.membership import Membership
from circle.service.opened import OpenCircle
from circle.service.repository import CircleRepository
from circle.service.verify import (
    BundleRejected,
    check_document_heads,
    check_epoch,
    decode_actions,
    open_content,
    read_bundle_header,
    verified_heads,
)
from circle.sync.bundle import WELCOME, BundleContent

MAX_REQUEST_BYTES = 4096


class Admission:
    def __init__(self, repo: CircleRepository, exchange: Exchange, membership: Membership,
                 identity: DeviceIdentity, name: str, clock: Clock) -> None:
        self.repo, self.exchange, self.membership = repo, exchange, membership
        self.identity, self.name, self.clock = identity, name, clock

    def join_request(self, code: str) -> bytes:
        """What a newcomer sends to a member: proof of the invite, and who they are."""
        invite = _decode_code(code)
        if invite.expires_at < self.clock().timestamp():
            raise InvalidInput("this invite has expired; ask for a new one")
        identity = self.identity
        device = {"sign": identity.public.sign_pub.hex(), "dh": identity.public.dh_pub.hex()}
        proof = invite_key(invite.secret, invite.circle_id, invite.invite_id).sign(
            admit_proof_message(invite.circle_id, invite.invite_id, device)
        )
        return canonical({"v": 1, "circle": invite.circle_id, "invite": invite.invite_id,
                          "device": device, "proof": proof.hex()})

    def accept_welcome(self, code: str, welcome: bytes) -> str:
        """Check and store the circle a member sent; returns its id.

        A device that was removed and is re-admitted already holds the circle:
        the welcome is merged into what it has (it writes as a new actor then)."""
        invite = _decode_code(code)
        circle_id = invite.circle_id
        rejoining = circle_id in self.repo.ids()
        header = read_bundle_header(welcome)
        if header.kind != WELCOME or header.circle_id != circle_id:
            raise BundleRejected("welcome refused: it is for another circle than the invite names")
        key = self.exchange.key_from_lockbox(header)
        content = open_content(key, welcome)
        actions = {a.id: a for a in decode_actions(content)}
        if not any(a.kind == "create" and a.id[:32] == circle_id for a in actions.values()):
            raise BundleRejected("welcome refused: it is not the circle the invite names")
        identity = self.identity
        state = resolve(circle_id, actions.values())
        device = state.devices.get(identity.device_id)
        if device is None or not device.active:
            raise BundleRejected("welcome refused: the circle did not admit this device")
        if rejoining:
            mine = self.repo.open(circle_id).my_device
            if mine is not None and mine.active and mine.admitted_by == device.admitted_by:
                raise InvalidInput("you are already in this circle")
        check_epoch(state, identity, header.epoch_id, key)
        heads = verified_heads(state, circle_id, content.heads)
        actor = identity.actor_id(circle_id, device.incarnation)
        try:
            document = CircleDocument.load(circle_id, actor, content.document)
        except Exception:
            raise BundleRejected("welcome refused: its document does not load") from None
        check_document_heads(document, state, heads)
        if schema.newer_than_known(document.doc):
            # Joining writes (our name), which this code may not do to a newer document:
            # refuse before anything is stored, rather than keep a circle we cannot join.
            raise NewerSchema(f"this circle uses document schema {schema.document_version(document.doc)}, "
                              "newer than this version of circle knows: update circle to join it")
        if not rejoining:
            self.repo.add(OpenCircle(identity, document, actions, dict(heads), 0, 0))
        with self.repo.writing(circle_id) as circle:
            if rejoining:
                fresh = [a for a in actions.values() if a.id not in circle.actions]
                before = circle.document.heads()
                circle.document.doc.merge(document.doc)
                merged = circle.document.changes_since(before)
                kept = [h for h in heads.values() if circle.keep_head(h)]
                self.repo.persist(circle, changes=merged, actions=fresh, heads=kept)
            # A member's further device (or a returning member) is already named:
            # a device's profile name is not the member's name.
            if device.member not in views.read_names(circle.document, circle.roster()):
                self.repo.persist(circle, circle.document.introduce(device.member, self.name, self.clock()))
        return circle_id

    # -- joining: the member's side ---------------------------------------------------

    def admit_request(self, request: bytes, *, remote_static: bytes | None = None,
                      area: tuple[str, str] | None = None) -> bytes:
        """Admit the newcomer who sent `request`; returns their welcome.

        Over the network `remote_static` is the session's authenticated key: the
        request must name that same device, so nobody can redeem for another.
        From a relay's join area there is no such key (the proof covers the
        device keys, and the welcome is sealed to them); `area` is the (circle,
        invite) the area belongs to, which the request must name."""
        fields = _parse_request(request)
        if remote_static is not None and fields["device"]["dh"] != remote_static.hex():
            raise NotAllowed("the join request does not match the connecting device")
        if area is not None and (fields["circle"], fields["invite"]) != area:
            raise NotAllowed("the join request names another invite than the one its join area is for")
        if fields["circle"] not in self.repo.ids():
            raise NotAllowed("this device is not in the circle the invite names")
        circle = self.repo.open(fields["circle"])
        invite = circle.state.invites.get(fields["invite"])
        if invite is None:
            raise NotAllowed("unknown invite")
        device = fields["device"]
        device_id = device_id_of(bytes.fromhex(device["sign"]))
        if _already_admitted(circle.state, invite, device, device_id, fields["proof"]):
            # A retry after the welcome was lost on the way (dropped connection,
            # killed process): the device is in, so it gets the circle again and
            # the invite is not used a second time.
            return self._welcome(circle, device_id)
        if invite.revoked:
            raise NotAllowed("that invite was revoked")
        if invite.closed_by is not None:
            raise NotAllowed("that invite was closed when a member was removed: ask an organizer for a new one")
        if invite.expires * 1000 < to_millis(self.clock()):
            raise NotAllowed("that invite has expired")
        if invite.used >= invite.uses:
            raise NotAllowed("that invite has been used up")
        existing = circle.state.devices.get(device_id)
        member_id = invite.for_member or invite.readmit or (existing.member if existing else device_id)
        lockboxes = admission_lockboxes(circle.state, circle.keys, device_id, bytes.fromhex(device["dh"]))
        if not lockboxes:
            raise NotAllowed("this device holds no current key to share")
        self.membership.act(circle.id, "admit", {"invite": invite.id, "member": member_id, "device": device,
                                       "proof": fields["proof"], "lockboxes": lockboxes})
        return self._welcome(circle, device_id)

    def _welcome(self, circle: OpenCircle, device_id: str) -> bytes:
        """The whole circle, sealed to one admitted device."""
        content = BundleContent(
            actions=tuple(a.wire for a in circle.actions.values()),
            heads=tuple(h.encode() for h in circle.heads.values()),
            document=circle.document.save(),
        )
        return self.exchange.seal_for(circle, device_id, WELCOME, content)


def _already_admitted(state: GovernanceState, invite: InviteState, device: dict, device_id: str, proof: str) -> bool:
    """The requesting device is an active member's device and the request proves
    it holds a code of this circle (any invite the log knows, used up or not)."""
    admitted = state.devices.get(device_id)
    if admitted is None or not admitted.active or state.role_of(admitted.member) is None:
        return False
    if admitted.dh_pub.hex() != device["dh"]:
        return False
    return DevicePublic(bytes.fromhex(invite.key), b"").verify(
        bytes.fromhex(proof), admit_proof_message(state.circle_id, invite.id, device))


def _decode_code(code: str) -> InviteCode:
    try:
        return InviteCode.decode(code)
    except InviteCodeError as exc:
        raise InvalidInput(str(exc)) from None


def _parse_request(request: bytes) -> dict:
    try:
        if len(request) > MAX_REQUEST_BYTES:
            raise ValueError("too large")
        fields = json.loads(request)
        if not isinstance(fields, dict) or set(fields) != {"v", "circle", "invite", "device", "proof"}:
            raise ValueError("wrong fields")
        if fields["v"] != 1 or canonical(fields) != request:
            raise ValueError("not canonical")
        device = fields["device"]
        if not isinstance(device, dict) or set(device) != {"sign", "dh"}:
            raise ValueError("bad device")
        for value, length in ((fields["circle"], 32), (fields["invite"], 16), (device["sign"], 64),
                              (device["dh"], 64), (fields["proof"], 128)):
            if not isinstance(value, str) or len(value) != length:
                raise ValueError("bad field")
            bytes.fromhex(value)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: deeply nested JSON
        raise BundleRejected("join request refused: malformed") from None
    return fields
