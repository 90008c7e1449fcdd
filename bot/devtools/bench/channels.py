"""Channel paths (GitHub issue 5): Telegram and WhatsApp webhooks through the real stack, with
the loopback fakes of bot/testing/ standing in for the Bot API and the Graph API (they run as
threads of the bench process). A message counts from its webhook POST to the last part of its
answer reaching the fake."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time

import httpx

from bot.devtools.bench.paths import CONVERSATION
from bot.devtools.stack import Stack
from bot.testing import graph_api, telegram_api

ACK_MSGID = "Nous avons bien reçu votre message. Nous vous répondons dès que possible."
TELEGRAM_TOKEN = "123456:BENCH-token"
TELEGRAM_SECRET = "bench-webhook-secret"
WHATSAPP_TOKEN = "EAAG-bench-token"
WHATSAPP_SECRET = "bench-app-secret"
QUIET_SECONDS = 1.5  # calibration: a turn is over when no part came for this long
TAIL_SECONDS = 10.0  # once a first part arrived, how long the remaining parts may take


def ack_texts() -> set[str]:
    """The gateway's "we received your message", in every interface language."""
    from bot.i18n import LANGUAGES, translator

    return {translator(code).gettext(ACK_MSGID) for code in LANGUAGES}


class Arrivals:
    """Replies reaching a fake, per address, time-stamped when the fake records the call.

    The fakes serve in their own threads: `add` runs there and wakes the bench's event loop.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_address: dict[str, list[tuple[float, str]]] = {}
        self._events: dict[str, asyncio.Event] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.acks = ack_texts()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Each `asyncio.run` has its own loop: wake that one (events belong to a loop)."""
        with self._lock:
            self._loop = loop
            self._events.clear()

    def add(self, address: str, text: str) -> None:
        now = time.perf_counter()
        with self._lock:
            self._by_address.setdefault(address, []).append((now, text))
            event, loop = self._events.get(address), self._loop
        if event is not None and loop is not None:
            with contextlib.suppress(RuntimeError):  # that run's event loop is closed
                loop.call_soon_threadsafe(event.set)

    def of(self, address: str) -> list[tuple[float, str]]:
        with self._lock:
            return list(self._by_address.get(address, ()))

    def is_ack(self, text: str) -> bool:
        return text.strip() in self.acks

    async def wait(self, address: str, start: int, parts: int, deadline: float
                   ) -> tuple[list[float], int]:
        """Wait for `parts` answer parts (acknowledgements aside) after index `start`.

        Returns the arrival times of the answer parts seen (maybe fewer than `parts` when the
        deadline passed, or when the rest did not follow the first part within TAIL_SECONDS)
        and the number of acknowledgements."""
        event = self._events.setdefault(address, asyncio.Event())
        while True:
            event.clear()
            window = self.of(address)[start:]
            answers = [t for t, text in window if not self.is_ack(text)]
            acks = len(window) - len(answers)
            if len(answers) >= parts:
                return answers[:parts], acks
            now = time.perf_counter()
            limit = min(deadline, answers[0] + TAIL_SECONDS) if answers else deadline
            if now >= limit:
                return answers, acks
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(event.wait(), limit - now)


def make_fakes(arrivals: Arrivals):
    class BenchTelegramAPI(telegram_api.FakeTelegramAPI):
        def record(self, entry) -> None:
            super().record(entry)
            if entry.name == "sendMessage" and isinstance(entry.body, dict):
                arrivals.add(f"tg:{entry.body.get('chat_id')}", str(entry.body.get("text", "")))

    class BenchGraphAPI(graph_api.FakeGraphAPI):
        def record(self, entry) -> None:
            super().record(entry)
            body = entry.body
            if entry.name == "messages" and isinstance(body, dict):
                text = (body.get("text") or {}).get("body") \
                    or ((body.get("interactive") or {}).get("body") or {}).get("text") \
                    or (body.get("template") or {}).get("name") or ""
                arrivals.add(f"wa:{body.get('to')}", str(text))

    return (BenchTelegramAPI(token=TELEGRAM_TOKEN).start(),
            BenchGraphAPI(token=WHATSAPP_TOKEN, phone_number_id=graph_api.PHONE_NUMBER_ID).start())


def channel_env(telegram, graph, app_port: int) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_API_BASE_URL": f"{telegram.url}/bot",
        "TELEGRAM_API_FILE_URL": f"{telegram.url}/file/bot",
        "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        # webhook mode (the fake accepts setWebhook), not polling
        "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{app_port}/webhooks/telegram",
        "WHATSAPP_ACCESS_TOKEN": WHATSAPP_TOKEN,
        "WHATSAPP_PHONE_NUMBER_ID": graph_api.PHONE_NUMBER_ID,
        "WHATSAPP_APP_SECRET": WHATSAPP_SECRET,
        "WHATSAPP_VERIFY_TOKEN": "bench-verify",
        "WHATSAPP_API_BASE_URL": graph.url,
    }


class TelegramPath:
    name = "Telegram webhook"

    def __init__(self, base: int):
        self.base = base  # chat ids of this run: base + user number

    def address(self, user: int) -> str:
        return f"tg:{self.base + user}"

    async def post(self, http: httpx.AsyncClient, stack: Stack, user: int, text: str) -> int:
        return (await http.post(f"{stack.app_url}/webhooks/telegram",
                                json=telegram_api.text_update(self.base + user, text),
                                headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
                                timeout=60)).status_code


