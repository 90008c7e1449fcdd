"""Issue 14, door 6, end to end: intake fails with a number and a marker in the message, and
no log of the running app (its stdout/stderr and every file under its logs folder) holds the
marker, the typed number in any shape, or the sender's number.

The app runs as `make run` runs it (`python -m bot.app`, output to var/logs/app.log), at
DEBUG level. Intake is made to fail by the database itself (a trigger refusing every insert
into the inbox): SQLAlchemy's error then names the statement, and without
`hide_parameters` its bound values (the message text) would be in the traceback.
"""

from __future__ import annotations

import sqlite3
import time

import httpx

from bot.devtools.stack import Stack
from bot.testing import graph_api as meta

APP_SECRET = "app-secret-logs"
SENDER = "22376000123"
MARKER = "ZX-MARQUEUR-6623"
TYPED = "+223 76 12 34 56"
TEXT = f"Le chef de site me vole, {MARKER}, rappelez-moi au {TYPED} ou 0022376123456"
NEEDLES = [MARKER, "me vole", TYPED, "76 12 34 56", "76123456", "0022376123456", SENDER]


def test_an_intake_failure_leaves_no_text_or_number_in_any_log(tmp_path):
    workdir = tmp_path / "var"
    stack = Stack.create(workdir, usual_ports=False, extra_env={
        "LOG_LEVEL": "DEBUG", "WHATSAPP_ACCESS_TOKEN": "EAAG-test-token",
        "WHATSAPP_PHONE_NUMBER_ID": meta.PHONE_NUMBER_ID, "WHATSAPP_APP_SECRET": APP_SECRET,
        "WHATSAPP_API_BASE_URL": "http://127.0.0.1:9", "WEB_CHAT_OPEN": "1"})
    stack.migrate()
    db_file = stack.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(db_file) as connection:
        connection.execute("CREATE TRIGGER refuse_inbox BEFORE INSERT ON inbox "
                           "BEGIN SELECT RAISE(ABORT, 'inbox refused'); END")
    stack.start_app()
    try:
        stack.wait_app(60)
        body = meta.encode(meta.webhook([meta.text_message(SENDER, TEXT)]))
        response = httpx.post(f"{stack.app_url}/webhooks/whatsapp", content=body, headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": meta.sign(body, APP_SECRET)}, timeout=30)
        assert response.status_code == 500  # not stored: Meta will deliver it again
        time.sleep(0.5)
    finally:
        stack.stop()

    logs = [p for p in workdir.rglob("*") if p.is_file() and (
        p.suffix == ".log" or "logs" in p.parts)]
    assert logs, "the app wrote no log"
    everything = "\n".join(p.read_text(errors="replace") for p in logs)
    assert "could not store a delivery" in everything and "Traceback" in everything
    assert "inbox refused" in everything  # the real error is there, without its values
    for needle in NEEDLES:
        assert needle not in everything, f"{needle!r} in the logs"
