"""Issue 11, item 2, through the real Rasa: a typed text that matches an offered choice
selects it, in every flow and in private mode (where the text is never stored nor sent to
Rasa)."""

from __future__ import annotations

import sqlite3
import time

from bot.devtools.stack import Stack
from bot.testing.conversation import Conversation


def test_a_typed_country_selects_it_at_the_country_question(chat: Conversation):
    chat.say("quand est la fermeture des sites pendant l'hivernage ?").has_choice(
        "country:ML", "country:SN")
    chat.say("Mali").expect("Pays choisi : Mali.", "15 juin")


def test_a_place_at_the_report_country_question_selects_its_country(chat: Conversation):
    chat.press("flow:report:start")
    chat.press("flow:report:cat:land_conflict")
    chat.say("Campement de Wuroxaana haut").has_choice("flow:report:country:SN")
    chat.say("Kédougou").expect("Décrivez le problème")


def test_in_private_mode_the_typed_country_is_read_in_process_and_not_kept(
        stack: Stack, chat: Conversation):
    chat.press("lang:fr")
    chat.press("flow:protection:start").has_choice("flow:protection:country:SN")
    chat.say("sénégal").expect("116").has_choice("flow:protection:cancel")
    chat.say("ZX-PRIVE-4417 mon oncle")
    chat.say("menu")
    time.sleep(1)
    database = "\n".join(sqlite3.connect(stack.workdir / "assistant.db").iterdump())
    assert "ZX-PRIVE-4417" not in database
    assert "sénégal" not in database and "senegal" not in database.replace(
        "Sénégal", "").replace("SN", "").lower().replace("senegal\"", "")
    assert 'INSERT INTO "conversation_states"' in database  # searched too: the state
