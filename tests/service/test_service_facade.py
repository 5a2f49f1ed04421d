"""The Service facade: each public method is one part's, wired explicitly, and
what runs after others' governance actions arrive is written once, in order."""

from __future__ import annotations

import inspect

from circle.service import Service, _Forward
from circle.service.admission import Admission
from circle.service.checkins import CheckIns
from circle.service.circles import Circles
from circle.service.content import Content
from circle.service.events import Events
from circle.service.exchange import Exchange
from circle.service.membership import Membership
from circle.service.peer_book import PeerBook
from circle.service.polls import Polls
from circle.service.preferences import Preferences
from circle.service.quiet import Quiet
from circle.service.repository import CircleRepository
from circle.service.relays import Relays
from circle.service.safety import Safety
from circle.service.search import Search
from tests.helpers.in_process import Net

PARTS = {"repo": CircleRepository, "prefs": Preferences, "content": Content, "calendar": Events,
         "mood": CheckIns,
         "catalog": Circles, "membership": Membership, "safety": Safety, "exchange": Exchange,
         "admission": Admission, "relaying": Relays, "finder": Search, "quiet": Quiet,
         "polling": Polls, "peer_book": PeerBook}


def test_the_facade_inherits_nothing_and_forwards_to_the_part_that_defines_the_method():
    assert Service.__bases__ == (object,)
    forwards = {name: value for name, value in vars(Service).items() if isinstance(value, _Forward)}
    assert len(forwards) > 80
    for name, forward in forwards.items():
        part = PARTS[forward.part]
        assert forward.method is vars(part)[name], f"Service.{name} is not {part.__name__}.{name}"
        # On the class, the signature reads as the part's own method.
        assert inspect.signature(getattr(Service, name)) == inspect.signature(vars(part)[name])


def test_no_public_method_of_a_part_is_reachable_from_two_parts():
    owners: dict[str, list[str]] = {}
    for label, part in PARTS.items():
        for name, value in vars(part).items():
            if callable(value) and not name.startswith("_"):
                owners.setdefault(name, []).append(label)
    # `now_ms` is the clock read in milliseconds, a one-liner each part that signs needs.
    twice = {name: labels for name, labels in owners.items() if len(labels) > 1 and name != "now_ms"}
    assert twice == {}


def test_each_instance_wires_its_own_parts(tmp_path):
    net = Net(tmp_path)
    ana, ben = net.profile("Ana"), net.profile("Ben")
    assert ana.post.__self__ is ana.content and ben.post.__self__ is ben.content
    assert ana.content.repo is ana.repo and ana.safety.membership is ana.membership
    assert ana.exchange.after_new_actions == ana._after_new_actions


def test_after_new_actions_heals_keys_before_it_reviews_reports(tmp_path):
    service = Net(tmp_path).profile("Ana")
    calls = []
    service.membership.heal_keys = lambda cid: calls.append(("heal", cid)) or False  # type: ignore[method-assign]
    service.safety.review_reports = lambda cid: calls.append(("review", cid)) or []  # type: ignore[method-assign]
    service._after_new_actions("c1")
    assert calls == [("heal", "c1"), ("review", "c1")]


def test_a_leave_arriving_by_bundle_rotates_the_key_and_reports_arriving_fold_the_post(tmp_path):
    """The hook does real work when actions come in over the exchange: the
    organizer's device folds a post once two members' reports arrive, and
    rotates the key once a member's leave arrives, with nobody at it."""
    net = Net(tmp_path)
    bea, ana, cy, dan = (net.profile(n) for n in ("Bea", "Ana", "Cy", "Dan"))
    net.cid = bea.create_circle("Circle")
    net.join(bea, ana, cy, dan)
    bea.set_report_policy(net.cid, 2)
    for other in (ana, cy, dan):
        net.send(bea, other)
    post = ana.post(net.cid, "a post two members report")
    for reporter in (cy, dan):
        net.send(ana, reporter)
        reporter.report(net.cid, post.id, "not kind")
        net.send(reporter, bea)
    assert bea.resolve_post(net.cid, post.id).collapsed_reason is not None

    epochs = len(bea.open_circle(net.cid).state.epoch_order)
    cy.leave(net.cid)
    assert cy.open_circle(net.cid).state.needs_rekey  # nobody has rotated yet
    net.send(cy, bea)
    state = bea.open_circle(net.cid).state
    assert not state.needs_rekey and len(state.epoch_order) == epochs + 1
