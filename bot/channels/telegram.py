"""Telegram adapter on python-telegram-bot 22 (`telegram.Bot`, no `Application`).

Two ways in, one mapping (`update_to_inbound`, in telegram_updates.py):
* webhook: POST /webhooks/telegram, checked against TELEGRAM_WEBHOOK_SECRET
  (`X-Telegram-Bot-Api-Secret-Token`); registered with setWebhook at start when
  TELEGRAM_WEBHOOK_URL is set. Webhook mode refuses to start without the secret, and the
  route exists only in webhook mode (docs/SECURITY.md, door 1);
* long polling (local runs: a token and no TELEGRAM_WEBHOOK_URL): getUpdates, each update
  stored through `Gateway.accept` before the offset moves past it.
The inbox is deduplicated on the update_id, so a redelivered update is answered once.

Sending goes through the same `Bot` (TELEGRAM_API_BASE_URL / TELEGRAM_API_FILE_URL, so tests
point it at a loopback fake). Chat ids are addresses: they go to the gateway and nowhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import (
    BadRequest as TelegramBadRequest,
)
from telegram.error import (
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest

from bot.channels import base, render
from bot.channels.http import BadRequest, parse_json, read_body
from bot.channels.media import MediaError, MediaSink, MediaWorker, stream_into
from bot.channels.telegram_updates import (
    ALLOWED_UPDATES,
    COMMANDS,
    retry_after_seconds,
    update_kind,
    update_to_inbound,
)
from bot.config import ConfigurationError, Settings, reveal
from bot.core.gateway import Gateway, SendError, backoff_seconds
from bot.core.messages import Channel, Inbound, InboundKind, Reply
from bot.store.models import MediaFile

__all__ = ["TelegramChannel", "update_to_inbound"]

log = logging.getLogger(__name__)


class TelegramChannel(base.ChannelAdapter):
    name = Channel.TELEGRAM.value
    capabilities = base.TELEGRAM
    SEND_TIMEOUT = 10.0  # seconds, for every Bot API call but getUpdates
    POLL_TIMEOUT = 25  # long-polling wait, seconds
    MEDIA_POLL_SECONDS = 2.0
    MEDIA_TIMEOUT = 60.0

    def __init__(self, settings: Settings, gateway: Gateway):
        self.settings = settings
        self.gateway = gateway
        timeout = self.SEND_TIMEOUT
        self._requests = (
            HTTPXRequest(connection_pool_size=32, read_timeout=timeout, write_timeout=timeout,
                         connect_timeout=timeout, pool_timeout=timeout),
            HTTPXRequest(connection_pool_size=1, read_timeout=self.POLL_TIMEOUT + 10,
                         connect_timeout=timeout, write_timeout=timeout),
        )
        self.bot = Bot(
            reveal(settings.telegram_bot_token) or "",
            base_url=settings.telegram_api_base_url,
            base_file_url=settings.telegram_api_file_url,
            request=self._requests[0],
            get_updates_request=self._requests[1],
        )
        self.polling = not settings.telegram_webhook_url
        if not self.polling and not settings.telegram_webhook_secret:
            # Without the secret anyone who knows a chat id could post updates as that user.
            raise ConfigurationError(
                "TELEGRAM_WEBHOOK_URL is set but TELEGRAM_WEBHOOK_SECRET is not: webhook mode "
                "refuses to start without a secret (set one, or unset the URL to poll)")
        self.media = MediaWorker(gateway, Channel.TELEGRAM, settings.media_dir,
                                 self._fetch_media, poll_seconds=self.MEDIA_POLL_SECONDS,
                                 max_bytes=settings.media_max_bytes)
        self._media_http = httpx.AsyncClient(timeout=httpx.Timeout(self.MEDIA_TIMEOUT,
                                                                   connect=timeout))
        self._progress: dict[tuple[str, str], int] = {}
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self._background: set[asyncio.Task] = set()
        self.offset: int | None = None

    def routes(self) -> list[BaseRoute]:
        # The webhook exists in webhook mode only: when polling, nobody may post updates.
        if self.polling:
            return []
        return [Route("/webhooks/telegram", self.webhook, methods=["POST"])]

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        self._stop.clear()
        self._tasks = [asyncio.create_task(self._run()),
                       asyncio.create_task(self.media.run(self._stop))]

    async def stop(self) -> None:
        self._stop.set()
        self.media.wake()
        for task in [*self._tasks, *self._background]:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._background, return_exceptions=True)
        await self._media_http.aclose()
        for request in self._requests:
            try:
                await request.shutdown()
            except Exception:  # pragma: no cover - closing a client must not fail a shutdown
                log.debug("telegram: shutdown", exc_info=True)

    async def _run(self) -> None:
        """Set up the bot (commands, webhook or polling); Telegram being away never stops
        the app from starting: each step is retried in the background."""
        await self._until_done("check the token (getMe)", lambda: self.bot.get_me())
        await self._until_done("set the command menu", lambda: self.bot.set_my_commands(
            [BotCommand(command, description) for command, description in COMMANDS]))
        if self.polling:
            await self._until_done("remove the webhook (polling mode)",
                                   lambda: self.bot.delete_webhook())
            await self._poll()
        else:
            await self._until_done("register the webhook", lambda: self.bot.set_webhook(
                url=self.settings.telegram_webhook_url or "",  # set: not polling
                secret_token=reveal(self.settings.telegram_webhook_secret),
                allowed_updates=ALLOWED_UPDATES))

    async def _until_done(self, what: str, call: Callable[[], Awaitable[object]]) -> None:
        attempt = 0
        while not self._stop.is_set():
            attempt += 1
            try:
                await call()
                log.info("telegram: %s: done", what)
                return
            except (InvalidToken, Forbidden) as exc:
                log.error("telegram: cannot %s: %s (check TELEGRAM_BOT_TOKEN)", what,
                          type(exc).__name__)
                return
            except RetryAfter as exc:
                delay = retry_after_seconds(exc) or 1.0
            except TelegramError as exc:
                delay = backoff_seconds(attempt, cap=60)
                log.warning("telegram: cannot %s yet (%s); retry in %.0f s", what,
                            type(exc).__name__, delay)
            await self._sleep(delay)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    async def _poll(self) -> None:
        log.info("telegram: polling for updates")
        attempt = 0
        while not self._stop.is_set():
            try:
                updates = await self.bot.get_updates(
                    offset=self.offset, timeout=self.POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES)
                attempt = 0
            except RetryAfter as exc:
                await self._sleep(retry_after_seconds(exc) or 1.0)
                continue
            except Conflict:
                log.warning("telegram: getUpdates conflicts with a webhook or another poller")
                await self._until_done("remove the webhook", lambda: self.bot.delete_webhook())
                await self._sleep(1.0)
                continue
            except (InvalidToken, Forbidden):
                log.error("telegram: the token was refused; polling stops (check "
                          "TELEGRAM_BOT_TOKEN)")
                return
            except TelegramError as exc:
                attempt += 1
                delay = backoff_seconds(attempt, cap=30)
                log.warning("telegram: getUpdates failed (%s); retry in %.0f s",
                            type(exc).__name__, delay)
                await self._sleep(delay)
                continue
            for update in updates:
                try:
                    self.handle_update(update)
                except Exception:
                    # Not stored: keep the offset so that Telegram gives it to us again.
                    log.exception("telegram: could not store update; retrying")
                    await self._sleep(1.0)
                    break
                self.offset = update.update_id + 1

    # ------------------------------------------------------------------- intake
    def handle_update(self, update: Update) -> bool:
        """Store one update through the gateway. True when a message was accepted."""
        inbound = update_to_inbound(update)
        if inbound is None:
            chat = update.effective_chat
            where = f" in a {chat.type} chat" if chat is not None and chat.type != "private" else ""
            log.info("telegram: ignored update %s (%s%s)", update.update_id,
                     update_kind(update), where)
            return False
        if inbound.kind == InboundKind.CHOICE and render.is_hashed_callback(
                inbound.choice_id or ""):
            inbound = self._resolve_hashed(inbound)
        accepted = self.gateway.accept(inbound)
        if accepted.duplicate:
            log.info("telegram: update %s delivered again; kept once (message %s)",
                     update.update_id, accepted.inbox_id)
        if inbound.media is not None:
            self.media.wake()
        if update.callback_query is not None:
            self._in_background(self._answer_callback(update.callback_query.id))
        return True

    def _resolve_hashed(self, inbound: Inbound) -> Inbound:
        key = inbound.choice_id or ""
        for offered in self.gateway.offered_choices(Channel.TELEGRAM, inbound.address):
            if render.callback_data_for(offered.get("id", "")) == key:
                return Inbound(inbound.channel, inbound.channel_message_id, inbound.address,
                               InboundKind.CHOICE, choice_id=offered["id"])
        # An old keyboard: its title still says what the user wanted.
        if inbound.text:
            return Inbound(inbound.channel, inbound.channel_message_id, inbound.address,
                           InboundKind.TEXT, text=inbound.text)
        return Inbound(inbound.channel, inbound.channel_message_id, inbound.address,
                       InboundKind.UNSUPPORTED)

    def _in_background(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _answer_callback(self, query_id: str) -> None:
        # Stops the spinner on the pressed button; the reply itself comes from the outbox.
        try:
            await self.bot.answer_callback_query(query_id)
        except TelegramError as exc:
            log.info("telegram: callback query not answered (%s)", type(exc).__name__)

    async def webhook(self, request: Request) -> Response:
        secret = reveal(self.settings.telegram_webhook_secret) or ""
        given = request.headers.get("x-telegram-bot-api-secret-token", "")
        # Never fails open: no configured secret refuses every call (start() refuses it too).
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("telegram: refused a webhook call with a missing or wrong secret")
            return JSONResponse({"error": "forbidden"}, status_code=403)
        try:
            data = parse_json(await read_body(request), "telegram")
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise BadRequest(400, "expected an update object")
        except BadRequest as exc:
            log.warning("telegram: refused a webhook call: %s", exc.reason)
            return exc.response()
        try:
            update = Update.de_json(data, self.bot)
        except Exception as exc:
            # Valid JSON that PTB cannot read: answering an error would make Telegram resend
            # it forever and hold back the updates queued behind it.
            log.warning("telegram: unreadable update %s ignored (%s)", data["update_id"],
                        type(exc).__name__)
            return JSONResponse({"status": "ignored"})
        try:
            self.handle_update(update)
        except Exception:
            log.exception("telegram: could not store update %s; Telegram will resend it",
                          data["update_id"])
            return JSONResponse({"error": "try again"}, status_code=500)
        return JSONResponse({"status": "ok"})

    # ------------------------------------------------------------------- sending
    async def send(self, address: str, reply: Reply, *,
                   last_inbound_at: datetime | None = None) -> str | None:
        messages = render.telegram_messages(reply)
        chat_id: int | str = int(address) if address.lstrip("-").isdigit() else address
        key = (address, hashlib.sha256(json.dumps(reply.to_json(), sort_keys=True)
                                       .encode()).hexdigest())
        provider_id = None
        for index in range(self._progress.get(key, 0), len(messages)):
            part = messages[index]
            markup = InlineKeyboardMarkup(
                [[InlineKeyboardButton(title, callback_data=data)] for title, data in part.buttons]
            ) if part.buttons else None
            try:
                sent = await self.bot.send_message(chat_id=chat_id, text=part.text,
                                                   reply_markup=markup)
            except RetryAfter as exc:
                raise SendError("telegram: flood control",
                                retry_after=retry_after_seconds(exc)) from None
            except (TelegramBadRequest, Forbidden, ChatMigrated) as exc:
                raise SendError(f"telegram: {exc.message}"[:300],
                                retryable=False) from None
            except (TimedOut, NetworkError) as exc:
                raise SendError(f"telegram: {type(exc).__name__}") from None
            except TelegramError as exc:
                raise SendError(f"telegram: {type(exc).__name__}") from None
            if len(self._progress) > 10_000:
                self._progress.clear()
            self._progress[key] = index + 1
            provider_id = str(sent.message_id)
        self._progress.pop(key, None)
        return provider_id

    # --------------------------------------------------------------------- media
    async def _fetch_media(self, row: MediaFile, sink: MediaSink) -> str | None:
        """getFile through python-telegram-bot (which builds the download URL), then the file
        streamed to disk: PTB's own download reads the whole file into memory first."""
        try:
            file = await self.bot.get_file(row.ref)
        except TelegramBadRequest as exc:  # e.g. "file is too big" (over 20 MB)
            raise MediaError(f"BadRequest: {exc.message}"[:200], retryable=False) from None
        except TelegramError as exc:
            raise MediaError(type(exc).__name__) from None
        sink.check_declared(file.file_size)
        if not file.file_path:
            raise MediaError("no file path", retryable=False)
        parts = urlsplit(str(file.file_path))
        url = urlunsplit(parts._replace(path=quote(parts.path)))
        try:  # the URL holds the bot token: never logged (httpx's logger is at WARNING)
            async with self._media_http.stream("GET", url) as response:
                if not response.is_success:
                    retryable = response.status_code >= 500 or response.status_code in (
                        408, 429)
                    raise MediaError(f"download: HTTP {response.status_code}",
                                     retryable=retryable)
                await stream_into(response, sink)  # cut off past the limit as bytes arrive
        except httpx.HTTPError as exc:
            raise MediaError(f"download: {type(exc).__name__}") from None
        return row.mime_type
