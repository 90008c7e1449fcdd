"""Help after violence: hotlines at once, a call-back only with consent, nothing kept.

Survivor-centred rules (FACTS.md, "Grievance and protection"): never ask what happened; say
that help exists, is free and confidential, and can be sought later; give the services of the
user's country; refer or call back only with explicit consent and record only what consent
covers; offer a quick exit ("STOP", "sortir", "quitter") and say how to clear the chat.

Every reply of this flow is `sensitive`, so the gateway reads the next message privately
(`bot.core.privacy.handle_private_input`): what the user types never reaches our tables, our
logs or Rasa. This flow therefore sees only content-free choices:

    flow:protection:start | country:<ML|GN|SN> | callback | consent | number:this
    | number:other | number (a typed number, kept encrypted on the contact) | time:<slot>
    | confirm | input (anything else typed: dropped) | cancel | exit

A request records category `protection`, the country, the channel and language, the consented
call-back number (encrypted) and time slot, and nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.actions.flows.base import Flow
from bot.actions.state import COUNTRY_CODES, Turn
from bot.core.messages import Choice, Reply
from bot.core.privacy import QUICK_EXIT_WORDS
from bot.facts import CALLBACK_TIME_CODES, CALLBACK_TIMES, COUNTRIES

if TYPE_CHECKING:  # pragma: no cover
    from bot.actions.dialogue import Talk

TIMES = CALLBACK_TIME_CODES


class ProtectionFlow(Flow):
    name = "protection"
    ACTIONS = {
        ("done", "cancel"): "_withdraw", (None, "cancel"): "_cancel", (None, "exit"): "_exit",
        (None, "input"): "_input", (None, "country"): "_country", (None, "callback"): "_callback",
        ("consent", "consent"): "_consent", ("number", "number"): "_number",
        (None, "number"): "_number_without_consent", ("time", "time"): "_time",
        ("confirm", "confirm"): "_confirm",
    }

    def _reply(self, talk: Talk, text: str, choices: list[Choice] | None = None) -> Reply:
        choices = list(choices or [])
        choices.append(Choice(self.cid("cancel"), talk._("Annuler")))
        return talk.reply(text, choices, sensitive=True)

    # ---- entry -----------------------------------------------------------------------
    def start_with(self, talk: Talk, turn: Turn) -> list[Reply]:
        """A country (or a place) named in the message: its services at once, no question."""
        country = (turn.entities.get("country") or talk.country_of_place(
            turn.entities.get("place")) or talk.country_in_text(turn.text))
        if country in COUNTRY_CODES:
            talk.state.country = country
        return self.start(talk, "start")

    def ask_again(self, talk: Talk) -> Reply | None:
        """The current step again (resume, or a typed text that is not an answer)."""
        state = self._state(talk)
        step = state.get("step")
        if step == "country":
            return self._ask_country(talk)
        if step == "consent":
            return self._reply(talk, talk._("Voulez-vous être rappelé(e) ?"),
                               [Choice(self.cid("consent"), talk._("Oui, rappelez-moi"))])
        if step == "number":
            return self._ask_number(talk)
        if step == "time":
            return self._ask_time(talk, state.get("number", "typed"))
        if step == "confirm":
            return self._reply(talk, talk._("Confirmez-vous le rappel ?"),
                               [Choice(self.cid("confirm"), talk._("Confirmer"))])
        if step in ("done", None):
            return None
        return self._info(talk)

    def start(self, talk: Talk, arg: str) -> list[Reply]:
        talk.state.flow = {"name": self.name}
        if talk.state.country not in COUNTRY_CODES:
            self._go(talk, "country")
            return [self._ask_country(talk)]
        return [self._info(talk)]

    def _ask_country(self, talk: Talk) -> Reply:
        return self._reply(talk, talk._("De l'aide existe, gratuite et confidentielle. Dans quel "
                                        "pays êtes-vous ?"),
                           [Choice(self.cid(f"country:{code}"), talk._(name))
                            for code, name in COUNTRIES.items()])

    def _info(self, talk: Talk) -> Reply:
        self._go(talk, "info")
        answer = talk.content.answer_for("violence_help", talk.state.country)
        services = answer.message(talk.lang) if answer else ""
        callback = talk.repo.callback_available(talk.state.country)
        text = "\n\n".join(part for part in (
            services,
            talk._("C'est gratuit et confidentiel. Vous pouvez revenir ici quand vous voulez. "
                   "Pour sortir vite, écrivez STOP."),
            None if callback else talk._("Nous ne pouvons pas encore organiser de rappel d'ici : "
                                         "appelez le numéro ci-dessus."),
        ) if part)
        choices = [Choice(self.cid("callback"), talk._("Être rappelé(e)"))] if callback else []
        return self._reply(talk, text, choices)

    def _ask_number(self, talk: Talk) -> Reply:
        self._go(talk, "number")
        if talk.metadata.get("channel") == "whatsapp":
            return self._reply(talk, talk._("À quel numéro ?"),
                               [Choice(self.cid("number:this"), talk._("Ce numéro")),
                                Choice(self.cid("number:other"), talk._("Un autre numéro"))])
        return self._reply(talk, talk._("Écrivez le numéro où vous appeler."))

    def _ask_time(self, talk: Talk, number: str) -> Reply:
        self._go(talk, "time", number=number)
        return self._reply(talk, talk._("À quel moment ?"),
                           [Choice(self.cid(f"time:{t}"), self._time_label(talk, t, title=True))
                            for t in TIMES])

    @staticmethod
    def _time_label(talk: Talk, slot: str, title: bool = False) -> str:
        label = talk._(CALLBACK_TIMES[slot])
        return label[:1].upper() + label[1:] if title else label

    # ---- turns -------------------------------------------------------------------------
    def handle(self, talk: Talk, turn: Turn) -> list[Reply] | None:
        if turn.intent != "choose" or not turn.choice:
            if turn.intent == "menu":
                return None
            # Free text that did not go through the gateway's private path: never kept, never
            # echoed, never interpreted beyond the exit words.
            word = (turn.text or "").strip().casefold()
            if word in QUICK_EXIT_WORDS:
                return self._exit(talk, "")
            return self._input(talk, "")
        replies = self.dispatch(talk, turn)
        return replies if replies is not None else self._input(talk, "")

    # ---- button presses (ACTIONS); None: say nothing is kept, ask the step again ---------
    def _country(self, talk: Talk, arg: str) -> list[Reply] | None:
        if arg not in COUNTRY_CODES:
            return None
        talk.state.country = arg
        return [self._info(talk)]

    def _callback(self, talk: Talk, arg: str) -> list[Reply]:
        if not talk.repo.callback_available(talk.state.country):
            return [self._info(talk)]
        self._go(talk, "consent")
        return [self._reply(talk, talk._(
            "Une personne formée peut vous rappeler, gratuitement. Nous gardons seulement le "
            "numéro et le moment que vous choisissez, rien d'autre. Vous êtes d'accord ?"),
            [Choice(self.cid("consent"), talk._("Oui, rappelez-moi"))])]

    def _consent(self, talk: Talk, arg: str) -> list[Reply]:
        return [self._ask_number(talk)]

    def _number(self, talk: Talk, arg: str) -> list[Reply]:
        if arg == "this" and talk.metadata.get("channel") == "whatsapp":
            return [self._ask_time(talk, number="this")]
        if arg == "other":
            return [self._reply(talk, talk._("Écrivez le numéro où vous appeler."))]
        if not arg and talk.repo.has_callback_draft(talk.sender_id):
            return [self._ask_time(talk, number="typed")]
        return [self._reply(talk, talk._("Ce n'est pas un numéro de téléphone. Écrivez-le "
                                         "comme ceci : 76 12 34 56."))]

    def _number_without_consent(self, talk: Talk, arg: str) -> list[Reply]:
        """A number typed at another step: consent was not given, it is not kept."""
        talk.repo.clear_callback_draft(talk.sender_id)
        return self._input(talk, arg)

    def _time(self, talk: Talk, arg: str) -> list[Reply] | None:
        if arg not in TIMES:
            return None
        self._go(talk, "confirm", time=arg)
        return [self._reply(talk, talk._(
            "Une personne formée vous appellera {when}, au numéro choisi. C'est d'accord ?"
        ).format(when=self._time_label(talk, arg)),
            [Choice(self.cid("confirm"), talk._("Confirmer"))])]

    def _input(self, talk: Talk, arg: str) -> list[Reply]:
        """Anything typed: say that nothing is kept, and repeat the current step."""
        note = talk._("Vous n'avez pas besoin de raconter ce qui s'est passé. Ce que vous écrivez "
                      "ici n'est pas gardé.")
        reply = self.ask_again(talk)
        if reply is None:
            talk.end_flow()
            return [talk.reply(note)]
        reply.text = f"{note}\n\n{reply.text}"
        return [reply]

    def _confirm(self, talk: Talk, arg: str) -> list[Reply]:
        state = self._state(talk)
        request = talk.repo.create_request(
            contact_id=talk.sender_id, category="protection",
            channel=talk.metadata.get("channel") or "web",
            callback_number="channel" if state.get("number") == "this" else "draft",
            country=talk.state.country, language=talk.lang, callback_time=state.get("time"))
        if request is None:
            return [self._ask_number(talk)]
        code = request.reference_code
        self._go(talk, "done")
        text = talk._("C'est noté. Une personne formée vous appellera. Votre code : {code}.\n"
                      "Pour annuler le rappel, répondez « annuler ».").format(code=code)
        text += "\n" + self.code_note(talk, code)
        return [talk.reply(f"{text}\n\n{self.clear_chat_help(talk)}",
                           [Choice(self.cid("cancel"), talk._("Annuler le rappel"))],
                           sensitive=True)]

    def _withdraw(self, talk: Talk, arg: str) -> list[Reply]:
        """"Annuler" right after a call-back was booked: withdraw the consent, erase the number."""
        talk.repo.withdraw_callback(talk.sender_id)
        talk.end_flow()
        return [talk.reply(talk._("Le rappel est annulé et votre numéro est effacé. De l'aide "
                                  "reste possible quand vous voulez."))]

    def _cancel(self, talk: Talk, arg: str) -> list[Reply]:
        talk.repo.clear_callback_draft(talk.sender_id)
        talk.end_flow()
        return [talk.reply(talk._("D'accord. Rien n'est enregistré. De l'aide reste possible "
                                  "quand vous voulez."))]

    def _exit(self, talk: Talk, arg: str) -> list[Reply]:
        talk.repo.clear_callback_draft(talk.sender_id)
        talk.end_flow()
        return [talk.reply(talk._("Vous êtes sorti(e). Rien n'est enregistré.") + "\n\n"
                           + self.clear_chat_help(talk))]