class WhatsAppPath:
    name = "WhatsApp webhook"

    def __init__(self, base: int):
        self.base = base

    def address(self, user: int) -> str:
        return f"wa:{self.base + user}"

    async def post(self, http: httpx.AsyncClient, stack: Stack, user: int, text: str) -> int:
        wa_id = str(self.base + user)
        body = graph_api.encode(graph_api.webhook([graph_api.text_message(wa_id, text)],
                                                  wa_id=wa_id))
        return (await http.post(f"{stack.app_url}/webhooks/whatsapp", content=body,
                                headers={"Content-Type": "application/json",
                                         "X-Hub-Signature-256": graph_api.sign(body,
                                                                               WHATSAPP_SECRET)},
                                timeout=60)).status_code


async def post_until_taken(path, http: httpx.AsyncClient, stack: Stack, user: int, text: str,
                           stats: dict) -> bool:
    """POST a webhook call; like Telegram and Meta, deliver it again on an error (the same
    update id / wamid would be deduplicated, but a refused call was not stored)."""
    for attempt in range(5):
        try:
            status = await path.post(http, stack, user, text)
        except httpx.HTTPError:
            status = 0
        if status == 200:
            return True
        stats["webhook_errors"] += 1
        await asyncio.sleep(1 + attempt)
    return False


async def calibrate(stack: Stack, path, arrivals: Arrivals, timeout: float) -> list[int]:
    """How many channel messages answer each step of CONVERSATION (one user, no load)."""
    parts: list[int] = []
    async with httpx.AsyncClient() as http:
        for text in CONVERSATION:
            start = len(arrivals.of(path.address(0)))
            if not await post_until_taken(path, http, stack, 0, text, {"webhook_errors": 0}):
                raise SystemExit(f"bench: {path.name} refused the calibration message")
            deadline = time.perf_counter() + timeout
            seen = 0
            while True:
                window = [(t, x) for t, x in arrivals.of(path.address(0))[start:]
                          if not arrivals.is_ack(x)]
                if window and len(window) == seen \
                        and time.perf_counter() - window[-1][0] >= QUIET_SECONDS:
                    break
                if not window and time.perf_counter() > deadline:
                    raise SystemExit(f"bench: {path.name} did not answer {text!r} in calibration")
                seen = len(window)
                await asyncio.sleep(0.1)
            parts.append(seen)
    return parts


async def channel_load(stack: Stack, path, arrivals: Arrivals, parts: list[int], users: int,
                       concurrency: int, timeout: float, on_start=None, on_end=None) -> dict:
    """`users` users, each through CONVERSATION, at most `concurrency` messages waiting for
    their answer at a time (as in `load`). A message counts from its webhook POST to the last
    part of its answer reaching the fake; lost when no answer part came within `timeout`.
    `on_end()` is called when the last user is done (before the quiet time for late replies)."""
    arrivals.bind(asyncio.get_running_loop())
    semaphore = asyncio.Semaphore(concurrency)
    records: list[dict] = []
    stats = {"webhook_errors": 0}

    async def user(n: int, http: httpx.AsyncClient) -> None:
        address = path.address(n)
        for step, text in enumerate(CONVERSATION):
            async with semaphore:
                record = {"user": n, "step": step, "address": address,
                          "start_index": len(arrivals.of(address)),
                          "posted": time.perf_counter(), "answered": None, "parts": 0}
                records.append(record)
                if not await post_until_taken(path, http, stack, n, text, stats):
                    record["refused"] = True
                    return
                times, _acks = await arrivals.wait(address, record["start_index"], parts[step],
                                                   record["posted"] + timeout)
                record["parts"] = len(times)
                if not times:
                    return  # lost: the rest of this conversation would not be attributable
                record["answered"] = times[-1]

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits) as http:
        started = time.perf_counter()
        tasks = [asyncio.create_task(user(n, http)) for n in range(users)]
        if on_start is not None:
            await on_start(records)
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    if on_end is not None:
        on_end()
    await asyncio.sleep(3)  # late or repeated replies land in the last windows
    return judge(path, arrivals, parts, records, users, elapsed, stats)


def judge(path, arrivals: Arrivals, parts: list[int], records: list[dict], users: int,
          elapsed: float, stats: dict) -> dict:
    """Per message: answered? complete? answered twice (more answer parts than its turn has,
    a part repeated, or more than one acknowledgement)?"""
    by_user: dict[int, list[dict]] = {}
    for record in records:
        by_user.setdefault(record["user"], []).append(record)
    twice = acked = partial = 0
    replies_per_message: dict[int, int] = {}
    for user_records in by_user.values():
        user_records.sort(key=lambda r: r["step"])
        seen = arrivals.of(user_records[0]["address"])
        for i, record in enumerate(user_records):
            end = user_records[i + 1]["start_index"] if i + 1 < len(user_records) else len(seen)
            window = [text for _, text in seen[record["start_index"]:end]]
            answers = [text for text in window if not arrivals.is_ack(text)]
            acks = len(window) - len(answers)
            acked += acks > 0
            replies_per_message[len(window)] = replies_per_message.get(len(window), 0) + 1
            partial += record["answered"] is not None and record["parts"] < parts[record["step"]]
            if acks > 1 or len(answers) > parts[record["step"]] \
                    or len(set(answers)) < len(answers):
                twice += 1
                record["twice"] = True
    answered = [r for r in records if r["answered"] is not None]
    expected = users * len(CONVERSATION)
    return {"name": path.name, "records": records, "latencies": [r["answered"] - r["posted"]
                                                               for r in answered],
            "rate": len(answered) / elapsed, "elapsed": elapsed,
            "lost": len(records) - len(answered), "not_sent": expected - len(records),
            "twice": twice, "acked": acked, "partial": partial,
            "replies_per_message": dict(sorted(replies_per_message.items())), **stats}
