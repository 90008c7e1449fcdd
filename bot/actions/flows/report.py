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
from typing import TYPE_CHECKING

from bot.actions.flows.base import Flow
from bot.actions.state import COUNTRY_CODES, Turn
from bot.core.choice_match import yes_no
from bot.core.messages import Choice, Reply
from bot.store.requests import LOCALITY_LIMIT, SUMMARY_LIMIT

if TYPE_CHECKING:  # pragma: no cover
    from bot.actions.dialogue import Talk

# The categories offered, in order; `violence` leads to the protection flow.
CATEGORIES = ("land_conflict", "extortion", "accident", "pollution", "child_labour", "violence",
              "other")


class ReportFlow(Flow):
    name = "report"
    sends_request = True
    ACTIONS = {
        (None, "cancel"): "_cancel", (None, "exit"): "_cancel", (None, "cat"): "_category",
        ("country", "country"): "_country", ("description", "voice"): "_voice",
        ("contact", "contact"): "_contact", ("phone", "number"): "_number",
        ("phone", "input"): "_not_a_number", ("summary", "confirm"): "_confirm",
    }

    def _reply(self, talk: Talk, text: str, choices: list[Choice] | None = None, *,
               sensitive: bool = False) -> Reply:
        choices = list(choices or [])
        choices.append(Choice(self.cid("cancel"), talk._("Annuler")))
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
        if not self.is_open(talk):
            return None
        return Choice(self.cid("resume"), talk._("Reprendre votre demande"))

    def start(self, talk: Talk, arg: str) -> list[Reply]:
        # A voice note sent just before choosing "report" belongs to the report too.
        since = datetime.now(timezone.utc) - timedelta(minutes=10)
        talk.state.flow = {"name": self.name, "step": "category", "since": since.isoformat()}
        return [self._ask_category(talk)]

    def _ask_category(self, talk: Talk) -> Reply:
        return self._reply(talk, talk._("Quel est le problème ?"),
                           [Choice(self.cid(f"cat:{c}"), self.category_label(talk, c))
                            for c in CATEGORIES])

    def _ask_place(self, talk: Talk) -> Reply:
        self._go(talk, "place")
        return self._reply(talk, talk._("Où ? Écrivez le nom du village ou du site, ou envoyez "
                                        "votre position."))

    def _ask_description(self, talk: Talk) -> Reply:
        self._go(talk, "description")
        return self._reply(talk, talk._("Décrivez le problème en quelques mots, ou envoyez un "
                                        "message vocal. N'écrivez pas de nom de personne."),
                           [Choice(self.cid("voice"), talk._("J'ai envoyé un vocal"))])

    def _ask_contact(self, talk: Talk) -> Reply:
        self._go(talk, "contact")
        return self._reply(talk, talk._("Un partenaire peut-il vous répondre ou vous appeler ?"),
                           [Choice(self.cid("contact:here"), talk._("Oui, ici")),
                            Choice(self.cid("contact:phone"), talk._("Oui, autre numéro")),
                            Choice(self.cid("contact:no"), talk._("Non"))])

    def _ask_number(self, talk: Talk) -> Reply:
        self._go(talk, "phone")
        # Sensitive: the gateway keeps the typed number out of the inbox, the logs and Rasa.
        return self._reply(talk, talk._("Écrivez le numéro où vous appeler."), sensitive=True)

    def _ask_in_flow_country(self, talk: Talk) -> Reply:
        self._go(talk, "country")
        return self.ask_country(talk, talk._("Dans quel pays ?"))

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
            category=self.category_label(talk, state.get("category", "other")), place=place,
            description=description, contact=contact)
        return self._reply(talk, text, [Choice(self.cid("confirm"), talk._("Envoyer"))])

    # What asks each step again.
    REPEAT = {"place": _ask_place, "country": _ask_in_flow_country,
              "description": _ask_description, "contact": _ask_contact,
              "phone": _ask_number, "summary": _summary}

    def _repeat(self, talk: Talk, step: str | None) -> Reply:
        ask = self.REPEAT.get(step or "")
        return ask(self, talk) if ask else self._ask_category(talk)

    # ---- typed turns -------------------------------------------------------------------
    def handle(self, talk: Talk, turn: Turn) -> list[Reply] | None:
        step = self._state(talk).get("step")
        if turn.intent == "choose" and turn.choice:
            replies = self.dispatch(talk, turn)
            return replies if replies is not None else [self._repeat(talk, step)]
        if turn.intent == "menu":
            return None
        if self.is_cancel_text(turn):
            return self.cancelled(talk)
        if turn.intent == "violence_help":
            # Never take a description of violence: switch to the protection flow.
            return talk.flows.start("protection", talk)
        if step == "place":
            return self._place(talk, turn)
        if turn.intent == "share_location":  # a location sent later: keep it, stay on the step
            values = self._location_values(talk, turn)
            if values:
                self._go(talk, step or "category", **values)
            return [self._repeat(talk, step)]
        if step == "description":
            text = " ".join(turn.original_text.split())
            if not any(ch.isalnum() for ch in text) or yes_no(text):
                return self.typed(talk, turn)  # "ok", "👍": not a description
            self._go(talk, "contact", summary=text[:SUMMARY_LIMIT])
            return [self._ask_contact(talk)]
        if step == "phone":  # typed text that skipped the gateway's private path: not kept
            return [self._ask_number(talk)]
        # A step with buttons: a typed title, number or yes/no word selects one; anything
        # else keeps the draft and asks again (never the menu: the report would be lost).
        return self.typed(talk, turn)

    def _place(self, talk: Talk, turn: Turn) -> list[Reply]:
        values: dict = {}
        if turn.intent == "share_location":
            values = self._location_values(talk, turn)
            if not values:
                return [self._ask_place(talk)]
        else:
            typed = " ".join(turn.original_text.split())
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
                values.update(locality=typed[:LOCALITY_LIMIT])
                country = turn.entities.get("country")  # "un village au Sénégal"
                if country in COUNTRY_CODES and talk.state.country not in COUNTRY_CODES:
                    talk.state.country = country
        self._go(talk, "place", **values)
        if talk.state.country not in COUNTRY_CODES:
            return [self._ask_in_flow_country(talk)]
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

    # ---- button presses (ACTIONS); None: ask the step again --------------------------------
    def _cancel(self, talk: Talk, arg: str) -> list[Reply]:
        return self.cancelled(talk)

    def _category(self, talk: Talk, arg: str) -> list[Reply] | None:
        if arg not in CATEGORIES:
            return None
        if arg == "violence":
            return talk.flows.start("protection", talk)
        self._go(talk, "place", category=arg)
        if self._state(talk).get("locality"):  # named in the first message
            if talk.state.country not in COUNTRY_CODES:
                return [self._ask_in_flow_country(talk)]
            return [self._ask_description(talk)]
        return [self._ask_place(talk)]

    def _country(self, talk: Talk, arg: str) -> list[Reply] | None:
        if arg not in COUNTRY_CODES:
            return None
        talk.state.country = arg
        return [self._ask_description(talk)]

    def _voice(self, talk: Talk, arg: str) -> list[Reply]:
        voice = self._voice_notes(talk)
        if not voice:
            return [self._reply(talk, talk._("Je n'ai pas encore reçu de message vocal. "
                                             "Envoyez-le, puis appuyez ici."),
                                [Choice(self.cid("voice"), talk._("J'ai envoyé un vocal"))])]
        self._go(talk, "contact", voice=voice)
        return [self._ask_contact(talk)]

    def _contact(self, talk: Talk, arg: str) -> list[Reply] | None:
        if arg == "phone":
            return [self._ask_number(talk)]
        if arg not in ("here", "no"):
            return None
        self._go(talk, "summary", contact=arg)
        return [self._summary(talk)]

    def _number(self, talk: Talk, arg: str) -> list[Reply]:
        if talk.repo.has_callback_draft(talk.sender_id):
            self._go(talk, "summary", contact="phone")
            return [self._summary(talk)]
        return self._not_a_number(talk, arg)

    def _not_a_number(self, talk: Talk, arg: str) -> list[Reply]:
        return [self._reply(talk, talk._("Ce n'est pas un numéro de téléphone. Écrivez-le "
                                         "comme ceci : 76 12 34 56."), sensitive=True)]

    def _voice_notes(self, talk: Talk) -> list[int]:
        """Voice notes and photos the user sent since the report started."""
        since = self._state(talk).get("since")
        return talk.repo.media_since(talk.sender_id,
                                     datetime.fromisoformat(since) if since else None)

    def _confirm(self, talk: Talk, arg: str) -> list[Reply]:
        state = self._state(talk)
        method = {"here": "channel", "phone": "phone"}.get(state.get("contact", "no"))
        attachments = sorted(set(state.get("voice") or []) | set(self._voice_notes(talk)))
        request = talk.repo.create_request(
            contact_id=talk.sender_id, category=state.get("category", "other"),
            channel=talk.metadata.get("channel") or "web",
            callback_number="draft" if method == "phone" else None, callback_method=method,
            country=state.get("country") or talk.state.country,
            language=talk.lang, cluster=state.get("cluster"), locality=state.get("locality"),
            latitude=state.get("lat"), longitude=state.get("lon"),
            summary=state.get("summary"), attachments=attachments or None)
        if request is None:  # the typed number is gone: ask it again
            return [self._ask_number(talk)]
        talk.end_flow()
        code = request.reference_code
        text = talk._("Demande envoyée. Votre code : {code}").format(code=code)
        return [talk.reply(f"{text}\n{self.code_note(talk, code, request.due_at)}")]


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
