"""Issue 11, item 8: a returning user is offered what they left unfinished, the same answer is
never given twice without saying what else can help."""

from __future__ import annotations

from bot.actions.dialogue import State, Talk, Turn


def ids(replies) -> list[str]:
    return [c.id for r in replies for c in r.choices]


def guide_with_two_steps_done() -> State:
    state = State(language="fr", country="ML")
    talk = Talk(state)
    talk.respond(Turn(intent="choose", choice="flow:group:start"))
    checklist = talk.respond(Turn(intent="choose", choice="flow:group:opt:scoops"))
    for _ in range(2):
        step = next(c for c in ids(checklist) if c.startswith("flow:group:step:"))
        Talk(state).respond(Turn(intent="choose", choice=step))
        checklist = Talk(state).respond(
            Turn(intent="choose", choice=step.replace(":step:", ":done:")))
    return state


def test_a_greeting_offers_to_resume_the_guide_first():
    state = guide_with_two_steps_done()
    total = len(Talk(state).content.guide("group").option("scoops").steps)
    replies = Talk(state).respond(Turn(intent="greet", text="bonjour"))
    first = replies[-1].choices[0]
    assert first.id == "flow:group:resume"
    assert first.title == f"Reprendre votre guide, étape 3 sur {total}"
    resumed = Talk(state).respond(Turn(intent="choose", choice="flow:group:resume"))
    done = state.progress["group"]["done"]
    assert ids(resumed)[0].startswith("flow:group:done:")
    assert ids(resumed)[0].rsplit(":", 1)[1] not in done


def test_a_first_message_after_a_pause_is_answered_and_offers_to_resume():
    state = guide_with_two_steps_done()
    replies = Talk(state).respond(Turn(intent="seasonal_closure", text="fermeture",
                                       metadata={"returning": True}))
    assert "15 juin" in replies[0].text  # answered, not taken for a guide answer
    assert ids(replies)[0] == "flow:group:resume"


def test_no_resume_without_unfinished_work():
    replies = Talk(State(language="fr")).respond(Turn(intent="greet", text="bonjour"))
    assert "flow:group:resume" not in ids(replies)


def test_the_same_answer_twice_says_what_else_can_help():
    state = State(language="fr", country="ML")
    first = Talk(state).respond(Turn(intent="seasonal_closure", text="fermeture"))
    again = Talk(state).respond(Turn(intent="seasonal_closure", text="fermeture ?"))
    assert again[0].text.startswith(first[0].text)
    assert again[0].text.endswith(
        "C'est la même réponse que tout à l'heure. Si elle ne vous aide pas, choisissez "
        "ci-dessous ou parlez à une personne.")
    assert "flow:talk:start" in ids(again) and "flow:talk:start" not in ids(first)
    # Something else in between: answered normally again.
    Talk(state).respond(Turn(intent="sell_gold", text="vendre"))
    third = Talk(state).respond(Turn(intent="seasonal_closure", text="fermeture"))
    assert third[0].text == first[0].text


