"""Issue 16, item 11: "Sources" under any answer shows its sources and review in one message."""

from __future__ import annotations

import pytest

from bot.actions.dialogue import State, Talk
from bot.actions.sources import sources_text
from bot.channels.render import WHATSAPP_MAX_LIST_ROWS, telegram_messages, whatsapp_messages
from bot.content import get_content
from bot.content._schema import INTERACTIVE_BODY_MAX
from bot.testing.conversation import dialogue as Conversation


def test_every_sourced_answer_offers_sources_and_the_choice_shows_them():
    content = get_content()
    for answer in content.answers.values():
        chat = Conversation(country="ML")
        shown = chat.press(f"answer:{answer.id}")
        if not answer.sources:
            assert f"sources:{answer.id}" not in shown.ids
            continue
        assert f"sources:{answer.id}" in shown.ids, answer.id
        replies = chat.press(f"sources:{answer.id}")
        assert len(replies) == 1
        body = replies[0].text
        assert len(body) <= INTERACTIVE_BODY_MAX, answer.id
        assert answer.sources[0].title in body, answer.id  # at least the first, always
        assert answer.review.organisation in body
        # back to the answer, and the menu
        assert replies.ids == [f"answer:{answer.id}", "menu:main"]


def test_sources_message_names_where_to_read_and_the_review_status():
    chat = Conversation(country="ML")
    replies = chat.press("sources:ml_child_labour")
    body = replies[0].text
    assert body.startswith("Sources de « Enfants sur le site » :")
    assert "2024-2109" in body and "maliweb.net" in body and "(lu le 03/12/2026)" in body
    assert "Pas encore vérifié par un partenaire (FEMIMA doit le relire)." in body


def test_to_verify_answers_say_so_in_the_sources_message():
    body = Conversation(country="GN").press("sources:gn_sell_gold")[0].text
    assert "Certaines informations sont à confirmer." in body and "jeuneafrique.com" in body


def test_a_reviewed_answer_shows_who_reviewed_it_and_when():
    import dataclasses

    content = get_content()
    answer = content.answer("retort")
    reviewed = dataclasses.replace(answer, review=dataclasses.replace(
        answer.review, status="reviewed", date="2027-01-15"))
    talk = Talk(State())
    assert "Vérifié par Pact le 15/01/2027." in sources_text(talk, reviewed)


def test_long_source_lists_are_shortened_to_fit_not_cut_mid_line():
    talk = Talk(State())
    answer = get_content().answer("ml_banned")
    full = sources_text(talk, answer)
    short = sources_text(talk, answer, limit=300)
    assert len(short) <= 300 < len(full)
    assert short.startswith("Sources de")
    assert "Pas encore vérifié" in short  # the review line is never dropped


def test_unknown_answer_is_a_polite_reply_not_a_crash():
    replies = Conversation().press("sources:no_such_answer")
    assert replies and replies[0].text


@pytest.mark.parametrize("answer_id", ["borax_smelting", "ml_banned", "gn_sell_gold"])
def test_answer_with_suite_related_and_sources_fits_the_channels(answer_id):
    replies = Conversation(country="ML").press(f"answer:{answer_id}")
    reply = replies[0]
    assert replies.ids[0] == f"more:{answer_id}"  # "Suite" stays first
    assert "sources:" + answer_id in replies.ids
    assert replies.ids[-1] == "menu:main"
    # 4+ choices: WhatsApp shows them as a list message (rows <= 24 characters), never drops any
    wa = whatsapp_messages(reply)
    interactive = [m for m in wa if m.get("type") == "interactive"]
    assert interactive and interactive[-1]["interactive"]["type"] == "list"
    rows = interactive[-1]["interactive"]["action"]["sections"][0]["rows"]
    assert len(rows) == len(reply.choices) <= WHATSAPP_MAX_LIST_ROWS
    assert all(len(r["title"]) <= 24 for r in rows)
    # Telegram: one button per choice
    assert len(telegram_messages(reply)[-1].buttons) == len(reply.choices)


def test_answer_without_suite_has_three_or_four_choices_and_still_renders():
    replies = Conversation(country="ML").press("answer:retort")
    assert replies.ids == ["answer:mercury_health", "answer:borax_smelting", "sources:retort",
                            "menu:main"]
    wa = whatsapp_messages(replies[0])
    assert wa[-1]["interactive"]["type"] == "list"
