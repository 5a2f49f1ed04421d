"""Roles and statuses are enums (domain/roles.py) that print, format and serialise
exactly as the plain words they replaced: signed actions and CLI output are unchanged."""

from __future__ import annotations

import json

import pytest
from cli_in_process import InProcessCli
from conftest import PASSPHRASE

from circle.crypto.identity import DeviceIdentity
from circle.domain.governance.actions import decode_action, sign_action
from circle.domain.governance.resolver import resolve
from circle.domain.roles import Evidence, InviteStatus, MemberStatus, ReportStatus, Role
from circle.service import Service

ALL = [*Role, *MemberStatus, *InviteStatus, *ReportStatus, *Evidence]


@pytest.mark.parametrize("word", ALL, ids=lambda w: f"{type(w).__name__}.{w.name}")
def test_every_word_shows_as_its_plain_value(word):
    value = word.value
    assert type(value) is str
    assert word == value and hash(word) == hash(value) and {value: 1}[word] == 1
    assert str(word) == f"{word}" == "%s" % word == "{}".format(word) == value
    assert f"{word:>12}" == f"{value:>12}"
    assert json.dumps(word) == json.dumps(value) and json.dumps({"r": word}, ensure_ascii=False) == f'{{"r": "{value}"}}'
    assert type(word)(value) is word


@pytest.mark.parametrize("role", list(Role))
def test_a_signed_role_change_is_byte_identical_and_resolves_to_the_enum(role):
    founder, other = DeviceIdentity.generate(), DeviceIdentity.generate()
    genesis = sign_action(founder, None, "create", [], 1000,
                          {"name": "Walkers", "nonce": "00" * 16,
                           "device": {"sign": founder.public.sign_pub.hex(), "dh": founder.public.dh_pub.hex()}})
    circle = genesis.id[:32]
    body = {"member": other.device_id}
    as_enum = sign_action(founder, circle, "set_role", [genesis.id], 2000, {**body, "role": role})
    as_word = sign_action(founder, circle, "set_role", [genesis.id], 2000, {**body, "role": role.value})
    assert as_enum.wire == as_word.wire and as_enum.id == as_word.id
    decoded = decode_action(as_enum.wire)
    assert type(decoded.body["role"]) is str  # what was stored reads back as the word
    state = resolve(circle, [genesis])
    assert state.role_of(founder.device_id) is Role.ORGANIZER
    assert state.members[founder.device_id].status is MemberStatus.ACTIVE


def test_cli_output_shows_the_plain_words(tmp_path):
    ana = Service.create_profile(tmp_path / "ana", "Ana", PASSPHRASE)
    bo = Service.create_profile(tmp_path / "bo", "Bo", PASSPHRASE)
    circle = ana.create_circle("Walkers")
    code = ana.invite(circle)
    bo.accept_welcome(code, ana.admit_request(bo.join_request(code)))
    ana.receive_bundle(bo.bundle_for(circle, ana.whoami().device_id))
    ids = {"ana": ana.whoami().member_id, "bo": bo.whoami().member_id}
    for service in (ana, bo):
        service.close()
    cli = InProcessCli(tmp_path / "ana")
    cli.ok("role", circle, ids["bo"], "moderator")
    cli.ok("invite", circle)
    lines = cli.ok("members", circle).stdout.splitlines()
    assert [line.split("  ", 1)[1] for line in lines] == ["Ana  organizer", "Bo  moderator"]
    records = json.loads(cli.ok("members", circle, "--json").stdout)
    assert [(r["role"], r["status"]) for r in records] == [("organizer", "active"), ("moderator", "active")]
    assert json.loads(cli.ok("invites", circle, "--json").stdout)[-1]["status"] == "open"
    assert cli.ok("invites", circle).stdout.splitlines()[-1].split("  ")[1] == "open"
    cli.ok("remove", circle, ids["bo"], "--reason", "test")
    departed = cli.ok("members", circle, "--all").stdout.splitlines()
    assert departed[1].endswith("Bo  moderator  (removed)")
    log = cli.ok("modlog", circle).stdout
    assert "moderator" in log and "Role." not in log and "MemberStatus." not in log
