"""The flows with a repository in memory (`bot.store.repository_memory`): no database at all.

Each turn is checked exactly: the replies' texts and choices, the flow's state after it, and
what the turn wrote through the repository. A flow that opened a session itself would fail
here: the app's database is made unreachable for every test of this file.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.actions.dialogue import State, Talk, Turn
from bot.store import requests as store
from bot.store.repository import RequestView
from bot.store.repository_memory import InboxLine, MemoryRepository

CONTACT = "c-1"
MENU = ("menu:main", "Menu")
CODE_NOTE = ("Gardez ce code : il sert à suivre votre demande. Écrivez « statut {code} » pour "
             "savoir où elle en est.")


@pytest.fixture(autouse=True)
def no_database(monkeypatch):
    def unreachable():
        raise AssertionError("a flow reached the database without the repository")

    monkeypatch.setattr(store, "database", unreachable)


class Chat:
    """A conversation over a `MemoryRepository`; `last` is the replies of the last turn as
    (text, [(choice id, title)], sensitive)."""

    def __init__(self, repo: MemoryRepository | None = None, channel: str = "whatsapp",
                 **state):
        self.repo = repo or MemoryRepository()
        self.state = State(**{"language": "fr", "country": "ML", **state})
        self.channel = channel

    def turn(self, turn: Turn) -> list[tuple[str, list[tuple[str, str]], bool]]:
        turn.metadata = {"channel": self.channel, **turn.metadata}
        replies = Talk(self.state, sender_id=CONTACT, repo=self.repo).respond(turn)
        return [(r.text, [(c.id, c.title) for c in r.choices], r.sensitive) for r in replies]

    def say(self, text: str, intent: str = "nlu_fallback", *, typed: str | None = None,
            **entities: str):
        metadata = {"original_text": typed} if typed else {}
        return self.turn(Turn(intent=intent, text=text, entities=entities, metadata=metadata))

    def press(self, choice: str):
        return self.turn(Turn(intent="choose", choice=choice))

    @property
    def flow(self) -> dict | None:
        return self.state.flow


# ---- talk to a person ----------------------------------------------------------------------
def test_talk_shows_the_messages_worth_sharing_and_sends_them_with_consent():
    repo = MemoryRepository(inbox=[InboxLine(1, CONTACT, "Où vendre mon or à  Kéniéba ?"),
                                   InboxLine(2, CONTACT, "ok"),
                                   InboxLine(3, "someone-else", "pas à moi"),
                                   InboxLine(4, CONTACT, "Le prix a baissé")])
    chat = Chat(repo)
    assert chat.say("parler a une personne", "talk_to_person") == [(
        "Une personne d'une organisation partenaire peut vous répondre ici. Voulez-vous lui "
        "montrer vos derniers messages ?\n« Où vendre mon or à Kéniéba ? »\n« Le prix a baissé »",
        [("flow:talk:share", "Oui, les montrer"), ("flow:talk:send", "Non, sans eux"),
         ("flow:talk:cancel", "Annuler"), MENU], False)]
    assert chat.flow == {"name": "talk", "step": "share", "messages": [1, 4]}

    assert chat.press("flow:talk:share") == [(
        "C'est envoyé. Une personne vous répondra ici. Votre code : ML-TEST22\n"
        + CODE_NOTE.format(code="ML-TEST22"), [MENU], False)]
    assert chat.flow is None
    assert repo.requests == [{
        "reference_code": "ML-TEST22", "contact_id": CONTACT, "category": "talk_to_person",
        "channel": "whatsapp", "country": "ML", "language": "fr", "callback_method": "channel",
        "summary": "Où vendre mon or à Kéniéba ?\nLe prix a baissé", "share_conversation": True}]


def test_talk_without_the_messages_asks_the_country_inside_the_flow():
    repo = MemoryRepository(inbox=[InboxLine(1, CONTACT, "Le prix a baissé")])
    chat = Chat(repo, country=None)
    chat.press("flow:talk:start")
    assert chat.press("flow:talk:send") == [(
        "Dans quel pays êtes-vous ?",
        [("flow:talk:country:ML", "Mali"), ("flow:talk:country:GN", "Guinée"),
         ("flow:talk:country:SN", "Sénégal"), ("flow:talk:cancel", "Annuler"), MENU], False)]
    assert chat.flow == {"name": "talk", "step": "country", "messages": [1], "share": False}
    chat.press("flow:talk:country:GN")
    assert chat.state.country == "GN" and chat.flow is None
    [request] = repo.requests
    assert request["reference_code"] == "GN-TEST22" and "summary" not in request
    assert "share_conversation" not in request


def test_cancel_in_talk_sends_nothing_and_forgets_a_typed_number():
    repo = MemoryRepository(drafts={CONTACT: "ENC"})
    chat = Chat(repo)
    chat.press("flow:talk:start")
    assert chat.say("annuler") == [("C'est annulé. Rien n'a été envoyé.", [MENU], False)]
    assert (chat.flow, repo.requests, repo.drafts) == (None, [], {})


# ---- report a problem ----------------------------------------------------------------------
def test_a_report_keeps_what_was_typed_as_typed_and_takes_the_typed_number():
    repo = MemoryRepository(drafts={CONTACT: "ENC(76 12 34 56)"})
    chat = Chat(repo)
    chat.say("je veux signaler un probleme", "report_problem")
    assert chat.flow["step"] == "category"
    assert chat.press("flow:report:cat:accident") == [(
        "Où ? Écrivez le nom du village ou du site, ou envoyez votre position.",
        [("flow:report:cancel", "Annuler"), MENU], False)]
    # Rasa sees the normalized text; the flow keeps the message as the caller handed it.
    chat.say("un village loin", typed="Un village loin, près du fleuve")
    assert chat.flow["locality"] == "Un village loin, près du fleuve"
    assert chat.flow["step"] == "description"
    chat.say("un puits s est effondre", typed="Un puits s'est effondré")
    assert chat.flow["summary"] == "Un puits s'est effondré" and chat.flow["step"] == "contact"
    assert chat.press("flow:report:contact:phone") == [(
        "Écrivez le numéro où vous appeler.", [("flow:report:cancel", "Annuler"), MENU], True)]
    assert chat.press("flow:report:number") == [(
        "Votre demande :\n• Accident\n• Lieu : Un village loin, près du fleuve\n"
        "• Un puits s'est effondré\n• Être contacté(e) : oui, par téléphone\nOn l'envoie ?",
        [("flow:report:confirm", "Envoyer"), ("flow:report:cancel", "Annuler"), MENU], False)]
    assert chat.press("flow:report:confirm") == [(
        "Demande envoyée. Votre code : ML-TEST22\n" + CODE_NOTE.format(code="ML-TEST22"),
        [MENU], False)]
    assert repo.requests == [{
        "reference_code": "ML-TEST22", "contact_id": CONTACT, "category": "accident",
        "channel": "whatsapp", "callback_method": "phone", "country": "ML", "language": "fr",
        "cluster": None, "locality": "Un village loin, près du fleuve", "latitude": None,
        "longitude": None, "summary": "Un puits s'est effondré", "attachments": None,
        "callback_contact_encrypted": "ENC(76 12 34 56)"}]
    assert repo.drafts == {} and chat.flow is None


def test_a_report_whose_typed_number_is_gone_asks_it_again_and_stores_nothing():
    chat = Chat()
    chat.state.flow = {"name": "report", "step": "summary", "category": "pollution",
                       "contact": "phone"}
    assert chat.press("flow:report:confirm") == [(
        "Écrivez le numéro où vous appeler.", [("flow:report:cancel", "Annuler"), MENU], True)]
    assert chat.flow == {"name": "report", "step": "phone", "category": "pollution",
                         "contact": "phone"}
    assert chat.repo.requests == []


def test_the_voice_button_attaches_the_voice_notes_sent_since_the_report_began():
    now = datetime.now(timezone.utc)
    repo = MemoryRepository(inbox=[
        InboxLine(5, CONTACT, kind="voice", received_at=now - timedelta(hours=2)),
        InboxLine(6, CONTACT, kind="voice", received_at=now - timedelta(minutes=1)),
        InboxLine(7, "someone-else", kind="voice", received_at=now)])
    chat = Chat(repo)
    chat.state.flow = {"name": "report", "step": "description", "category": "other",
                       "since": (now - timedelta(minutes=10)).isoformat()}
    assert chat.press("flow:report:voice")[0][0] == (
        "Un partenaire peut-il vous répondre ou vous appeler ?")
    assert chat.flow["voice"] == [6] and chat.flow["step"] == "contact"


def test_without_a_voice_note_the_voice_button_says_so_and_stays():
    chat = Chat()
    chat.state.flow = {"name": "report", "step": "description", "category": "other"}
    assert chat.press("flow:report:voice") == [(
        "Je n'ai pas encore reçu de message vocal. Envoyez-le, puis appuyez ici.",
        [("flow:report:voice", "J'ai envoyé un vocal"), ("flow:report:cancel", "Annuler"),
         MENU], False)]
    assert chat.flow == {"name": "report", "step": "description", "category": "other"}


def test_a_button_of_another_step_asks_the_current_step_again():
    chat = Chat()
    chat.state.flow = {"name": "report", "step": "contact", "category": "other"}
    [(text, choices, _)] = chat.press("flow:report:confirm")
    assert text == "Un partenaire peut-il vous répondre ou vous appeler ?"
    assert [c for c, _ in choices] == ["flow:report:contact:here", "flow:report:contact:phone",
                                       "flow:report:contact:no", "flow:report:cancel",
                                       "menu:main"]
    assert chat.repo.requests == []


# ---- protection ----------------------------------------------------------------------------
def test_a_call_back_on_this_whatsapp_number_stores_the_channel_address_only():
    repo = MemoryRepository(callback_countries={"ML"}, drafts={CONTACT: "ENC(old)"},
                            addresses={(CONTACT, "whatsapp"): "ENC(wa)"})
    chat = Chat(repo)
    [(text, choices, sensitive)] = chat.say("aide violences", "violence_help")
    assert text.endswith("C'est gratuit et confidentiel. Vous pouvez revenir ici quand vous "
                         "voulez. Pour sortir vite, écrivez STOP.")
    assert choices == [("flow:protection:callback", "Être rappelé(e)"),
                       ("flow:protection:cancel", "Annuler"), MENU] and sensitive
    chat.press("flow:protection:callback")
    assert chat.flow == {"name": "protection", "step": "consent"}
    assert chat.press("flow:protection:consent") == [(
        "À quel numéro ?", [("flow:protection:number:this", "Ce numéro"),
                            ("flow:protection:number:other", "Un autre numéro"),
                            ("flow:protection:cancel", "Annuler"), MENU], True)]
    chat.press("flow:protection:number:this")
    chat.press("flow:protection:time:evening")
    assert chat.flow == {"name": "protection", "step": "confirm", "number": "this",
                         "time": "evening"}
    [(text, choices, sensitive)] = chat.press("flow:protection:confirm")
    assert text.startswith("C'est noté. Une personne formée vous appellera. Votre code : "
                           "ML-TEST22.\nPour annuler le rappel, répondez « annuler ».")
    assert choices == [("flow:protection:cancel", "Annuler le rappel"), MENU] and sensitive
    assert repo.requests == [{
        "reference_code": "ML-TEST22", "contact_id": CONTACT, "category": "protection",
        "channel": "whatsapp", "country": "ML", "language": "fr", "callback_time": "evening",
        "callback_method": "phone", "callback_contact_encrypted": "ENC(wa)"}]
    assert repo.drafts == {}  # a number typed earlier is not kept

    assert chat.press("flow:protection:cancel") == [(
        "Le rappel est annulé et votre numéro est effacé. De l'aide reste possible quand vous "
        "voulez.", [MENU], False)]
    assert repo.withdrawn == [CONTACT] and chat.flow is None


def test_no_call_back_is_offered_where_nobody_would_call():
    chat = Chat(country="SN")
    [(text, choices, _)] = chat.say("aide violences", "violence_help")
    assert "Nous ne pouvons pas encore organiser de rappel d'ici" in text
    assert choices == [("flow:protection:cancel", "Annuler"), MENU]
    # An old "Être rappelé(e)" button shows the same information, no consent question.
    chat.press("flow:protection:callback")
    assert chat.flow == {"name": "protection", "step": "info"}


def test_a_number_typed_before_consent_is_dropped():
    repo = MemoryRepository(callback_countries={"ML"}, drafts={CONTACT: "ENC"})
    chat = Chat(repo)
    chat.say("aide violences", "violence_help")
    [(text, _, _)] = chat.press("flow:protection:number")
    assert text.startswith("Vous n'avez pas besoin de raconter ce qui s'est passé.")
    assert repo.drafts == {} and chat.flow == {"name": "protection", "step": "info"}


# ---- status, delete, misses ------------------------------------------------------------------
def test_status_lists_the_contacts_requests_and_shows_one():
    due = datetime.now(timezone.utc) + timedelta(days=3)
    view = RequestView("ML-ABC234", "extortion", "assigned", due, "Nous passons lundi.")
    repo = MemoryRepository(known_requests={(CONTACT, "ML-ABC234"): view})
    chat = Chat(repo)
    assert chat.say("suivi", "check_status") == [(
        "Choisissez votre demande, ou écrivez son code.",
        [("flow:status:ref:ML-ABC234", "ML-ABC234"), ("flow:status:cancel", "Annuler"), MENU],
        False)]
    [(text, choices, _)] = chat.press("flow:status:ref:ML-ABC234")
    assert text.splitlines()[0] == (
        "Demande ML-ABC234 (Racket, extorsion) : confiée à un partenaire.")
    assert text.splitlines()[-1] == "Dernier message du partenaire : « Nous passons lundi. »"
    assert choices == [MENU] and chat.flow is None


def test_status_of_someone_elses_code_says_nothing_about_it():
    view = RequestView("ML-ABC234", "extortion", "new")
    chat = Chat(MemoryRepository(known_requests={("another", "ML-ABC234"): view}))
    assert chat.say("statut ML-ABC234") == [(
        "Je ne trouve pas de demande ML-ABC234 faite depuis ce téléphone.",
        [("flow:status:cancel", "Annuler"), MENU], False)]


def test_delete_marks_the_contact_for_erasure_only_on_confirmation():
    chat = Chat()
    chat.press("flow:delete:start")
    chat.say("oui", "affirm")
    assert chat.repo.erasures == [] and chat.flow == {"name": "delete", "step": "confirm"}
    [(text, choices, _)] = chat.press("flow:delete:confirm")
    assert text.startswith("C'est fait : vos données sont effacées.\n\n")
    assert choices == [] and chat.repo.erasures == [CONTACT] and chat.flow is None


def test_a_miss_is_kept_through_the_repository_and_a_chosen_suggestion_noted():
    chat = Chat(country="GN", channel="telegram")
    [(_, choices, _)] = chat.turn(Turn(intent="nlu_fallback", text="a ki je peu vendre mon or",
                                       guess="sell_gold", confidence=0.41))
    suggested = [c.removeprefix("answer:") for c, _ in choices if c.startswith("answer:")]
    assert suggested[0] == "gn_sell_gold"
    assert chat.repo.misses == [{
        "contact_id": CONTACT, "text": "a ki je peu vendre mon or", "channel": "telegram",
        "language": "fr", "country": "GN", "intent": "sell_gold", "confidence": 0.41,
        "suggested": suggested}]
    chat.press("answer:gn_sell_gold")
    assert chat.repo.chosen == [(CONTACT, "gn_sell_gold")]
    assert chat.state.misunderstood == 0


# ---- exactly what a turn changes in the state ------------------------------------------------
def changes(state: State, turn: Turn) -> dict:
    before = state.to_slots()
    Talk(state, sender_id=CONTACT, repo=MemoryRepository()).respond(turn)
    after = state.to_slots()
    return {slot: after[slot] for slot in after if after[slot] != before[slot]}


def test_a_pressed_country_changes_the_country_and_the_history_only():
    state = State(language="fr")
    assert changes(state, Turn(intent="choose", choice="country:SN")) == {
        "country": "SN", "history": ["menu:main"]}


def test_an_answer_changes_the_last_answer_and_the_history_only():
    state = State(language="fr", country="ML", history=["menu:main"])
    assert changes(state, Turn(intent="choose", choice="answer:retort")) == {
        "last_answer": "retort", "history": ["menu:main", "answer:retort"]}


def test_cancelling_a_report_changes_the_flow_only():
    state = State(language="fr", country="ML",
                  flow={"name": "report", "step": "place", "category": "accident"})
    assert changes(state, Turn(intent="choose", choice="flow:report:cancel")) == {"flow": None}


def test_an_unknown_button_counts_one_misunderstanding_and_nothing_else():
    state = State(language="fr", country="ML")
    assert changes(state, Turn(intent="choose", choice="nowhere:at-all")) == {"misunderstood": 1}
