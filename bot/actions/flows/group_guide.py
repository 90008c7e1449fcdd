"""Step-by-step guide to forming a group (SCOOPS, cooperative with a board, or GIE).

Choice ids: `flow:group:start`, `flow:group:opt:<option>`, `flow:group:step:<step>`,
`flow:group:done:<step>`. Progress (the chosen form and the steps done) is kept per user in
`State.progress["group"]`, kept in the app's `conversation_states`, so a leader can come back
days later and continue where they stopped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.actions.flows.base import Flow
from bot.actions.state import Turn
from bot.core.messages import Choice, Reply

if TYPE_CHECKING:  # pragma: no cover
    from bot.actions.dialogue import Talk

GUIDE_ID = "group"
QUESTION_CONFIDENCE = 0.7  # a question asked in the guide is answered, the guide kept


class GroupGuide(Flow):
    name = "group"
    ACTIONS = {(None, "opt"): "_option", (None, "step"): "_step", (None, "done"): "_done"}

    def _progress(self, talk: Talk) -> dict:
        return dict(talk.state.progress.get(GUIDE_ID) or {})

    def _save(self, talk: Talk, progress: dict) -> None:
        talk.state.progress = {**talk.state.progress, GUIDE_ID: progress}

    def _next_step(self, talk: Talk):
        """(option, next step or None, number of steps done) of the guide in progress."""
        progress = self._progress(talk)
        try:
            option = talk.content.guide(GUIDE_ID).option(progress.get("option") or "")
        except KeyError:
            return None, None, 0
        done = set(progress.get("done") or [])
        nxt = next((s for s in option.steps if s.id not in done), None)
        return option, nxt, len([s for s in option.steps if s.id in done])

    def resume_choice(self, talk: Talk) -> Choice | None:
        """"Reprendre votre guide, étape 5 sur 7" while the guide is unfinished."""
        option, nxt, done = self._next_step(talk)
        if option is None or nxt is None:
            return None
        return Choice("flow:group:resume", talk._(
            "Reprendre votre guide, étape {step} sur {total}").format(
            step=done + 1, total=len(option.steps)))

    def resume(self, talk: Talk) -> list[Reply]:
        """"Reprendre": straight to the next step to do."""
        return self.start(talk, "resume")

    def ask_again(self, talk: Talk) -> Reply | None:
        flow = self._state(talk)
        try:
            if flow.get("at"):
                return self._step(talk, flow["at"])[0]
            if flow.get("option"):
                return self._checklist(talk, flow["option"])[0]
        except KeyError:
            pass
        return self.start(talk, "start")[0]

    def start(self, talk: Talk, arg: str) -> list[Reply]:
        if arg == "resume":
            option, nxt, _ = self._next_step(talk)
            if option is not None:
                return self._step(talk, nxt.id) if nxt else self._checklist(talk, option.id)
        guide = talk.content.guide(GUIDE_ID)
        progress = self._progress(talk)
        choices = [Choice(f"flow:group:opt:{o.id}", o.title(talk.lang)) for o in guide.options]
        text = f"{guide.intro(talk.lang)}\n\n{guide.question(talk.lang)}"
        if progress.get("option"):
            option = guide.option(progress["option"])
            done = len(progress.get("done", []))
            text = talk._("Vous avez commencé : {form} ({done} étape(s) sur {total}).").format(
                form=option.title(talk.lang), done=done, total=len(option.steps)
            ) + "\n\n" + text
            choices.insert(0, Choice(f"flow:group:opt:{option.id}", talk._("Reprendre")))
        talk.state.flow = {"name": self.name}
        return [talk.reply(text, choices[:4])]

    def handle(self, talk: Talk, turn: Turn) -> list[Reply] | None:
        if turn.intent != "choose" or not turn.choice:
            return self._typed(talk, turn)
        try:
            replies = self.dispatch(talk, turn)
        except KeyError:  # an unknown option or step (an old button)
            replies = None
        return replies if replies is not None else self.start(talk, "start")

    def _option(self, talk: Talk, option_id: str) -> list[Reply]:
        return self._checklist(talk, talk.content.guide(GUIDE_ID).option(option_id).id)

    def _typed(self, talk: Talk, turn: Turn) -> list[Reply] | None:
        """Typed text in the guide: "c fait", "ok", a button's title select it; a question
        the NLU is sure of is answered, with the guide one tap away; anything else shows the
        step again. Progress is saved at each step, so "menu" loses nothing."""
        if turn.intent in ("menu", "greet"):
            return None  # progress is saved: the menu (with "Reprendre") loses nothing
        from bot.core.choice_match import match_choice, yes_no

        reply = self.ask_again(talk)
        intent = turn.intent or ""
        if (reply is not None and not match_choice(turn.text, reply.choices)
                and not yes_no(turn.text) and talk.content.answers_for_intent(intent)
                and (turn.confidence is None or turn.confidence >= QUESTION_CONFIDENCE)):
            replies = talk.answer_intent(intent, turn)
            if replies and not replies[-1].sensitive:
                replies[-1].choices.insert(0, Choice("flow:group:resume",
                                                     talk._("Reprendre le guide")))
            return replies
        return self.typed(talk, turn)

    def _checklist(self, talk: Talk, option_id: str) -> list[Reply]:
        guide = talk.content.guide(GUIDE_ID)
        option = guide.option(option_id)
        progress = self._progress(talk)
        if progress.get("option") != option_id:
            progress = {"option": option_id, "done": []}
            self._save(talk, progress)
        done = set(progress.get("done", []))
        lines = [f"{'✅' if step.id in done else '⬜'} {n}. {step.title(talk.lang)}"
                 for n, step in enumerate(option.steps, 1)]
        nxt = next((s for s in option.steps if s.id not in done), None)
        choices = []
        if nxt is not None:
            choices.append(Choice(f"flow:group:step:{nxt.id}", talk._("Étape suivante")))
        else:
            lines.append(talk._("Toutes les étapes sont faites. Bravo !"))
        talk.state.flow = {"name": self.name, "option": option_id}
        text = f"{option.text(talk.lang)}\n\n" + "\n".join(lines)
        return [talk.reply(text, choices)]

    def _step(self, talk: Talk, step_id: str) -> list[Reply]:
        step = talk.content.guide(GUIDE_ID).step(step_id)
        text = f"{step.title(talk.lang)}\n{step.text(talk.lang)}"
        if step.documents:
            text += "\n\n" + talk._("Documents :") + "\n" + "\n".join(
                f"• {doc.title(talk.lang)}" for doc in step.documents)
        option = self._progress(talk).get("option")
        talk.state.flow = {"name": self.name, "option": option, "at": step.id}
        choices = [Choice(f"flow:group:done:{step.id}", talk._("C'est fait"))]
        if option:
            choices.append(Choice(f"flow:group:opt:{option}", talk._("Liste des étapes")))
        return [talk.reply(text, choices)]

    def _done(self, talk: Talk, step_id: str) -> list[Reply]:
        talk.content.guide(GUIDE_ID).step(step_id)  # KeyError for an unknown step
        progress = self._progress(talk)
        if not progress.get("option"):
            return self.start(talk, "start")
        done = list(progress.get("done", []))
        if step_id not in done:
            done.append(step_id)
        self._save(talk, {**progress, "done": done})
        return self._checklist(talk, progress["option"])

