"""How a message typed in a sensitive step is read without being kept."""

from __future__ import annotations

import pytest

from bot.core.messages import Choice, Reply
from bot.core.privacy import handle_private_input, phone_digits, sensitive_mode_of

CHOICES = [{"id": "flow:protection:callback", "title": "Être rappelé(e)"},
           {"id": "flow:protection:cancel", "title": "Annuler"}]


def read(text, kind="text", mode="protection"):
    return handle_private_input(mode, kind, text, CHOICES, lambda s: f"enc({s})")


@pytest.mark.parametrize("text,choice", [
    ("STOP", "flow:protection:exit"), ("sortir", "flow:protection:exit"),
    ("Quitter !", "flow:protection:exit"), ("menu", "menu:main"), ("0", "menu:main"),
    ("1", "flow:protection:callback"), ("2.", "flow:protection:cancel"),
    ("9", "flow:protection:input"), ("annuler", "flow:protection:cancel"),
    ("il m'a frappé", "flow:protection:input"), ("", "flow:protection:input"),
])
def test_what_a_sensitive_message_becomes(text, choice):
    private = read(text)
    assert private.choice == choice and private.callback_draft is None


def test_a_phone_number_becomes_an_encrypted_draft():
    private = read("+223 76-12.34 56")
    assert private.choice == "flow:protection:number"
    assert private.callback_draft == "enc(+22376123456)"


def test_voice_notes_and_photos_are_dropped():
    assert read(None, kind="voice").choice == "flow:protection:input"
    assert read(None, kind="media", mode="report").choice == "flow:report:input"


@pytest.mark.parametrize("text", ["12", "appelle moi au 76", "7612345678901234567"])
def test_what_is_not_a_phone_number(text):
    assert phone_digits(text) is None


def test_the_sensitive_mode_is_the_flow_of_the_last_reply():
    assert sensitive_mode_of(Reply("x", [Choice("flow:report:cancel", "Annuler")],
                                   sensitive=True)) == "report"
    assert sensitive_mode_of(Reply("x", sensitive=True)) == "protection"
    assert sensitive_mode_of(Reply("x", [Choice("flow:report:cancel", "Annuler")])) is None


def test_an_unconfirmed_number_is_kept_only_while_its_flow_goes_on():
    from bot.core.privacy import keeps_callback_draft

    assert keeps_callback_draft(Reply("x", [Choice("flow:report:confirm", "Envoyer")]))
    assert keeps_callback_draft(Reply("x", [Choice("flow:protection:time:any", "N'importe")]))
    assert not keeps_callback_draft(Reply("x", [Choice("menu:formalisation", "F")]))
    assert not keeps_callback_draft(Reply("x", [Choice("flow:status:cancel", "Annuler")]))
    assert not keeps_callback_draft(Reply("x"))


COUNTRY_CHOICES = [{"id": "flow:protection:country:ML", "title": "Mali"},
                   {"id": "flow:protection:country:GN", "title": "Guinée"},
                   {"id": "flow:protection:country:SN", "title": "Sénégal"},
                   {"id": "flow:protection:cancel", "title": "Annuler"}]


@pytest.mark.parametrize("text,choice", [
    ("Mali", "flow:protection:country:ML"), ("mali", "flow:protection:country:ML"),
    ("Sénégal", "flow:protection:country:SN"), ("senegal.", "flow:protection:country:SN"),
    ("guinee", "flow:protection:country:GN"), ("Kédougou", "flow:protection:country:SN"),
    ("j'ai peur", "flow:protection:input"),
])
def test_a_typed_country_selects_it_in_private(text, choice):
    private = handle_private_input("protection", "text", text, COUNTRY_CHOICES, str)
    assert private.choice == choice and private.callback_draft is None


@pytest.mark.parametrize("text", ["oui", "Oui", "ok", "waaw", "awɔ", "d'accord", "👍"])
def test_yes_gives_consent_in_private(text):
    choices = [{"id": "flow:protection:consent", "title": "Oui, rappelez-moi"},
               {"id": "flow:protection:cancel", "title": "Annuler"},
               {"id": "menu:main", "title": "Menu"}]
    assert handle_private_input("protection", "text", text, choices, str).choice == (
        "flow:protection:consent")


def test_a_title_in_bambara_is_matched_in_private():
    from bot.i18n import translator

    t = translator("bm")
    choices = [{"id": "flow:protection:time:evening", "title": t.gettext("Le soir")},
               {"id": "flow:protection:time:morning", "title": t.gettext("Le matin")},
               {"id": "flow:protection:cancel", "title": t.gettext("Annuler")}]
    assert handle_private_input("protection", "text", "le soir", choices, str).choice == (
        "flow:protection:time:evening")
    assert handle_private_input("protection", "text", t.gettext("Le matin"), choices,
                                str).choice == "flow:protection:time:morning"
