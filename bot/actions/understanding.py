"""No dead end: a message not understood gets the closest answers, a person and the menu;
a long message's other topics are offered; misses are kept for the learning loop. A mixin of
`Talk`."""

from __future__ import annotations

import logging

from bot.actions.state import Turn
from bot.core.messages import Choice, Reply

log = logging.getLogger(__name__)

MISUNDERSTOOD_LIMIT = 2
SUGGESTION_LIMIT = 3  # answers offered after a miss, or as the other topics of a long message
OFF_TOPIC_CONFIDENCE = 0.9  # out_of_scope this sure: no content suggestions
# Flows whose turns are private: nothing typed there is searched, kept or mixed with topics.
SENSITIVE_FLOWS = frozenset({"protection"})
# Intents whose answer is a navigation screen rather than content.
NAVIGATION = {
    "greet", "menu", "more", "go_back", "thanks", "help", "affirm", "deny", "change_language",
    "change_country", "talk_to_person", "report_problem", "check_status", "delete_data",
    "out_of_scope", "nlu_fallback", "inform", "choose", "share_location",
}


class Understanding:
    """What `Talk` does with what it did not understand (`self` is the `Talk`)."""

    # ---- misunderstanding ----------------------------------------------------------
    def misunderstood(self, turn: Turn | None = None) -> list[Reply]:
        """No dead end: offer the closest answers (content search), a person and the menu.

        `turn` is the typed message not understood; without it (an unknown button), or in a
        sensitive flow, nothing is searched nor kept. Every miss of a typed message is kept
        for the learning loop (`bot.store.misses`)."""
        self.state.misunderstood += 1
        searchable = self._searchable(turn)
        # A message the classifier is sure is off-topic ("je veux acheter une moto") is not
        # matched to mining answers by its stray words; it is still kept.
        off_topic = (turn is not None and turn.intent == "out_of_scope"
                     and (turn.confidence or 0.0) >= OFF_TOPIC_CONFIDENCE)
        suggestions = self._suggest(turn.text) if searchable and not off_topic else []
        if searchable:
            self._keep_miss(turn, [s.answer_id for s in suggestions])
        if suggestions:
            choices = [Choice(f"answer:{s.answer_id}", self.content.answer(s.answer_id)
                              .title(self.lang)) for s in suggestions]
            if "talk" in self.flows:
                choices.append(Choice("flow:talk:start", self._("Parler à une personne")))
            return [self.reply(self._("Je n'ai pas bien compris. Vouliez-vous parler de… ?"),
                               choices)]
        if self.state.misunderstood >= MISUNDERSTOOD_LIMIT:
            choices = []
            if "talk" in self.flows:
                choices.append(Choice("flow:talk:start", self._("Parler à une personne")))
            return [self.reply(self._("Je ne comprends toujours pas. Voulez-vous parler à une "
                                      "personne ?"), choices)]
        menu = self.content.menu("main")
        choices = [Choice(item.choice_id, item.title(self.lang))
                   for item in menu.items_for(self.state.country)]
        return [self.reply(self._("Je n'ai pas bien compris. Choisissez dans le menu ou écrivez "
                                  "votre question autrement."), choices, nav=False)]

    def _searchable(self, turn: Turn | None) -> bool:
        """A typed message that may be searched and kept: never a payload, never private or
        in a sensitive flow (the protection flow), never one the gateway marked as possibly
        a disclosure."""
        if turn is None or not (turn.text or "").strip() or turn.text.lstrip().startswith("/"):
            return False
        if (self.state.flow or {}).get("name") in SENSITIVE_FLOWS:
            return False
        meta = self.metadata or {}
        return not (meta.get("private") or meta.get("sensitive") or meta.get("violence_segment"))

    def _suggest(self, text: str) -> list:
        from bot.content.search import suggest

        try:
            return suggest(text, self.lang, self.state.country, limit=SUGGESTION_LIMIT,
                           content=self.content)
        except Exception:  # the search is a help, never a reason to fail the turn
            log.exception("dialogue: content search failed")
            return []

    def _keep_miss(self, turn: Turn, suggested: list[str]) -> None:
        """Keep the miss for the learning loop (needs the contact id, for erasure)."""
        if not self.sender_id:
            return
        guess = turn.guess or (turn.intent if turn.intent not in (None, "nlu_fallback") else None)
        try:
            self.repo.keep_miss(
                contact_id=self.sender_id, text=turn.text or "",
                channel=self.metadata.get("channel"), language=self.lang,
                country=self.state.country, intent=guess, confidence=turn.confidence,
                suggested=suggested)
        except Exception:  # never lose the user's turn over the learning loop
            log.exception("dialogue: could not keep a misunderstood message")

    def _choose_answer(self, answer_id: str) -> list[Reply]:
        """A pressed answer. After a miss, note which suggestion it was; a country's rule
        with the country unknown asks the country first (then shows the right one)."""
        if self.state.misunderstood and self.sender_id:
            try:
                self.repo.note_chosen_suggestion(self.sender_id, answer_id)
            except Exception:
                log.exception("dialogue: could not note the chosen suggestion")
        self.state.misunderstood = 0
        answer = self.content.answers.get(answer_id)
        if (answer is not None and not self.state.country and answer.intents
                and not answer.for_all_countries):
            return self.answer_intent(answer.intents[0], Turn(intent=None))
        return self.show_answer(answer_id)

    def _also(self, replies: list[Reply], turn: Turn) -> list[Reply]:
        """A long message answered by its strongest question: offer the other topics it
        raised (`other_intents`, names only, from the gateway), never in a sensitive flow."""
        others = (turn.metadata or {}).get("other_intents")
        if (not isinstance(others, list) or not others or self.state.pending
                or any(r.sensitive for r in replies)
                or (self.state.flow or {}).get("name") in SENSITIVE_FLOWS):
            return replies
        shown = {self.state.last_answer} if self.state.last_answer else set()
        choices: list[Choice] = []
        for intent in others:
            if not isinstance(intent, str) or intent == turn.intent or intent in NAVIGATION:
                continue
            choice = self._topic_choice(intent)
            if choice is None or choice.id in shown or choice.id.removeprefix("answer:") in shown:
                continue
            shown.add(choice.id)
            choices.append(choice)
            if len(choices) == SUGGESTION_LIMIT:
                break
        if choices:
            replies.append(self.reply(self._("Vous avez aussi parlé de :"), choices))
        return replies

    def _topic_choice(self, intent: str) -> Choice | None:
        """A button for an intent: its flow, or its answer for the contact's country (any
        country's when unknown: pressing it asks the country first)."""
        flow = self.flows.for_intent(intent)
        if flow is not None:
            choice_id = f"flow:{flow.name}:start"
            try:
                return Choice(choice_id, self.content.choice_title(choice_id, self.lang))
            except KeyError:
                return None
        answer = self.content.answer_for(intent, self.state.country)
        if answer is None and not self.state.country:
            candidates = self.content.answers_for_intent(intent)
            answer = candidates[0] if candidates else None
        if answer is None:
            return None
        return Choice(f"answer:{answer.id}", answer.title(self.lang))
