"""Issue 16, corrections: each answer says no more than its sources, in the wording pinned here."""

from __future__ import annotations

import re

import pytest

from bot.content import load_content

from .conftest import REAL_CONTENT


@pytest.fixture(scope="module")
def content():
    return load_content(REAL_CONTENT)


def full_text(answer, lang: str = "fr") -> str:
    text = answer.text(lang)
    return "\n".join(filter(None, [text.short, text.more, answer.caveat]))


def sources_text(answer) -> str:
    return "\n".join(f"{s.title} {s.link or ''} {s.document or ''}" for s in answer.sources)


def test_mali_children_names_the_2024_arrete_and_light_tasks(content):
    answer = content.answer("ml_child_labour")
    short = answer.text("fr").short
    assert "2024-2109" in short and "5 juillet 2024" in short
    assert "13 ou 14 ans" in short and "travaux légers" in short
    # what stays forbidden under 18, said plainly
    for word in ("18 ans", "puits", "mercure", "cyanure"):
        assert word in short, word
    # no blanket "no under-18 may work" any more
    assert "ne doivent pas travailler sur les sites" not in short
    assert "2024-2109" in sources_text(answer)


def test_mali_bans_say_which_code_states_them(content):
    answer = content.answer("ml_banned")
    short = answer.text("fr").short
    assert "codes miniers de 2019 et de 2023" in short  # dredging: L'Essor, 2025
    assert "code de 2019" in short and "code de 2023" in short and "pas encore vérifié" in short
    assert answer.to_verify and "direction régionale des mines" in answer.caveat
    assert "2019-1344" in answer.text("fr").more
    assert "lessor.ml" in sources_text(answer)
    # children: hazardous work forbidden under 18, not "no child on site"
    assert "travail dangereux" in short and "18 ans" in short


def test_guinea_selling_gold_is_hedged_with_where_to_check(content):
    answer = content.answer("gn_sell_gold")
    assert answer.to_verify
    short = answer.text("fr").short
    assert "source ancienne" in short
    assert "BCRG" in short and "direction préfectorale des mines" in short
    assert "BCRG" in answer.caveat and "direction préfectorale des mines" in answer.caveat
    assert any(s.link for s in answer.sources)


def test_guinea_bans_name_cyanide_from_the_2024_communique(content):
    short = content.answer("gn_banned").text("fr").short
    assert "cyanure" in short and "21 juin 2024" in short
    assert "mercure" in short and "enfants" in short


def test_senegal_couloir_figures_are_hedged_and_dated(content):
    answer = content.answer("sn_couloirs")
    short = answer.text("fr").short
    assert "13 couloirs" in short and "ne sont pas confirmés" in short
    assert "2014" in short  # the first couloir, dated by TV5Monde
    assert answer.to_verify and "pas datée" in answer.caveat


def test_senegal_gie_authorisation_wording_and_both_amounts(content):
    answer = content.answer("sn_gie_permit")
    text = full_text(answer)
    assert answer.title("fr") == "Autorisation de GIE"
    assert "autorisation d'exploitation artisanale" in text
    assert "1 500 000 FCFA" in text and "7 500 000 FCFA" in text
    assert "ancien régime" in answer.text("fr").short
    assert "8321" in sources_text(answer)
    assert answer.to_verify


def test_no_gie_permit_in_the_present_tense(content):
    for answer in content.answers.values():
        text = full_text(answer)
        assert not re.search(r"GIE[^.]*peut[^.]*permis", text), answer.id
        assert "permis d'exploitation artisanale" not in text, answer.id
    for option in content.guide("group").options:
        for step in option.steps:
            assert "permis d'exploitation artisanale" not in step.text("fr"), step.id


def test_no_unsourced_30_percent_mercury_recovery(content):
    for answer in content.answers.values():
        for lang in answer.texts:
            assert "30 %" not in full_text(answer, lang), (answer.id, lang)
    short = content.answer("borax_smelting").text("fr").short
    assert "1,4 g" in short and "1,0 g" in short and "même minerai" in short


@pytest.mark.parametrize("answer_id", ["mercury_health", "retort"])
def test_mercury_amalgam_only_in_a_retort_and_never_handled_by_the_vulnerable(content, answer_id):
    short = content.answer(answer_id).text("fr").short
    assert "seulement dans une cornue" in short
    assert "enceintes ou qui allaitent" in short and "enfants" in short
    assert "jamais toucher le mercure ni l'amalgame" in short


def test_bambara_mercury_draft_carries_the_same_rules(content):
    bm = content.answer("mercury_health").text("bm")
    assert bm.lang == "bm" and bm.status == "draft"
    assert "cornue" in bm.short and "sin" in bm.short  # breastfeeding (den sin) named too


PIT_RULE = ("N'entrez jamais dans un puits effondré, inondé ou abandonné, même pour aider : "
            "appelez à l'aide et aidez depuis le bord.")


def test_accident_and_pit_safety_give_one_rule_on_collapsed_or_flooded_pits(content):
    for answer_id in ("accident", "pit_safety"):
        short = content.answer(answer_id).text("fr").short
        assert PIT_RULE in short, answer_id
        assert "Ne descendez pas seul dans un puits effondré" not in short
    # no answer anywhere allows entering such a pit with company
    for answer in content.answers.values():
        assert not re.search(r"pas seul[^.]*(effondré|inondé)", full_text(answer)), answer.id


def test_every_unchecked_number_carries_its_last_checked_note(content):
    with_numbers = [a for a in content.answers.values() if a.contacts]
    helps = {"ml_violence_help", "gn_violence_help", "sn_violence_help"}
    assert helps <= {a.id for a in with_numbers}
    for answer in with_numbers:
        if any(c.last_checked is None for c in answer.contacts):
            assert answer.to_verify, answer.id
            assert "pas encore revérifié" in answer.caveat, answer.id
            assert "dernière vérification" in answer.caveat, answer.id
            for lang in ("fr", "bm", "wo"):
                assert answer.caveat in answer.message(lang)


def test_checker_refuses_an_unchecked_number_shown_as_plain_fact(tmp_path):
    import shutil

    import yaml

    from bot.content import check_content

    root = tmp_path / "content"
    shutil.copytree(REAL_CONTENT, root)
    path = root / "answers" / "protection.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for answer in data["answers"]:
        if answer["id"] == "sn_violence_help":
            answer.pop("caveat")
            answer["review"]["status"] = "draft"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    _, problems, _ = check_content(root)
    assert any("never been checked" in str(p) and "sn_violence_help" in str(p) for p in problems)
