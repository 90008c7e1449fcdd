"""The walking skeleton end to end: web chat -> app -> real Rasa -> action server -> reply."""

from __future__ import annotations

import time

import httpx

from bot.content import get_content

MAIN_THEMES = ["menu:formalisation", "menu:licensing", "menu:safe_practice", "menu:protection"]


def test_a_greeting_returns_the_main_menu_with_the_four_themes(chat):
    turn = chat.say("Bonjour").expect("Bonjour", "thème")
    assert [c["id"] for c in turn.choices] == MAIN_THEMES
    titles = [item.title("fr") for item in get_content().menu("main").items_for(None)]
    assert [c["title"] for c in turn.choices] == titles


def test_sms_spelling_greeting_is_understood(chat):
    chat.say("slt").has_choice(*MAIN_THEMES)


def test_a_message_sent_while_rasa_was_loading_was_kept_and_answered(stack):
    early = stack.early_reply
    assert early["pending"] is True
    assert all("menu:" not in c["id"] for r in early["replies"] for c in r.get("choices", []))
    replies = []
    for _ in range(60):
        data = httpx.get(f"{stack.app_url}/api/chat/updates",
                         params={"sender": stack.early_sender}, timeout=10).json()
        replies.extend(data["replies"])
        if any(r["choices"] for r in replies):
            break
        time.sleep(0.5)
    assert [c["id"] for r in replies for c in r["choices"]][:4] == MAIN_THEMES


def test_choices_by_button_and_by_typed_number(chat):
    chat.say("Bonjour")
    chat.say("2").expect("pays").has_choice("country:ML", "country:GN", "country:SN")
    chat.press("country:SN").expect("Sénégal")


def test_zero_and_menu_return_to_the_main_menu(chat):
    chat.say("Bonjour")
    chat.press("menu:safe_practice")
    chat.say("0").has_choice(*MAIN_THEMES)
    chat.press("menu:safe_practice")
    chat.say("menu").has_choice(*MAIN_THEMES)


def test_a_question_before_the_country_is_answered_right_after_it(chat):
    chat.say("c koi la periode de fermeture de lorpaillage").expect("pays")
    chat.press("country:ML").expect("15 juin", "30 septembre")


def test_the_country_changes_the_answer(chat):
    chat.say("Bonjour")
    chat.press("country:ML").expect("Mali")
    mali = chat.say("où vendre mon or").text
    chat.say("autre pays").has_choice("country:GN")
    chat.press("country:GN").expect("Guinée")
    guinea = chat.say("où vendre mon or").expect("BCRG").text
    assert mali != guinea


def test_bad_requests_get_clear_refusals(stack):
    url = f"{stack.app_url}/api/chat"
    assert httpx.post(url, content=b"{not json", timeout=10).status_code == 400
    assert httpx.post(url, content=b'{"sender": "x", "text": "\xff\xfe"}',
                      timeout=10).status_code == 400
    assert httpx.post(url, json={"text": "no sender"}, timeout=10).status_code == 400
    big = b'{"sender": "x", "text": "' + b"a" * (1024 * 1024 + 10) + b'"}'
    assert httpx.post(url, content=big, timeout=10).status_code == 413


def test_the_chat_page_is_served_without_external_resources(stack):
    page = httpx.get(f"{stack.app_url}/", timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "http://" not in page.text and "https://" not in page.text
