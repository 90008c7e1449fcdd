"""Logging for every process of ours. Identifiers never belong in a log line.

Code logs contact ids (pseudonymous), never addresses; as a second guard, anything that
looks like a phone number or a long chat id is masked before a line is written.
"""

from __future__ import annotations

import logging
import os
import re

_LONG_DIGITS = re.compile(r"(?<![\w.])\+?\d[\d \-]{6,}\d(?![\w.])")


class RedactIdentifiers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _LONG_DIGITS.sub("[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def configure_logging(level: str | None = None) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactIdentifiers())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level or os.environ.get("LOG_LEVEL", "INFO"))
    # httpx logs every request URL, and Telegram's URLs carry the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
