"""The real content/: it passes the check and says what the fact sheet says, per country."""

from __future__ import annotations

import re

import pytest

from bot.content import COUNTRIES, LANGUAGES, check_content, load_content
from bot.content._schema import CONTENT_INTENTS, LIST_ROW_TITLE_MAX, PARTNERS

from .conftest import REAL_CONTENT


@pytest.fixture(scope="module")
def content():
    return load_content(REAL_CONTENT)


def test_real_content_passes_the_check():
    content, problems, _ = check_content(REAL_CONTENT)
    assert [str(p) for p in problems] == []
    assert content is not None and len(content.answers) >= 30


def test_every_content_intent_has_an_answer_in_every_country(content):
    for intent in CONTENT_INTENTS:
        for country in COUNTRIES:
            answer = content.answer_for(intent, country)
            assert answer is not None, (intent, country)
            assert country in answer.countries


@pytest.mark.parametrize("intent", ["get_authorisation", "sell_gold", "banned_practices",
                                    "couloirs", "seasonal_closure", "foreigners_rules",
                                    "violence_help", "child_labour", "grievance_channels"])
def test_answers_differ_by_country(content, intent):
    answers = {c: content.answer_for(intent, c) for c in COUNTRIES}
    assert len({a.id for a in answers.values()}) == 3
    assert len({a.text("fr").short for a in answers.values()}) == 3
    assert content.intent_needs_country(intent)
    assert content.answer_for(intent, None) is None  # never guess the country


def test_per_country_ids_follow_the_naming(content):
    assert content.answer_for("get_authorisation", "ML").id == "ml_authorisation"
    assert content.answer_for("get_authorisation", "GN").id == "gn_authorisation"
    assert content.answer_for("get_authorisation", "SN").id == "sn_authorisation"
    assert content.answer("gn_sell_gold").countries == frozenset({"GN"})


def test_general_answers_do_not_need_a_country(content):
    for intent in ("retort", "mercury_health", "pit_safety", "form_cooperative", "more_mercury"):
        assert not content.intent_needs_country(intent)
        assert content.answer_for(intent, None) is content.answer_for(intent, "SN")


def test_unknown_answer_is_a_key_error(content):
    with pytest.raises(KeyError):
        content.answer("no_such_answer")


def test_country_facts(content):
    ml = content.answer("ml_seasonal_closure").text("fr").short
    assert "15 juin" in ml and "30 septembre" in ml
    assert "5 mars 2025" in content.answer("ml_foreigners").text("fr").short
    gn = content.answer("gn_sell_gold").text("fr").short
    assert "BCRG" in gn and "collecteur agréé" in gn
    assert "comptoir agréé" in content.answer("sn_sell_gold").text("fr").short
    assert "13 couloirs" in content.answer("sn_couloirs").text("fr").short
    assert "17 octobre 2024" in content.answer("gn_authorisation").text("fr").short
    banned = content.answer("ml_banned").text("fr").short
    for word in ("mercure", "cyanure", "dragage", "18 ans"):
        assert word in banned


def test_group_forms(content):
    coop = content.answer("form_cooperative").text("fr").short
    assert "5 membres" in coop and "15 membres" in coop
    assert "Registre des sociétés coopératives" in coop
    gie = content.answer("form_gie").text("fr")
    assert "2 membres" in gie.short and "RCCM" in gie.short and "biens personnels" in gie.short


def test_borax_field_trial_figures(content):
    short = content.answer("borax_smelting").text("fr").short
    assert "40 %" in short and "1,4 g" in short and "1,0 g" in short and "Ouganda" in short


def test_more_mercury_never_gives_a_dosage(content):
    answer = content.answer("more_mercury")
    text = answer.text("fr").short + (answer.text("fr").more or "")
    dose = r"\d+([.,]\d+)?\s*(g|kg|mg|ml|cl|l|litres?|grammes?|gouttes?)\b"
    assert not re.search(dose, text, re.I)
    assert "borax" in text and "gravité" in text
    assert answer.related[0] == "answer:borax_smelting"


def test_to_verify_answers_carry_a_french_caveat(content):
    to_verify = [a for a in content.answers.values() if a.to_verify]
    assert {"ml_authorisation", "gn_authorisation", "sn_authorisation", "ml_violence_help"} <= {
        a.id for a in to_verify}
    for answer in to_verify:
        assert answer.caveat and "confirm" in answer.caveat.lower(), answer.id
        assert answer.caveat in answer.message("fr")
        assert answer.caveat in answer.message("bm")


def test_unknown_facts_are_flagged_not_stated(content):
    # Fees and issuers are unknown (FACTS.md, "Gaps"): the answers say so and offer a follow-up.
    for answer_id in ("ml_authorisation", "gn_authorisation", "ml_sell_gold", "accident"):
        answer = content.answer(answer_id)
        assert answer.to_verify
        assert "flow:report:start" in answer.related
    assert "pas encore confirmés" in content.answer("gn_authorisation").text("fr").short
    assert "pas de numéro d'urgence vérifié" in content.answer("accident").text("fr").short


