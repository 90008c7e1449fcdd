"""Issue 16: every answer names public sources a reader can find, never the team's internal
fact sheet; the answers that once cited only that sheet now cite the publications."""

from __future__ import annotations

import pytest

from bot.content import load_content

from .conftest import REAL_CONTENT


@pytest.fixture(scope="module")
def content():
    return load_content(REAL_CONTENT)


def test_no_source_points_to_the_internal_fact_sheet(content):
    cited = [(a.id, s.title) for a in content.answers.values() for s in a.sources
             if "FACTS" in f"{s.title} {s.document or ''} {s.link or ''}"]
    assert cited == []


@pytest.mark.parametrize("answer_id, must_cite", [
    ("gravity_concentration", "unep.org"),
    ("borax_smelting", "10.5696/2156-9614-9.24.191205"),       # Stoffersen et al. 2019, Uganda
    ("more_mercury", "10.5696/2156-9614-9.24.191205"),
    ("retort", "unep.org"),
    ("cyanide", "10.1007/s40572-016-0113-0"),                  # Drace, Kiefer, Veiga 2016
    ("ml_seasonal_closure", "saison-des-pluies"),              # ministry communiqué, June 2024
    ("sn_child_labour", "business-humanrights.org"),
    ("ml_violence_help", "unwomen.org"),
    ("gn_violence_help", "mediaguinee.org"),
    ("sn_violence_help", "pasneeg.sn"),
])
def test_the_answer_cites_the_publication_by_its_link(content, answer_id, must_cite):
    links = " ".join(s.link or "" for s in content.answer(answer_id).sources)
    assert must_cite in links


def test_the_borax_figure_is_the_one_its_study_reports(content):
    answer = content.answer("borax_smelting")
    assert "1,4 g au lieu de 1,0 g" in answer.text("fr").short
    assert any("1,4 g contre 1,0 g" in s.title for s in answer.sources)


def test_the_malian_numbers_in_doubt_stay_marked_to_verify(content):
    answer = content.answer("ml_violence_help")
    assert answer.review.status == "to_verify"
    assert any("80333" in s.title and "à vérifier" in s.title for s in answer.sources)
