"""Follow-up requests through the real pipeline: web chat -> app -> real Rasa NLU -> dialogue.

French: report a problem, get a reference code, check its status. Bambara: the protection
flow, with a marker sentence that must then be found in no store and no log of ours or Rasa's.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
import uuid

import pytest
from sqlalchemy import create_engine, inspect, text

from bot.devtools.stack import MODEL, Stack
from bot.testing.conversation import Conversation, web_chat

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

CODE = re.compile(r"\b(ML|GN|SN)-[A-HJ-KM-NP-Z2-9]{6}\b")
MARKER = "ZX-MARQUEUR-9183 mon voisin Seydou m'a fait du mal"


@pytest.fixture(scope="module")
def pg_stack(tmp_path_factory):
    """A second assistant whose app uses PostgreSQL (production's database)."""
    name = "assistant_" + uuid.uuid4().hex[:8]
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    workdir = tmp_path_factory.mktemp("pg-stack")
    stack = Stack.create(workdir, usual_ports=False,
                         database_url=f"postgresql://postgres@127.0.0.1:5432/{name}",
                         extra_env={"WEB_WAIT_SECONDS": "3", "ACK_AFTER_SECONDS": "1"})
    assert MODEL.exists()
    stack.start()
    try:
        stack.wait_app(60)
        stack.wait_rasa(float(os.environ.get("RASA_WAIT_SECONDS", "300")))
        yield stack
    finally:
        stack.stop()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def running(request):
    """The session's SQLite assistant, or the PostgreSQL one."""
    return request.getfixturevalue("stack" if request.param == "sqlite" else "pg_stack")


def dump_app_database(stack: Stack) -> str:
    if stack.database_url.startswith("sqlite"):
        return "\n".join(sqlite3.connect(stack.workdir / "assistant.db").iterdump())
    engine = create_engine(stack.database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as connection:
            rows = []
            for table in inspect(connection).get_table_names():
                rows.extend(repr(tuple(row)) for row in connection.execute(
                    text(f'SELECT * FROM "{table}"')))
            return "\n".join(rows)
    finally:
        engine.dispose()


def new_chat(stack: Stack) -> Conversation:
    return web_chat(stack.app_url, "req-" + uuid.uuid4().hex[:10])


def test_report_a_land_conflict_then_check_its_status_in_french(running: Stack):
    chat = new_chat(running)
    chat.say("Bonjour")
    chat.press("country:ML")
    chat.say("je veux signaler un problème sur le site").has_choice(
        "flow:report:cat:land_conflict")
    chat.press("flow:report:cat:land_conflict").expect("où")
    chat.say("à Kéniéba")
    chat.say("des gens veulent prendre le terrain de notre coopérative")
    chat.press("flow:report:contact:no")
    done = chat.press("flow:report:confirm")
    match = CODE.search(done.text)
    assert match and match.group(1) == "ML", done.text
    code = match.group(0)
    chat.say("où en est ma demande ?")
    status = chat.say(code)
    assert code in status.text or "nouvelle" in status.text.lower(), status.text


def test_protection_in_bambara_keeps_nothing_the_user_typed(running: Stack):
    stack, chat = running, new_chat(running)
    chat.say("Bonjour ZX-CONTROLE-5521")  # typed outside the flow: kept, as a control
    chat.press("lang:bm")
    chat.press("country:ML")
    help_turn = chat.say("cɛ dɔ ye n tɔɔrɔ damanda la")
    assert "80 00 11 32" in help_turn.text, help_turn.text
    chat.say(MARKER)
    chat.say("menu")
    time.sleep(1)  # let the worker finish writing the last turn
    stores = [dump_app_database(stack)]  # Rasa keeps nothing: it only reads texts
    logs = "\n".join(p.read_text(errors="replace") for p in (stack.workdir / "logs").glob("*.log"))
    assert stores, "no database found to search"
    # The search does look where messages are kept: the control message is there.
    assert all("zx-controle-5521" in store.lower() for store in stores)
    for where, kept in [("databases", "\n".join(stores)), ("logs", logs)]:
        assert "ZX-MARQUEUR-9183" not in kept, f"the marker was kept in the {where}"
        assert "Seydou" not in kept, f"the marker was kept in the {where}"
