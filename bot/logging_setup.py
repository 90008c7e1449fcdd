"""Logging for every process of ours. Identifiers never belong in a log line.

Code logs contact ids (pseudonymous), never addresses; as a second guard, anything that
looks like a phone number or a long chat id is masked before a line is written: in the
message, in the exception text and traceback, and in stack information (docs/SECURITY.md,
door 6). `configure_logging` installs the scrubbing in the log record factory, so it applies
to every logger and every handler of the process (uvicorn's, Sanic's, a test's), and on our
handler as a filter too.
"""

from __future__ import annotations

import logging
import os
import re
import traceback

REDACTED = "[redacted]"
# A run of digits that may be written with spaces, dots, dashes, slashes or brackets between
# groups, with a leading "+" or "00", e.g. "+223 76 12 34 56", "(+223) 76.12.34.56",
# "0022376123456", "-1001234567890" (a Telegram group). Masked when it holds 8 digits or more.
_CANDIDATE = re.compile(
    r"(?<![\w.])(?:[+-]|\(\+?)?\d(?:[ \u00a0.\-/()]{0,3}\d)+(?![\w])")
_MIN_DIGITS = 8
# Timestamps are not phone numbers: 2026-12-03, 2026-12-03 18:29:41, 2026-12-03T18:29:41.
_TIMESTAMP = re.compile(
    r"^(?:19|20)\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?:[ T]\d\d(?::\d\d){0,2})?$")


def _mask(match: re.Match[str]) -> str:
    found = match.group(0)
    if sum(ch.isdigit() for ch in found) < _MIN_DIGITS or _TIMESTAMP.match(found):
        return found
    return REDACTED


def scrub(text: str) -> str:
    """`text` with every phone-number-like or chat-id-like run of digits masked."""
    return _CANDIDATE.sub(_mask, text) if text else text


def scrub_record(record: logging.LogRecord) -> logging.LogRecord:
    """Scrub a record in place: message, exception text (with its traceback), stack info."""
    if getattr(record, "_scrubbed", False):
        return record
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: leave it to logging's own error handling
        message = None
    if message is not None:
        redacted = scrub(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, None
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
    if record.exc_text:
        record.exc_text = scrub(record.exc_text)
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)
    record._scrubbed = True
    return record


class RedactIdentifiers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        scrub_record(record)
        return True


_factory_installed = False


def install_record_scrubbing() -> None:
    """Scrub every record at creation, whichever logger and handler it goes to."""
    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        return scrub_record(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _factory_installed = True


def configure_logging(level: str | None = None) -> None:
    install_record_scrubbing()
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactIdentifiers())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level or os.environ.get("LOG_LEVEL", "INFO"))
    # httpx logs every request URL, and Telegram's URLs carry the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
