"""render.py: one reply, shaped for each channel's limits."""

from __future__ import annotations

import re

import pytest

from bot.channels import render
from bot.core.messages import Choice, Reply


def choices(n: int, title: str = "Choix {i}") -> list[Choice]:
    return [Choice(f"answer:item{i}", title.format(i=i)) for i in range(1, n + 1)]


def words(count: int) -> str:
    return " ".join(f"mot{i}" for i in range(count))


# ------------------------------------------------------------------------- numbered lines
def test_numbered_text_lists_choices_under_the_text():
    reply = Reply("Que voulez-vous savoir ?", [Choice("menu:main", "Menu"),
                                               Choice("answer:mercury", "Mercure")])
    assert render.numbered_text(reply) == ("Que voulez-vous savoir ?\n\n1. Menu\n2. Mercure\n\n"
                                           "Répondez avec le numéro de votre choix.")


def test_numbered_text_without_choices_is_the_text():
    assert render.numbered_text(Reply("Bonjour")) == "Bonjour"


# ------------------------------------------------------------------------------ splitting
def test_split_keeps_everything_and_respects_the_limit():
    text = "\n\n".join(words(50) for _ in range(10))
    pieces = render.split_text(text, 300)
    assert all(len(piece) <= 300 for piece in pieces)
    assert re.sub(r"\s+", " ", " ".join(pieces)) == re.sub(r"\s+", " ", text)


def test_split_prefers_paragraphs():
    first, second = "a" * 80, "b" * 80
    assert render.split_text(f"{first}\n\n{second}", 100) == [first, second]


def test_split_cuts_a_giant_word():
    pieces = render.split_text("x" * 250, 100)
    assert pieces == ["x" * 100, "x" * 100, "x" * 50]


def test_short_text_is_one_piece():
    assert render.split_text("  Bonjour  ", 4096) == ["Bonjour"]


# ------------------------------------------------------------------------------- Telegram
def test_telegram_keyboard_one_button_per_row_with_choice_ids():
    [message] = render.telegram_messages(Reply("Menu", choices(3)))
    assert message.text == "Menu"
    assert message.buttons == (("Choix 1", "answer:item1"), ("Choix 2", "answer:item2"),
                               ("Choix 3", "answer:item3"))


def test_telegram_long_choice_id_becomes_a_short_stable_key():
    long_id = "answer:" + "x" * 80
    [message] = render.telegram_messages(Reply("Menu", [Choice(long_id, "Long")]))
    [(_, data)] = message.buttons
    assert len(data.encode()) <= 64
    assert render.is_hashed_callback(data)
    assert data == render.callback_data_for(long_id)
    assert render.callback_data_for("menu:main") == "menu:main"


def test_telegram_multibyte_id_is_measured_in_bytes():
    identifier = "answer:" + "é" * 30  # 37 characters, 67 bytes
    assert render.is_hashed_callback(render.callback_data_for(identifier))


def test_telegram_long_text_is_split_and_the_keyboard_goes_last():
    text = "\n\n".join(words(300) for _ in range(5))  # about 12 000 characters
    messages = render.telegram_messages(Reply(text, choices(2)))
    assert len(messages) >= 3
    assert all(render.utf16_len(m.text) <= 4096 for m in messages)
    assert [bool(m.buttons) for m in messages] == [False] * (len(messages) - 1) + [True]


def test_telegram_counts_emoji_as_telegram_does():
    text = "🙂" * 3000  # 3000 characters, 6000 UTF-16 units
    messages = render.telegram_messages(Reply(text))
    assert len(messages) == 2
    assert all(render.utf16_len(m.text) <= 4096 for m in messages)
    assert "".join(m.text for m in messages) == text


def test_telegram_choices_without_text_still_get_a_text():
    [message] = render.telegram_messages(Reply("", choices(2)))
    assert message.text and message.buttons


def test_telegram_empty_reply_sends_nothing():
    assert render.telegram_messages(Reply("  ")) == []


# ------------------------------------------------------------------------------- WhatsApp
def test_whatsapp_up_to_three_short_choices_are_reply_buttons():
    [message] = render.whatsapp_messages(Reply("Votre pays ?", [
        Choice("country:ML", "Mali"), Choice("country:GN", "Guinée"),
        Choice("country:SN", "Sénégal")]))
    assert message == {"type": "interactive", "interactive": {
        "type": "button", "body": {"text": "Votre pays ?"},
        "action": {"buttons": [
            {"type": "reply", "reply": {"id": "country:ML", "title": "Mali"}},
            {"type": "reply", "reply": {"id": "country:GN", "title": "Guinée"}},
            {"type": "reply", "reply": {"id": "country:SN", "title": "Sénégal"}}]}}}


def test_whatsapp_button_title_over_20_makes_a_list():
    title = "Un titre de 21 lettre"
    assert len(title) == 21
    [message] = render.whatsapp_messages(Reply("Menu", [Choice("a:1", title)]))
    assert message["interactive"]["type"] == "list"


def test_whatsapp_four_to_ten_choices_are_a_list():
    [message] = render.whatsapp_messages(Reply("Menu", choices(10)))
    interactive = message["interactive"]
    assert interactive["type"] == "list"
    assert interactive["body"] == {"text": "Menu"}
    assert len(interactive["action"]["button"]) <= 20
    rows = interactive["action"]["sections"][0]["rows"]
    assert rows[0] == {"id": "answer:item1", "title": "Choix 1"} and len(rows) == 10


@pytest.mark.parametrize("reply", [
    Reply("Menu", choices(11)),  # too many rows
    Reply("Menu", choices(4, title="Un titre beaucoup trop long {i}")),  # rows over 24
])
def test_whatsapp_otherwise_numbered_lines(reply):
    [message] = render.whatsapp_messages(reply)
    assert message["type"] == "text"
    body = message["text"]["body"]
    assert body.startswith("Menu\n\n1. ")
    assert f"{len(reply.choices)}. " in body


def test_whatsapp_interactive_body_is_at_most_1024_the_rest_goes_before():
    text = "\n\n".join(words(60) for _ in range(6))  # about 2 700 characters
    messages = render.whatsapp_messages(Reply(text, choices(2)))
    *head, last = messages
    assert head and all(m["type"] == "text" and len(m["text"]["body"]) <= 4096 for m in head)
    assert last["type"] == "interactive"
    assert len(last["interactive"]["body"]["text"]) <= 1024
    joined = " ".join([m["text"]["body"] for m in head] + [last["interactive"]["body"]["text"]])
    assert re.sub(r"\s+", " ", joined) == re.sub(r"\s+", " ", text)


def test_whatsapp_long_text_is_split_at_4096():
    text = "\n".join(words(40) for _ in range(60))
    messages = render.whatsapp_messages(Reply(text))
    assert len(messages) >= 2
    assert all(m["type"] == "text" and len(m["text"]["body"]) <= 4096 for m in messages)


def test_whatsapp_template():
    assert render.whatsapp_template("reprise_conversation") == {
        "type": "template",
        "template": {"name": "reprise_conversation", "language": {"code": "fr"}}}
