"""The circle's settings (name, purpose, guidelines, crisis resources, the quiet-post
threshold) change only by an organizer: the service refuses a plain member, and a
modified client that writes them anyway is ignored by every other device."""

from __future__ import annotations

import contextlib

import pytest

from tests.helpers.in_process import Net

from circle.domain.models import CrisisResource
from circle.errors import InvalidInput, NotAllowed
from circle.service.exchange import BundleRejected


@pytest.fixture
def net(tmp_path):
    return Net(tmp_path)


def settings(service, cid):
    info = service.info(cid)
    return info.name, info.purpose, info.guidelines, [(r.name, r.contact) for r in info.resources], \
        service.quiet_after(cid)


def test_an_organizer_changes_name_and_purpose_and_peers_see_it(net):
    ana, ben = net.profile("Ana"), net.profile("Ben")
    net.cid = ana.create_circle("Walkers", "weekly walks")
    net.join(ana, ben)
    info = ana.set_circle_details(net.cid, name="Tuesday Walkers")
    assert (info.name, info.purpose) == ("Tuesday Walkers", "weekly walks")
    info = ana.set_circle_details(net.cid, purpose="")
    assert (info.name, info.purpose) == ("Tuesday Walkers", "")
    net.send(ana, ben)
    assert (ben.info(net.cid).name, ben.info(net.cid).purpose) == ("Tuesday Walkers", "")
    with pytest.raises(InvalidInput):
        ana.set_circle_details(net.cid, name="  ")
    with pytest.raises(InvalidInput):
        ana.set_circle_details(net.cid, purpose="x" * 501)
    assert ana.info(net.cid).name == "Tuesday Walkers"


def test_a_plain_member_is_refused_every_circle_setting(net):
    ana, ben = net.profile("Ana"), net.profile("Ben")
    net.cid = ana.create_circle("Walkers", "weekly walks")
    ana.set_guidelines(net.cid, "Be kind.")
    ana.add_resource(net.cid, CrisisResource("Phone tree", "07700 900123", "GB", ""))
    net.join(ana, ben)
    resource = ben.info(net.cid).resources[0].id
    before = settings(ben, net.cid)
    attempts = [
        lambda: ben.set_circle_details(net.cid, name="Ben's circle"),
        lambda: ben.set_circle_details(net.cid, purpose="whatever Ben says"),
        lambda: ben.set_guidelines(net.cid, "Ben rules."),
        lambda: ben.add_resource(net.cid, CrisisResource("Call Ben", "555", "", "")),
        lambda: ben.edit_resource(net.cid, resource, contact="555"),
        lambda: ben.remove_resource(net.cid, resource),
        lambda: ben.set_quiet_after(net.cid, 1),
    ]
    for attempt in attempts:
        with pytest.raises(NotAllowed):
            attempt()
    assert settings(ben, net.cid) == before
    net.send(ben, ana)
    assert settings(ana, net.cid) == before


def test_a_modified_client_writing_the_circle_name_is_ignored_by_peers(net):
    ana, ben, cara = net.profile("Ana"), net.profile("Ben"), net.profile("Cara")
    net.cid = ana.create_circle("Walkers", "weekly walks")
    net.join(ana, ben, cara)
    with ben.repo.writing(net.cid) as circle:  # bypassing the service's check
        ben.repo.persist(circle, circle.document.set_circle_field("name", "Hijacked"))
    with contextlib.suppress(BundleRejected):  # refusing the bundle is as good as ignoring it
        net.send(ben, cara)
    assert (cara.info(net.cid).name, ben.info(net.cid).name) == ("Walkers", "Walkers")
