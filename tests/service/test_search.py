"""Search: whole words and phrases, no case or diacritics, newest first with a snippet, and
nothing the reader may not see (hidden bodies, deleted posts) reaching the results."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from tests.helpers.in_process import Net

from circle.cli.output import safe
from circle.domain.search import TextIndex, fold, parse, snippet
from circle.errors import InvalidInput


def _clock(start: datetime):
    now = [start]

    def tick() -> datetime:
        now[0] += timedelta(minutes=1)
        return now[0]

    return tick


@pytest.fixture
def walkers(tmp_path):
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    net = Net(tmp_path)
    clock = _clock(start)  # one clock for both: "newest" is then the order of writing
    ana, ben = net.profile("ana", clock=clock), net.profile("ben", clock=clock)
    net.cid = ana.create_circle("Walkers")
    net.join(ana, ben)
    return net, ana, ben


def _bodies(result) -> list[str]:
    return [hit.post.body for hit in result.hits]


def test_words_match_whole_without_case_or_diacritics_and_all_must_occur(walkers):
    net, ana, _ = walkers
    for body in ("Met at the Café Müller today.", "cafeteria food again", "The CAFE was closed",
                 "Straße was quiet, the cafe too"):
        ana.post(net.cid, body)
    assert _bodies(ana.search(net.cid, "cafe")) == [
        "Straße was quiet, the cafe too", "The CAFE was closed", "Met at the Café Müller today."]
    assert _bodies(ana.search(net.cid, "café MULLER")) == ["Met at the Café Müller today."]
    assert _bodies(ana.search(net.cid, "strasse cafe")) == ["Straße was quiet, the cafe too"]
    assert _bodies(ana.search(net.cid, "cafet")) == []  # no word starts count


def test_a_quoted_phrase_is_its_words_in_order_and_punctuated_words_are_a_phrase(walkers):
    net, ana, _ = walkers
    ana.post(net.cid, "I went for a walk, then home.")
    ana.post(net.cid, "A walk? I went for it.")
    ana.post(net.cid, "Some self harm thoughts.")
    ana.post(net.cid, "Self-harm came up again.")
    assert _bodies(ana.search(net.cid, '"went for a walk"')) == ["I went for a walk, then home."]
    assert len(ana.search(net.cid, "went walk").hits) == 2
    assert _bodies(ana.search(net.cid, '"walk then"')) == ["I went for a walk, then home."]
    assert _bodies(ana.search(net.cid, "self-harm")) == ["Self-harm came up again.", "Some self harm thoughts."]


def test_results_are_newest_first_limited_with_the_total_and_a_marked_snippet(walkers):
    net, ana, ben = walkers
    long_start = "word " * 60
    ana.post(net.cid, "first walk")
    net.send(ana, ben)
    ben.post(net.cid, long_start + "a long walk by the river " + "after " * 60)
    net.send(ben, ana)
    ana.post(net.cid, "third walk")
    result = ana.search(net.cid, "WALK", limit=2)
    assert result.total == 3 and _bodies(result)[0] == "third walk"
    assert result.hits[1].post.author_id == net.mid(ben)
    hit = result.hits[1]
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…") and len(hit.snippet) <= 122
    assert [hit.snippet[a:b] for a, b in hit.marks] == ["walk"]
    assert "a long walk by the river" in hit.snippet
    assert [ana.search(net.cid, "third").hits[0].snippet] == ["third walk"]


def test_a_warning_is_searched_too_and_filters_fold_hits_without_a_snippet(walkers):
    net, ana, ben = walkers
    ana.post(net.cid, "It has been a hard year since the funeral.", content_warning="Grief")
    ana.post(net.cid, "A good year on the whole.")
    net.send(ana, ben)
    assert len(ben.search(net.cid, "grief").hits) == 1
    ben.set_cw_filters(["grief"])
    hits = ben.search(net.cid, "year").hits
    assert [(h.post.body, h.folded, h.snippet) for h in hits] == [
        ("A good year on the whole.", None, "A good year on the whole."),
        ("It has been a hard year since the funeral.", "matches your filter: grief", ""),
    ]
    assert ana.search(net.cid, "year").hits[1].folded is None  # filters are the reader's own


def test_hidden_bodies_reach_only_moderators_and_deleted_posts_no_one(walkers):
    net, ana, ben = walkers
    secret = ben.post(net.cid, "my secret plan involves marmalade")
    gone = ben.post(net.cid, "marmalade recipe, deleted later")
    net.send(ben, ana)
    ana.hide(net.cid, secret.id, "off topic")
    net.send(ana, ben)
    ben.delete(net.cid, gone.id)
    net.send(ben, ana)
    assert ben.search(net.cid, "marmalade").total == 0  # the author is no moderator: hidden from them too
    assert ben.search(net.cid, "deleted").total == 0
    moderator = ana.search(net.cid, "marmalade")
    assert [(h.post.id, h.post.hidden) for h in moderator.hits] == [(secret.id, True)]
    assert ana.search(net.cid, "recipe").total == 0


def test_an_index_follows_new_posts_and_search_all_merges_circles(walkers):
    net, ana, _ = walkers
    ana.post(net.cid, "rain all day")
    assert ana.search(net.cid, "rain").total == 1
    ana.post(net.cid, "more rain")
    assert ana.search(net.cid, "rain").total == 2
    other = ana.create_circle("Readers")
    ana.post(other, "rain on the windows, good for reading")
    result = ana.search_all("rain")
    assert [(h.circle_id, h.post.body) for h in result.hits] == [
        (other, "rain on the windows, good for reading"), (net.cid, "more rain"), (net.cid, "rain all day")]
    assert result.total == 3


def test_hostile_text_in_a_hit_is_shown_safely(walkers):
    net, ana, ben = walkers
    ben.post(net.cid, "walk \x1b]52;c;ZXZpbA==\x07 \x1b[31mred\x1b[0m \u202eevil\u202c here")
    net.send(ben, ana)
    hit = ana.search(net.cid, "red").hits[0]
    assert "\x1b" not in hit.snippet and "\u202e" not in hit.snippet
    assert [hit.snippet[a:b] for a, b in hit.marks] == ["red"]
    assert safe(hit.snippet) == hit.snippet
    # An escape sequence's letters are no words of the post.
    assert ana.search(net.cid, "ZXZpbA").total == 0


def test_bad_queries_are_refused_in_one_line(walkers):
    net, ana, _ = walkers
    for text in ("", '  "" ', "...", "x" * 201):
        with pytest.raises(InvalidInput):
            ana.search(net.cid, text)
    with pytest.raises(InvalidInput):
        ana.search(net.cid, "walk", limit=0)


def test_folding_in_one_piece_equals_folding_each_character():
    text = "Ǆemal ŒUVRE ﬁne Straße Çà İstanbul ǰ x\x00y"
    assert fold(text) == "".join(fold(c) for c in text)
    assert "\x00" not in fold(text)


def test_the_index_never_matches_across_two_items():
    index = TextIndex(["we went", "walk home", "we went walk"])
    assert index.matching(parse('"went walk"')) == [2]
    assert index.matching(parse("went walk")) == [2]
    assert index.matching(parse("home")) == [1]
    assert snippet("Crème brûlée, BRULEE!", parse("brulee")).marks == ((6, 12), (14, 20))
