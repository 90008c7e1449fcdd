"""Report a problem for a partner to follow up: category, place, description, consent, confirm.

Choice ids: `flow:report:start`, `flow:report:cat:<category>`, `flow:report:country:<code>`,
`flow:report:voice` (the description is a voice note already sent), `flow:report:contact:
<here|phone|no>`, `flow:report:number` (a typed call-back number, read privately by the
gateway and kept encrypted), `flow:report:confirm`, `flow:report:cancel`. Every step offers
"Annuler"; "menu" and "0" still open the menu.

Violence is never reported here: the category switches to the protection flow, which asks
nothing about what happened.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from bot.actions.dialogue import COUNTRY_CODES, StepFlow, Talk, Turn, register_flow
from bot.core.choice_match import yes_no
from bot.core.messages import Choice, Reply
from bot.core.privacy import CANCEL_WORDS, clear_callback_draft, peek_callback_draft
from bot.facts import COUNTRIES, MINER_CATEGORIES
from bot.store import requests as store
from bot.store.models import InboxMessage

NAME = "report"
# The categories offered, in order; `violence` leads to the protection flow.
CATEGORIES = ("land_conflict", "extortion", "accident", "pollution", "child_labour", "violence",
              "other")


def cid(step: str) -> str:
    return f"flow:{NAME}:{step}"


def category_label(talk: Talk, category: str) -> str:
    return talk._(MINER_CATEGORIES[category]) if category in MINER_CATEGORIES else category


def ask_country(talk: Talk, flow: str, text: str) -> Reply:
    """A country question that stays inside a flow (the global `country:` choice would not)."""
    return talk.reply(text, [*(Choice(f"flow:{flow}:country:{code}", talk._(name))
                               for code, name in COUNTRIES.items()),
                             Choice(f"flow:{flow}:cancel", talk._("Annuler"))])


def cancelled(talk: Talk) -> list[Reply]:
    if talk.sender_id:
        with store.database().session() as session:
            clear_callback_draft(session, talk.sender_id)
    talk.end_flow()
    return [talk.reply(talk._("C'est annulé. Rien n'a été envoyé."))]


def is_cancel_text(turn: Turn) -> bool:
    return (turn.text or "").strip().casefold().rstrip(".! ") in CANCEL_WORDS


def code_note(talk: Talk, code: str, due_at: datetime | None = None) -> str:
    """What a reference code is for, said when it is given."""
    note = talk._("Gardez ce code : il sert à suivre votre demande. Écrivez « statut {code} » "
                  "pour savoir où elle en est.").format(code=code)
    if due_at is not None:
        from bot.i18n import format_date

        note += "\n" + talk._("Un partenaire doit la traiter avant le {date}.").format(
            date=format_date(due_at.date(), talk.lang, talk.state.country))
    return note


class ReportFlow(StepFlow):
    name = NAME
    sends_request = True

    def _reply(self, talk: Talk, text: str, choices: list[Choice] | None = None, *,
               sensitive: bool = False) -> Reply:
        choices = list(choices or [])
        choices.append(Choice(cid("cancel"), talk._("Annuler")))
        return talk.reply(text, choices, sensitive=sensitive)

    # ---- steps -----------------------------------------------------------------------
    def start_with(self, talk: Talk, turn: Turn) -> list[Reply]:
        """"Je veux signaler un problème à Kéniéba": the place (and its country) is kept and
        not asked again."""
        replies = self.start(talk, "start")
        country = turn.entities.get("country") or talk.country_in_text(turn.text)
        if country in COUNTRY_CODES and talk.state.country not in COUNTRY_CODES:
            talk.state.country = country
        place = _resolve(turn.entities["place"], talk.state.country) if turn.entities.get(
            "place") else None
        if place is None and turn.text and not turn.text.startswith("/"):
            from bot.core.places import places_in_text

            found = places_in_text(turn.text, talk.state.country)
            place = found[0] if len(found) == 1 else None
        if place is not None:
            talk.state.country = talk.state.country or place.country
            self._go(talk, "category", locality=place.name, cluster=place.cluster)
        return replies

    def ask_again(self, talk: Talk) -> Reply | None:
        return self._repeat(talk, self._state(talk).get("step"))

    def resume_choice(self, talk: Talk) -> Choice | None:
        if (talk.state.flow or {}).get("name") != NAME:
            return None
        return Choice(cid("resume"), talk._("Reprendre votre demande"))

    def start(self, talk: Talk, arg: str) -> list[Reply]:
        # A voice note sent just before choosing "report" belongs to the report too.
        since = datetime.now(timezone.utc) - timedelta(minutes=10)
        talk.state.flow = {"name": NAME, "step": "category", "since": since.isoformat()}
        return [self._ask_category(talk)]

    def _ask_category(self, talk: Talk) -> Reply:
        return self._reply(talk, talk._("Quel est le problème ?"),
                           [Choice(cid(f"cat:{c}"), category_label(talk, c)) for c in CATEGORIES])

    def _ask_place(self, talk: Talk) -> Reply:
        self._go(talk, "place")
        return self._reply(talk, talk._("Où ? Écrivez le nom du village ou du site, ou envoyez "
                                        "votre position."))

    def _ask_description(self, talk: Talk) -> Reply:
        self._go(talk, "description")
        return self._reply(talk, talk._("Décrivez le problème en quelques mots, ou envoyez un "
                                        "message vocal. N'écrivez pas de nom de personne."),
                           [Choice(cid("voice"), talk._("J'ai envoyé un vocal"))])

    def _ask_contact(self, talk: Talk) -> Reply:
        self._go(talk, "contact")
        return self._reply(talk, talk._("Un partenaire peut-il vous répondre ou vous appeler ?"),
                           [Choice(cid("contact:here"), talk._("Oui, ici")),
                            Choice(cid("contact:phone"), talk._("Oui, autre numéro")),
                            Choice(cid("contact:no"), talk._("Non"))])

    def _ask_number(self, talk: Talk) -> Reply:
        self._go(talk, "phone")
        # Sensitive: the gateway keeps the typed number out of the inbox, the logs and Rasa.
        return self._reply(talk, talk._("Écrivez le numéro où vous appeler."), sensitive=True)

    def _summary(self, talk: Talk) -> Reply:
        state = self._state(talk)
        self._go(talk, "summary")
        place = state.get("locality") or (
            talk._("position envoyée") if state.get("lat") is not None else "-")
        description = state.get("summary") or (
            talk._("message vocal") if state.get("voice") else "-")
        contact = {"here": talk._("oui, ici"), "phone": talk._("oui, par téléphone"),
                   "no": talk._("non")}[state.get("contact", "no")]
        text = talk._("Votre demande :\n• {category}\n• Lieu : {place}\n• {description}\n"
                      "• Être contacté(e) : {contact}\nOn l'envoie ?").format(
            category=category_label(talk, state.get("category", "other")), place=place,
            description=description, contact=contact)
        return self._reply(talk, text, [Choice(cid("confirm"), talk._("Envoyer"))])

    # ---- turns -------------------------------------------------------------------------
    def handle(self, talk: Talk, turn: Turn) -> list[Reply] | None:
        state = self._state(talk)
        step = state.get("step")
        if turn.intent == "choose" and turn.choice:
            return self._choice(talk, turn.choice.removeprefix(f"flow:{NAME}:"), step)
        if turn.intent == "menu":
            return None
        if is_cancel_text(turn):
            return cancelled(talk)
        if turn.intent == "violence_help":
            # Never take a description of violence: switch to the protection flow.
            from bot.actions.flows.protection import FLOW as protection

            return protection.start(talk, "start")
        if step == "place":
            return self._place(talk, turn)
        if turn.intent == "share_location":  # a location sent later: keep it, stay on the step
            values = self._location_values(talk, turn)
            if values:
                self._go(talk, step or "category", **values)
            return [self._repeat(talk, step)]
        if step == "description":
            text = " ".join(original_text(talk, turn.text).split())
            if not any(ch.isalnum() for ch in text) or yes_no(text):
                return self.typed(talk, turn)  # "ok", "👍": not a description
            self._go(talk, "contact", summary=text[:store.SUMMARY_LIMIT])
            return [self._ask_contact(talk)]
        if step == "phone":  # typed text that skipped the gateway's private path: not kept
            return [self._ask_number(talk)]
        # A step with buttons: a typed title, number or yes/no word selects one; anything
        # else keeps the draft and asks again (never the menu: the report would be lost).
        return self.typed(talk, turn)

    def _choice(self, talk: Talk, action: str, step: str | None) -> list[Reply]:
        action, _, arg = action.partition(":")
        if action in ("cancel", "exit"):
            return cancelled(talk)
        if action == "cat" and arg in CATEGORIES:
            if arg == "violence":
                from bot.actions.flows.protection import FLOW as protection

                return protection.start(talk, "start")
            self._go(talk, "place", category=arg)
            if self._state(talk).get("locality"):  # named in the first message
                if talk.state.country not in COUNTRY_CODES:
                    self._go(talk, "country")
                    return [ask_country(talk, NAME, talk._("Dans quel pays ?"))]
                return [self._ask_description(talk)]
            return [self._ask_place(talk)]
        if action == "country" and arg in COUNTRY_CODES and step == "country":
            talk.state.country = arg
            return [self._ask_description(talk)]
        if action == "voice" and step == "description":
            voice = self._voice_notes(talk)
            if not voice:
                return [self._reply(talk, talk._("Je n'ai pas encore reçu de message vocal. "
                                                 "Envoyez-le, puis appuyez ici."),
                                    [Choice(cid("voice"), talk._("J'ai envoyé un vocal"))])]
            self._go(talk, "contact", voice=voice)
            return [self._ask_contact(talk)]
        if action == "contact" and arg in ("here", "no") and step == "contact":
            self._go(talk, "summary", contact=arg)
            return [self._summary(talk)]
        if action == "contact" and arg == "phone" and step == "contact":
            return [self._ask_number(talk)]
        if action == "number" and step == "phone":
            with store.database().session() as session:
                has_number = peek_callback_draft(session, talk.sender_id) is not None
            if has_number:
                self._go(talk, "summary", contact="phone")
                return [self._summary(talk)]
        if action in ("number", "input") and step == "phone":
            return [self._reply(talk, talk._("Ce n'est pas un numéro de téléphone. Écrivez-le "
                                             "comme ceci : 76 12 34 56."), sensitive=True)]
        if action == "confirm" and step == "summary":
            return self._confirm(talk)
        return [self._repeat(talk, step)]

    def _repeat(self, talk: Talk, step: str | None) -> Reply:
        if step == "place":
            return self._ask_place(talk)
        if step == "country":
            return ask_country(talk, NAME, talk._("Dans quel pays ?"))
        if step == "description":
            return self._ask_description(talk)
        if step == "contact":
            return self._ask_contact(talk)
        if step == "phone":
            return self._ask_number(talk)
        if step == "summary":
            return self._summary(talk)
        return self._ask_category(talk)

    def _place(self, talk: Talk, turn: Turn) -> list[Reply]:
        values: dict = {}
        if turn.intent == "share_location":
            values = self._location_values(talk, turn)
            if not values:
                return [self._ask_place(talk)]
        else:
            typed = " ".join(original_text(talk, turn.text).split())
            if not typed:
                return [self._ask_place(talk)]
            # The NLU's place entity first ("à Kéniéba, derrière le marché"), then the words.
            entity = turn.entities.get("place")
            place = (_resolve(entity, talk.state.country) if entity else None) or _resolve(
                typed, talk.state.country)
            if place is not None:
                values.update(locality=place.name, cluster=place.cluster)
                talk.state.country = talk.state.country or place.country
            else:
                values.update(locality=typed[:store.LOCALITY_LIMIT])
                country = turn.entities.get("country")  # "un village au Sénégal"
                if country in COUNTRY_CODES and talk.state.country not in COUNTRY_CODES:
                    talk.state.country = country
        self._go(talk, "place", **values)
        if talk.state.country not in COUNTRY_CODES:
            self._go(talk, "country")
            return [ask_country(talk, NAME, talk._("Dans quel pays ?"))]
        return [self._ask_description(talk)]

    def _location_values(self, talk: Talk, turn: Turn) -> dict:
        try:
            lat, lon = float(turn.entities["latitude"]), float(turn.entities["longitude"])
        except (KeyError, ValueError):
            return {}
        values = {"lat": lat, "lon": lon, "locality": None, "cluster": None}
        near = _nearest_place(lat, lon)
        if near is not None:
            # The problem is where the location is: that decides the partner.
            values.update(locality=near.name, cluster=near.cluster, country=near.country)
            talk.state.country = talk.state.country or near.country
        return values

    def _voice_notes(self, talk: Talk) -> list[int]:
        """Voice notes and photos the user sent since the report started."""
        if not talk.sender_id:
            return []
        since = self._state(talk).get("since")
        query = select(InboxMessage.id).where(InboxMessage.contact_id == talk.sender_id,
                                              InboxMessage.kind.in_(("voice", "media")))
        if since:
            query = query.where(InboxMessage.received_at >= datetime.fromisoformat(since))
        with store.database().session() as session:
            return list(session.scalars(query.order_by(InboxMessage.id)))[-5:]

    def _confirm(self, talk: Talk) -> list[Reply]:
        state = self._state(talk)
        contact = state.get("contact", "no")
        method = {"here": "channel", "phone": "phone"}.get(contact)
        attachments = sorted(set(state.get("voice") or []) | set(self._voice_notes(talk)))
        with store.database().session() as session:
            encrypted = None
            if method == "phone":
                from bot.core.privacy import take_callback_draft

                encrypted = take_callback_draft(session, talk.sender_id)
                if encrypted is None:
                    return [self._ask_number(talk)]
            request = store.create_request(
                session, contact_id=talk.sender_id, category=state.get("category", "other"),
                channel=talk.metadata.get("channel") or "web",
                country=state.get("country") or talk.state.country,
                language=talk.lang, cluster=state.get("cluster"), locality=state.get("locality"),
                latitude=state.get("lat"), longitude=state.get("lon"),
                summary=state.get("summary"), attachments=attachments or None,
                callback_method=method, callback_contact_encrypted=encrypted)
            code, due_at = request.reference_code, request.due_at
        talk.end_flow()
        text = talk._("Demande envoyée. Votre code : {code}").format(code=code)
        return [talk.reply(f"{text}\n{code_note(talk, code, due_at)}")]


def original_text(talk: Talk, fallback: str | None) -> str:
    """What the user typed, as typed: Rasa sees the normalized text (lower case, no accents);
    a partner should read the original. The message being answered is the contact's oldest
    pending one (the gateway answers a contact's messages in order)."""
    if talk.sender_id:
        with store.database().session() as session:
            text = session.scalar(
                select(InboxMessage.text).where(InboxMessage.contact_id == talk.sender_id,
                                                InboxMessage.status == "pending",
                                                InboxMessage.kind == "text")
                .order_by(InboxMessage.id).limit(1))
        if text:
            return text
    return fallback or ""


def _resolve(name: str, country: str | None):
    try:
        from bot.core.places import resolve_place
    except ImportError:  # pragma: no cover - the gazetteer ships with the NLU data
        return None
    try:
        return resolve_place(name, country) or (resolve_place(name) if not country else None)
    except (OSError, ValueError):
        return None


def _nearest_place(lat: float, lon: float):
    try:
        from bot.core.places import nearest_place
    except ImportError:  # pragma: no cover - the gazetteer ships with the NLU data
        return None
    return nearest_place(lat, lon)


FLOW = register_flow(ReportFlow(), "report_problem")