def test_mali_hotline_doubt_is_visible(content):
    ml = content.answer("ml_violence_help")
    assert "80 00 11 32" in ml.text("fr").short and "80333" in ml.caveat
    assert ml.to_verify
    for answer_id in ("ml_violence_help", "gn_violence_help", "sn_violence_help"):
        contacts = content.answer(answer_id).contacts
        assert contacts and all(c.last_checked is None for c in contacts)  # until a partner checks
    assert "116" in content.answer("sn_violence_help").text("fr").short
    assert "*1000*1#" in content.answer("gn_violence_help").text("fr").short


def test_reviews_name_a_partner_and_nothing_is_reviewed_yet(content):
    for answer in content.answers.values():
        assert answer.review.organisation in PARTNERS
        assert answer.review.status in ("draft", "to_verify")
        assert answer.review.date is None


def test_every_fact_has_a_source(content):
    for answer in content.answers.values():
        if answer.topic != "navigation":
            assert answer.sources, answer.id
            assert all(s.read and (s.link or s.document) for s in answer.sources)


def test_local_language_texts_are_drafts(content):
    for answer in content.answers.values():
        for lang, text in answer.texts.items():
            if lang != "fr":
                assert text.status == "draft", (answer.id, lang)
    for menu in content.menus.values():
        for lang, text in menu.texts.items():
            if lang != "fr":
                assert text.status == "draft"


def test_bambara_drafts_for_the_most_asked(content):
    for answer_id in ("ml_authorisation", "ml_seasonal_closure", "mercury_health",
                      "ml_violence_help"):
        bm = content.answer(answer_id).text("bm")
        assert bm.lang == "bm" and bm.status == "draft"
        assert bm.short != content.answer(answer_id).text("fr").short
    assert content.menu("main").text("bm").lang == "bm"


def test_missing_language_falls_back_to_french(content):
    answer = content.answer("retort")
    assert answer.text("wo").lang == "fr"
    assert answer.text("wo") == answer.text("fr")
    assert answer.title("ff") == "Cornue" and answer.title("ff").lang == "fr"
    main = content.menu("main")
    assert main.text("snk").lang == "fr"
    assert [i.title("emk") for i in main.items] == [i.title("fr") for i in main.items]


def test_main_menu_has_the_four_themes(content):
    main = content.menu("main")
    assert [i.choice_id for i in main.items] == [
        "menu:formalisation", "menu:licensing", "menu:safe_practice", "menu:protection"]
    assert [i.title("fr") for i in main.items] == [
        "Formalisation", "Licences et règles", "Pratiques sans mercure", "Problèmes et plaintes"]
    assert "Pratiques sûres sans mercure" in content.menu("safe_practice").text("fr")
    assert "Problèmes et plaintes" in content.menu("protection").text("fr")
    assert all(len(i.title(lang)) <= LIST_ROW_TITLE_MAX for i in main.items for lang in LANGUAGES)
    assert all(i.title("bm").lang == "bm" and i.title("bm").status == "draft" for i in main.items)


def test_content_intents_exist_in_the_rasa_domain():
    domain_file = REAL_CONTENT.parent / "nlu" / "domain.yml"
    assert domain_file.exists(), "nlu/domain.yml is missing"
    import yaml

    domain = yaml.safe_load(domain_file.read_text(encoding="utf-8"))
    intents = {i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents", [])}
    assert set(CONTENT_INTENTS) <= intents


def test_theme_menus_show_each_country_its_own_answers(content):
    licensing = content.menu("licensing")
    assert licensing.needs_country
    for country in COUNTRIES:
        ids = [i.choice_id.removeprefix("answer:") for i in licensing.items_for(country)]
        assert ids and all(content.answer(i).applies_to(country) for i in ids)
        assert len(ids) <= 10


def test_related_titles_resolve(content):
    for answer in content.answers.values():
        for choice_id in answer.related:
            assert content.choice_title(choice_id, "fr")


def test_group_guide(content):
    guide = content.guide("group")
    assert [o.id for o in guide.options] == ["scoops", "coop_ca", "gie"]
    steps = [s.id for o in guide.options for s in o.steps]
    assert len(steps) == len(set(steps))
    assert "15" in guide.step("coop_members").text("fr")
    assert "5" in guide.step("scoops_members").text("fr")
    assert "RCCM" in guide.step("gie_registration").text("fr")
    assert any(d.id == "scoops_member_register" for d in guide.step("scoops_register").documents)
    assert guide.steps("gie")[0].id == "gie_members"


def test_short_forms_are_short(content):
    for answer in content.answers.values():
        assert len(answer.text("fr").short) <= 450, answer.id


def test_fingerprint_is_stable_and_follows_the_files(real_copy):
    first = load_content(real_copy).fingerprint()
    assert first == load_content(real_copy).fingerprint()
    menus = real_copy / "menus.yml"
    menus.write_text(menus.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")
    assert load_content(real_copy).fingerprint() != first
    second = load_content(real_copy).fingerprint()
    (real_copy / "partners.yml").write_text("partners: []\n", encoding="utf-8")  # not ours
    assert load_content(real_copy).fingerprint() == second
