"""The shape of the dialogue: flows registered in one place, dispatch by table, data through
the repository only, no flow importing another, every module small."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.actions.dialogue import State, Talk, Turn
from bot.actions.flows import FlowRegistry, build_registry
from bot.actions.flows.base import Flow
from bot.actions.flows.talk import TalkFlow
from bot.store.repository_memory import MemoryRepository

ACTIONS_DIR = Path(__file__).resolve().parents[3] / "bot" / "actions"
FLOWS_DIR = ACTIONS_DIR / "flows"


def test_the_registry_names_every_flow_and_the_intents_that_start_them():
    registry = build_registry()
    assert [flow.name for flow in registry] == [
        "report", "protection", "delete", "disclosure", "group", "status", "talk"]
    assert registry.by_intent == {
        "report_problem": "report", "violence_help": "protection", "delete_data": "delete",
        "check_status": "status", "talk_to_person": "talk"}


def test_a_registry_is_built_not_filled_by_imports():
    # Importing every flow module (done above) leaves a new registry empty.
    assert list(FlowRegistry()) == []
    assert build_registry() is not build_registry()


def test_talk_reaches_only_the_flows_it_is_given():
    only_talk = FlowRegistry().add(TalkFlow(), "talk_to_person")
    state = State(language="fr", country="ML")
    talk = Talk(state, sender_id="c", repo=MemoryRepository(), flows=only_talk)
    replies = talk.respond(Turn(intent="choose", choice="flow:report:start"))
    assert state.flow is None and state.misunderstood == 1
    assert replies[0].text.startswith("Je n'ai pas bien compris.")
    Talk(state, sender_id="c", repo=MemoryRepository(), flows=only_talk).respond(
        Turn(intent="talk_to_person", text="parler a une personne"))
    assert state.flow == {"name": "talk", "step": "share", "messages": []}


def test_the_dialogue_dispatches_choices_and_intents_by_table():
    assert sorted(Talk.CHOICES) == ["answer", "back", "country", "flow", "lang", "menu", "more",
                                    "sources"]
    assert sorted(Talk.INTENTS) == [
        "affirm", "change_country", "change_language", "deny", "go_back", "greet", "help",
        "inform", "menu", "more", "share_location", "thanks"]


@pytest.mark.parametrize("flow", list(build_registry()), ids=lambda flow: flow.name)
def test_every_flow_action_names_a_method_of_the_flow(flow: Flow):
    for (step, action), method in flow.ACTIONS.items():
        assert callable(getattr(flow, method, None)), (flow.name, step, action, method)


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("path", sorted(ACTIONS_DIR.rglob("*.py")), ids=lambda p: p.name)
def test_no_module_of_the_dialogue_reaches_tables_or_sessions_itself(path: Path):
    imports = _imports(path)
    forbidden = {name for name in imports
                 if name.startswith(("sqlalchemy", "bot.store.models", "bot.store.db",
                                     "bot.store.misses"))
                 or name in ("bot.store.requests.database", "bot.store.requests.use_database")}
    assert not forbidden, forbidden
    assert ".session()" not in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", sorted(FLOWS_DIR.glob("*.py")), ids=lambda p: p.name)
def test_flows_do_not_import_each_other(path: Path):
    if path.name == "__init__.py":  # the registry
        return
    siblings = {name for name in _imports(path) if name.startswith("bot.actions.flows.")}
    assert siblings <= {"bot.actions.flows.base", "bot.actions.flows.base.Flow"}, siblings


@pytest.mark.parametrize("path", sorted(ACTIONS_DIR.rglob("*.py")), ids=lambda p: p.name)
def test_every_module_of_the_dialogue_is_under_400_lines(path: Path):
    assert len(path.read_text(encoding="utf-8").splitlines()) < 400
