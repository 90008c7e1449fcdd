"""Request helpers shared by every webhook: size limits, JSON decoding, clear refusals."""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024


class BadRequest(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.reason}, status_code=self.status)


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The raw body, refused with 413 past `limit` without reading it all into memory."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BadRequest(413, "body too large")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BadRequest(413, "body too large")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(body: bytes, where: str) -> Any:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        log.warning("%s: refused a body that is not valid UTF-8 (%d bytes)", where, len(body))
        raise BadRequest(400, "body is not valid UTF-8") from None
    try:
        return json.loads(text)
    except ValueError:
        log.warning("%s: refused malformed JSON (%d bytes)", where, len(body))
        raise BadRequest(400, "malformed JSON") from None
