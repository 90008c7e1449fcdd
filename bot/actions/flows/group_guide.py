"""Step-by-step guide to forming a group (SCOOPS, cooperative with a board, or GIE).

Choice ids: `flow:group:start`, `flow:group:opt:<option>`, `flow:group:step:<step>`,
`flow:group:done:<step>`. Progress (the chosen form and the steps done) is kept per user in
`State.progress["group"]`, which lives in the Rasa tracker store, so a leader can come back
days later and continue where they stopped.
"""

from __future__ import annotations

from bot.actions.dialogue import Talk, Turn, register_flow
from bot.core.messages import Choice, Reply

GUIDE_ID = "group"


class GroupGuide:
    name = "group"

    def _progress(self, talk: Talk) -> dict:
        return dict(talk.state.progress.get(GUIDE_ID) or {})

    def _save(self, talk: Talk, progress: dict) -> None:
        talk.state.progress = {**talk.state.progress, GUIDE_ID: progress}

    def start(self, talk: Talk, arg: str) -> list[Reply]:
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
            return None  # free text: let the dialogue answer it (it may be a new question)
        _, _, rest = turn.choice.partition("flow:group:")
        action, _, arg = rest.partition(":")
        guide = talk.content.guide(GUIDE_ID)
        try:
            if action == "opt":
                return self._checklist(talk, guide.option(arg).id)
            if action == "step":
                return self._step(talk, arg)
            if action == "done":
                return self._done(talk, arg)
        except KeyError:
            pass
        return self.start(talk, "start")

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


register_flow(GroupGuide())
