"""Issue 14, door 6: no phone number or chat id in a log line, tracebacks included.

Numbers are written every way miners and APIs write them: with spaces, dots, dashes, a
leading + or 00, in brackets. Exception messages and stack traces go through the same
scrubbing, and SQLAlchemy never puts bound parameters (message text) in an error.
"""

from __future__ import annotations

import io
import logging

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot import logging_setup
from bot.logging_setup import RedactIdentifiers, configure_logging, scrub
from bot.store.db import make_engine

SHAPES = ["+223 76 12 34 56", "0022376123456", "76.12.34.56", "76-12-34-56", "+22376123456",
          "(+223) 76 12 34 56", "620 00 00 01", "+224-620-00-00-01", "00 223 76 12 34 56",
          "76 12 34 56", "76123456", "-1001234567890", "chat 987654321"]


@pytest.mark.parametrize("shape", SHAPES)
def test_every_way_of_writing_a_number_is_scrubbed(shape):
    out = scrub(f"call {shape} now")
    label = "chat " if shape.startswith("chat ") else ""  # the word stays, the id goes
    assert out == f"call {label}[redacted] now", (shape, out)


@pytest.mark.parametrize("line", [
    "inbox: accepted message 12 (whatsapp, text)", "rasa answered in 35 ms",
    "outbox: 3 held replies of c_1f2e3d4c5b6a79881234 due again", "attempt 5 of 12",
    "retry in 30 s", "stored at 2026-12-03 18:29:41", "port 5005",
])
def test_ordinary_lines_are_left_alone(line):
    assert scrub(line) == line


def test_exception_text_tracebacks_and_stack_info_are_scrubbed():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(RedactIdentifiers())
    logger = logging.getLogger("test.scrub")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise ValueError("could not send to +223 76 12 34 56 (chat 0022376123456)")
        except ValueError:
            logger.exception("sending failed for %s", "76.12.34.56")
        logger.warning("where: %s", "76-12-34-56", stack_info=True)
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "Traceback" in output and "ValueError" in output and "Stack (most recent" in output
    for digits in ("76 12 34 56", "0022376123456", "76.12.34.56", "76-12-34-56"):
        assert digits not in output, output


def test_records_are_scrubbed_for_every_handler_once_logging_is_configured(monkeypatch):
    # uvicorn, Sanic and pytest add handlers of their own: the scrubbing must not depend on
    # being attached to ours.
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(logging_setup, "_factory_installed", False)
    previous = logging.getLogRecordFactory()
    try:
        configure_logging(logging.getLevelName(root.level))
        _check_a_foreign_handler()
    finally:
        logging.setLogRecordFactory(previous)


def _check_a_foreign_handler():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)  # no filter
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(handler)
    try:
        try:
            raise RuntimeError("boom for 0022376123456")
        except RuntimeError:
            logger.exception("Exception in ASGI application %s", "+223 76 12 34 56")
    finally:
        logger.removeHandler(handler)
    assert "Traceback" in stream.getvalue()
    assert "0022376123456" not in stream.getvalue()
    assert "76 12 34 56" not in stream.getvalue()


def test_sqlalchemy_errors_never_carry_the_bound_parameters(tmp_path):
    for url in (f"sqlite:///{tmp_path / 'x.db'}", "postgresql://u:p@db.invalid/x"):
        assert make_engine(url).hide_parameters is True
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)"))
        connection.execute(text("INSERT INTO t VALUES (1, 'x')"))
    with pytest.raises(IntegrityError) as caught, engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (:id, :body)"),
                           {"id": 1, "body": "ZX-MARQUEUR mon chef me vole"})
    assert "ZX-MARQUEUR" not in str(caught.value)
    engine.dispose()
