"""Python turns bytes that are not UTF-8 (in argv, the environment, a JSON file) into lone
surrogates; every service entry that takes a person's text or passphrase refuses one with a
CircleError, never a raw UnicodeEncodeError, and stores nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.helpers.cli import PASSPHRASE, Cli
from tests.helpers.cli import one_line, raw

from circle.domain.models import CrisisResource
from circle.errors import InvalidInput
from circle.service import Service

LONE = "ok\udc80"


@pytest.fixture(scope="module")
def ana(tmp_path_factory):
    service = Service.create_profile(tmp_path_factory.mktemp("surrogate") / "ana", "Ana", PASSPHRASE)
    yield service
    service.close()


ENTRIES = {
    "circle name": lambda s, c: s.create_circle(LONE),
    "purpose": lambda s, c: s.create_circle("Walkers", LONE),
    "rename": lambda s, c: s.rename(c, LONE),
    "post": lambda s, c: s.post(c, LONE),
    "content warning": lambda s, c: s.post(c, "hi", content_warning=LONE),
    "check-in note": lambda s, c: s.checkin(c, 3, note=LONE),
    "guidelines": lambda s, c: s.set_guidelines(c, LONE),
    "resource": lambda s, c: s.add_resource(c, CrisisResource(LONE, "123")),
    "mute reason": lambda s, c: s.mute(c, "Ana", timedelta(hours=1), LONE),
    "filter topic": lambda s, c: s.set_cw_filters([LONE]),
    "invite hint": lambda s, c: s.invite(c, hints=(f"{LONE}:7000",)),
}


@pytest.mark.parametrize("entry", ENTRIES.values(), ids=ENTRIES.keys())
def test_a_lone_surrogate_is_one_clear_error_and_nothing_is_stored(ana, entry):
    circle = ana.create_circle("Walkers")
    before = (ana.circles(), ana.feed(circle), ana.info(circle), ana.invites(circle))
    with pytest.raises(InvalidInput, match="not valid UTF-8"):
        entry(ana, circle)
    assert (ana.circles(), ana.feed(circle), ana.info(circle), ana.invites(circle)) == before


def test_a_passphrase_with_a_lone_surrogate_is_refused_on_create_and_unlock(tmp_path):
    with pytest.raises(InvalidInput, match="passphrase is not valid UTF-8"):
        Service.create_profile(tmp_path / "new", "Ana", PASSPHRASE + LONE)
    assert not (tmp_path / "new" / "circle.db").exists()
    Service.create_profile(tmp_path / "ana", "Ana", PASSPHRASE).close()
    with pytest.raises(InvalidInput, match="passphrase is not valid UTF-8"):
        Service.unlock(tmp_path / "ana", PASSPHRASE + LONE)
    Service.unlock(tmp_path / "ana", PASSPHRASE).close()


def test_the_cli_refuses_a_circle_name_that_is_not_utf8(profile_cli: Cli):
    for name in (b"\xed\xb2\x80", b"\x80", b"Walk\xffers"):  # a surrogate's own bytes; stray bytes
        assert "argument 2 is not valid UTF-8" in one_line(raw(profile_cli, "new", name))
    assert profile_cli.ok("circles", "--json").json() == []
