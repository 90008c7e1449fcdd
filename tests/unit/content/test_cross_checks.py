"""The checks between items (validators of bot.content._load.Tree) and the field paths in
messages, each proven by a small broken fixture."""

from __future__ import annotations

from bot.content import check_content

from .conftest import answers_of, menus_of, small_answer, write_tree


def problems_of(root) -> list[str]:
    content, problems, _ = check_content(root)
    assert (content is None) == bool(problems)
    return [str(p) for p in problems]


def test_related_must_be_a_choice_id(make_content):
    def edit(tree):
        answers_of(tree)["retort"]["related"] = ["cyanide", "menu:t1"]
    assert "answers/base.yml [retort]: related 'cyanide' is not a choice id" in "\n".join(
        problems_of(make_content(edit)))


def test_related_may_not_point_to_itself(make_content):
    def edit(tree):
        answers_of(tree)["retort"]["related"] = ["answer:retort", "menu:t1"]
    assert problems_of(make_content(edit)) == [
        "answers/base.yml [retort]: related points to the answer itself"]


def test_related_listed_twice(make_content):
    def edit(tree):
        answers_of(tree)["retort"]["related"] = ["menu:t1", "menu:t1"]
    assert problems_of(make_content(edit)) == [
        "answers/base.yml [retort]: 'related' lists a choice twice"]


def test_a_broken_answer_is_not_reported_as_dangling(make_content):
    def edit(tree):
        answers_of(tree)["retort"]["topic"] = "weather"  # fails its own check
    problems = problems_of(make_content(edit))
    assert len(problems) == 1 and "unknown topic 'weather'" in problems[0]  # not t3's item


def test_menu_item_shown_where_the_answer_does_not_apply(make_content):
    def edit(tree):
        answers_of(tree)["retort"]["countries"] = ["ML"]
        tree["answers/base.yml"]["answers"].append(small_answer("retort_all", "retort", "all"))
    problems = problems_of(make_content(edit))
    assert problems == ["menus.yml [t3]: item 'answer:retort' is shown in countries the answer "
                        "does not cover"]


def test_menu_item_must_be_a_choice_id(make_content):
    def edit(tree):
        menus_of(tree)["t2"]["items"].append({"choice": "Retort!", "title": {"fr": "Cornue"}})
    assert "menus.yml [t2]: item 'Retort!' is not a choice id" in problems_of(make_content(edit))


def test_menu_item_listed_twice(make_content):
    def edit(tree):
        items = menus_of(tree)["t1"]["items"]
        items.append(dict(items[0]))
    problems = problems_of(make_content(edit))
    assert "menus.yml [t1]: item answer:why_formalise is listed twice" in problems


def test_menu_with_nothing_for_a_country(make_content):
    def edit(tree):
        tree["answers/base.yml"]["answers"].append(small_answer("ml_only", None, ["ML"]))
        menus_of(tree)["t4"]["items"] = [{"choice": "answer:ml_only", "countries": ["ML"],
                                          "title": {"fr": "Mali"}}]
    problems = problems_of(make_content(edit))
    assert "menus.yml [t4]: no item is shown to users in GN" in problems
    assert "menus.yml [t4]: no item is shown to users in SN" in problems


def test_main_menu_missing(make_content):
    def edit(tree):
        tree["menus.yml"]["menus"] = [m for m in tree["menus.yml"]["menus"] if m["id"] != "main"]
        for a in tree["answers/base.yml"]["answers"]:
            a["related"] = ["menu:t1", "menu:t2"]
    assert problems_of(make_content(edit)) == ["menus.yml [main]: the main menu is missing"]


def test_main_menu_items_are_themes(make_content):
    def edit(tree):
        menus_of(tree)["main"]["items"][3] = {"choice": "answer:retort", "title": {"fr": "Cornue"}}
    assert problems_of(make_content(edit)) == [
        "menus.yml [main]: the main menu has exactly the four themes (menu:... items)"]


def test_intent_without_any_answer(make_content):
    def edit(tree):
        answers_of(tree)["retort"]["intents"] = []
    assert problems_of(make_content(edit)) == ["answers/ [retort]: no answer for intent 'retort'"]


def test_two_answers_for_all_countries(make_content):
    def edit(tree):
        tree["answers/base.yml"]["answers"].append(small_answer("retort_bis", "retort"))
    assert problems_of(make_content(edit)) == [
        "answers/base.yml [retort_bis]: two answers for all countries on intent 'retort': "
        "retort, retort_bis"]


def test_navigation_answers_need_no_source_others_do(make_content):
    def edit(tree):
        answers_of(tree)["retort"]["sources"] = []
        tree["answers/base.yml"]["answers"].append(
            dict(small_answer("how_to", None), topic="navigation", sources=[]))
    assert problems_of(make_content(edit)) == [
        "answers/base.yml [retort]: missing 'sources' "
        "(at least one: title, link or document, read)"]


GUIDE = {
    "id": "papers", "title": {"fr": "Papiers"}, "intro": {"fr": "Intro."},
    "question": {"fr": "Quelle forme ?"},
    "options": [
        {"id": "gie", "title": {"fr": "GIE"}, "text": {"fr": "Le GIE."},
         "steps": [{"id": "s1", "title": {"fr": "Statuts"}, "text": {"fr": "Rédigez."}}]},
        {"id": "coop", "title": {"fr": "Coopérative"}, "text": {"fr": "La coopérative."},
         "steps": [{"id": "s2", "title": {"fr": "Assemblée"}, "text": {"fr": "Réunissez."},
                    "documents": [{"id": "pv", "title": {"fr": "Procès-verbal"}}]}]},
    ],
    "sources": [{"title": "Code minier", "document": "FACTS.md", "read": "2026-11-28"}],
    "review": {"status": "draft", "organisation": "Pact"},
}


def test_a_valid_guide_loads(make_content):
    root = make_content()
    write_tree(root, {"guides/papers.yml": GUIDE})
    content, problems, _ = check_content(root)
    assert problems == []
    assert content.guide("papers").step("s2").documents[0].title("bm") == "Procès-verbal"


def test_guide_problems_name_the_field(make_content):
    import copy

    guide = copy.deepcopy(GUIDE)
    guide["options"][1]["steps"][0]["id"] = "s1"
    guide["options"][1]["title"]["fr"] = "Coopérative de mineurs"  # 22 > 20 with 2 options
    guide["options"][0]["steps"][0]["text"] = {"bm": "Bamanankan"}
    root = make_content()
    write_tree(root, {"guides/papers.yml": guide})
    assert problems_of(root) == [
        "guides/papers.yml [papers]: 'options[gie].steps[s1].text' has no French (fr) text"]
    guide["options"][0]["steps"][0]["text"] = {"fr": "Rédigez."}
    write_tree(root, {"guides/papers.yml": guide})
    assert problems_of(root) == [
        "guides/papers.yml [papers]: 'options[coop].title.fr' is 22 characters; the limit is 20 "
        "(WhatsApp choice)",
        "guides/papers.yml [papers]: duplicate step id 's1'"]
