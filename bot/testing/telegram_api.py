"""A fake Telegram Bot API on loopback, spoken to by the real python-telegram-bot.

    fake = FakeTelegramAPI(token="123:ABC").start()
    Bot(token, base_url=f"{fake.url}/bot", base_file_url=f"{fake.url}/file/bot")

Answers `/bot<token>/<method>` for getMe, sendMessage, answerCallbackQuery, setMyCommands,
setWebhook, deleteWebhook, getUpdates (serving `queue_update`'d updates) and getFile, and
serves file bytes at `/file/bot<token>/<file_path>`. Every call is recorded with its decoded
parameters (PTB sends form fields; JSON-valued fields such as reply_markup are decoded).
Faults: `fail_next(n, status=429, retry_after=2)`, `fail_next(n, status=500)`,
`hang_next(n, seconds=5)`, optionally only for one method (`match="sendMessage"`).

Builders (`text_update`, `callback_update`, `voice_update`, ...) make the updates Telegram
sends, for webhook calls and for getUpdates alike.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from bot.testing.server import FaultInjector, LoopbackServer, Recorded, ServedFake

_JSON_FIELDS = {"reply_markup", "commands", "allowed_updates", "entities", "link_preview_options"}
_counter = itertools.count(1000)


def _now() -> int:
    return int(time.time())


def _chat(chat_id: int, chat_type: str = "private") -> dict[str, Any]:
    return {"id": chat_id, "type": chat_type, "first_name": "Awa"}


def _user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Awa", "language_code": "fr"}


def message_update(chat_id: int, fields: dict[str, Any], update_id: int | None = None,
                   chat_type: str = "private") -> dict[str, Any]:
    return {"update_id": update_id if update_id is not None else next(_counter),
            "message": {"message_id": next(_counter), "date": _now(),
                        "chat": _chat(chat_id, chat_type), "from": _user(chat_id), **fields}}


def text_update(chat_id: int, text: str, update_id: int | None = None,
                chat_type: str = "private") -> dict[str, Any]:
    fields: dict[str, Any] = {"text": text}
    if text.startswith("/"):
        fields["entities"] = [{"type": "bot_command", "offset": 0,
                               "length": len(text.split()[0])}]
    return message_update(chat_id, fields, update_id, chat_type)


def voice_update(chat_id: int, file_id: str = "voice-file-1", update_id: int | None = None,
                 duration: int = 4) -> dict[str, Any]:
    return message_update(chat_id, {"voice": {"file_id": file_id, "file_unique_id": "u" + file_id,
                                              "duration": duration, "mime_type": "audio/ogg",
                                              "file_size": 2048}}, update_id)


def callback_update(chat_id: int, data: str, update_id: int | None = None,
                    buttons: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"message_id": next(_counter), "date": _now(),
                               "chat": _chat(chat_id),
                               "from": {"id": 1, "is_bot": True, "first_name": "Bot"},
                               "text": "Menu"}
    if buttons:
        message["reply_markup"] = {"inline_keyboard": [
            [{"text": title, "callback_data": value}] for title, value in buttons]}
    return {"update_id": update_id if update_id is not None else next(_counter),
            "callback_query": {"id": str(next(_counter)), "from": _user(chat_id),
                               "chat_instance": "ci-1", "data": data, "message": message}}


class FakeTelegramAPI(FaultInjector, ServedFake):
    def __init__(self, token: str = "123456:TEST-token"):
        super().__init__()
        self.token = token
        self.files: dict[str, bytes] = {}
        # file id -> (bytes to stream, file_size to declare): a server that lies about the
        # size and streams more, without Content-Length. `streamed` counts what left.
        self.streams: dict[str, tuple[int, int]] = {}
        self.streamed: dict[str, int] = {}
        self._updates: list[dict[str, Any]] = []
        self._updates_lock = threading.Lock()
        self._message_ids = itertools.count(1)
        self.server = LoopbackServer(Starlette(routes=[
            Route("/bot{token}/{method}", self._api, methods=["GET", "POST"]),
            Route("/file/bot{token}/{path:path}", self._file, methods=["GET"]),
        ]))


    def queue_update(self, update: dict[str, Any]) -> None:
        with self._updates_lock:
            self._updates.append(update)

    def sent_messages(self) -> list[dict[str, Any]]:
        return [r.body for r in self.calls("sendMessage")]

    # ------------------------------------------------------------------ routes
    @staticmethod
    def _error(code: int, description: str, retry_after: float | None = None) -> JSONResponse:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": int(retry_after)}
        return JSONResponse(body, status_code=code)

    async def _params(self, request: Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query_params)
        content_type = request.headers.get("content-type", "")
        if "application/json" in content_type:
            body = await request.body()
            if body:
                params.update(json.loads(body))
        elif content_type:
            form = await request.form()
            params.update({key: value for key, value in form.items() if isinstance(value, str)})
        for key in _JSON_FIELDS & set(params):
            if isinstance(params[key], str):
                params[key] = json.loads(params[key])
        return params

    async def _api(self, request: Request) -> Response:
        method = request.path_params["method"]
        params = await self._params(request)
        self.record(Recorded(request.method, request.url.path.replace(self.token, "<token>"),
                             method, params, dict(request.headers)))
        if request.path_params["token"] != self.token:
            return self._error(401, "Unauthorized")
        fault = self.take_fault(method)
        if fault is not None:
            if fault.hang_seconds:
                await asyncio.sleep(fault.hang_seconds)
            elif fault.status == 429:
                return self._error(429, f"Too Many Requests: retry after {fault.retry_after}",
                                   fault.retry_after or 1)
            else:
                return self._error(fault.status, {400: "Bad Request: chat not found",
                                                  403: "Forbidden: bot was blocked by the user"}
                                   .get(fault.status, "Internal Server Error"))
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return self._error(404, "Not Found")
        result = handler(params)
        if asyncio.iscoroutine(result):
            result = await result
        if isinstance(result, Response):
            return result
        return JSONResponse({"ok": True, "result": result})

    async def _file(self, request: Request) -> Response:
        self.record(Recorded("GET", request.url.path.replace(self.token, "<token>"), "file", None))
        if request.path_params["token"] != self.token:
            return Response(status_code=401)
        file_id = request.path_params["path"].removeprefix("files/")
        if file_id in self.streams:
            return StreamingResponse(self._stream(file_id, self.streams[file_id][0]),
                                     media_type="application/octet-stream")
        if file_id not in self.files:
            return Response(status_code=404)
        return Response(self.files[file_id], media_type="application/octet-stream")

    # ------------------------------------------------------------------ methods
    def _m_getMe(self, _params: dict) -> dict:
        return {"id": 123456, "is_bot": True, "first_name": "Orpaillage", "username": "fake_bot"}

    def _m_setMyCommands(self, _params: dict) -> bool:
        return True

    def _m_setWebhook(self, _params: dict) -> bool:
        return True

    def _m_deleteWebhook(self, _params: dict) -> bool:
        return True

    def _m_answerCallbackQuery(self, _params: dict) -> bool:
        return True

    def _m_sendMessage(self, params: dict) -> dict:
        chat_id = int(params["chat_id"])
        message = {"message_id": next(self._message_ids), "date": _now(),
                   "chat": _chat(chat_id), "text": params.get("text", "")}
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return message

    def _m_getFile(self, params: dict) -> Any:
        file_id = params.get("file_id", "")
        if file_id in self.streams:
            return {"file_id": file_id, "file_unique_id": "u" + file_id,
                    "file_size": self.streams[file_id][1], "file_path": f"files/{file_id}"}
        if file_id not in self.files:
            return self._error(400, "Bad Request: invalid file_id")
        return {"file_id": file_id, "file_unique_id": "u" + file_id,
                "file_size": len(self.files[file_id]), "file_path": f"files/{file_id}"}

    async def _stream(self, file_id: str, total: int, chunk: int = 64 * 1024):
        self.streamed[file_id] = 0
        while self.streamed[file_id] < total:
            size = min(chunk, total - self.streamed[file_id])
            self.streamed[file_id] += size
            yield b"\0" * size
            await asyncio.sleep(0)

    async def _m_getUpdates(self, params: dict) -> list:
        offset = int(params.get("offset") or 0)
        # A short long-poll: wait a little for an update, as Telegram would (up to `timeout`).
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 0.5)
        while True:
            with self._updates_lock:
                ready = [u for u in self._updates if u["update_id"] >= offset]
                # Telegram forgets updates below the offset: confirmed.
                self._updates = ready
            if ready or time.monotonic() >= deadline:
                return ready[: int(params.get("limit") or 100)]
            await asyncio.sleep(0.05)
