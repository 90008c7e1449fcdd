"""`make bench`: the figures of the walking skeleton, measured against bare Rasa in one run.

    python -m bot.devtools.bench [--setup production|embedded] [--rasa-workers 2]
        [--postgres-url URL] [--redis-url URL] [--messages 200] [--users 200]
        [--concurrency 32] [--reply-timeout 60] [--fault-seconds 30] [--fault-users N]
        [--fault-path telegram] [--fault-after 5]

Starts a fresh stack (Rasa with models/current.tar.gz, the action server, the app) in one of
two setups:
- `production` (the default), what docker-compose.yml deploys: the app's database and Rasa's
  tracker store on PostgreSQL (two fresh databases, dropped at the end), Rasa's lock store on
  Redis, and `--rasa-workers` Rasa Sanic workers;
- `embedded`, what `make run` does: the app and Rasa's tracker on SQLite in a temporary
  folder, one Rasa process, no lock store;
and reports:
- cold start: from launching the processes to the first answered `/api/chat` request;
- sequential round trips: `/api/chat` against Rasa's REST channel called directly with the same
  messages, interleaved so that both see the same machine load; p50/p95 and their ratio;
- concurrent load: `--users` simulated users, each sending a short conversation, at
  `--concurrency`, through `/api/chat` and directly to Rasa: messages per second, p50/p95,
  and lost messages (a request without an answer);
- resident memory of the app, the action server and Rasa;
- channel paths (issue 5): the same `--users` load through signed Telegram and WhatsApp
  webhook POSTs, each message timed from its POST to its answer reaching the fake Bot API /
  Graph API (bot/testing, run in this process), next to direct Rasa measured before and after;
  throughput, p50/p95, lost, answered twice, and the gateway overhead at p95;
- CPU per answered message in every load phase: CPU seconds (/proc/<pid>/stat utime+stime)
  used by the app, the action server, Rasa (with its forked workers), PostgreSQL and Redis
  (production), and this process (the fakes run in it), divided by the messages answered;
- a fault run: under load on the Telegram path, Rasa is killed for `--fault-seconds`, then
  restarted: lost and twice-answered messages, and how long recovery took.
These machines are noisy (the load average at the start and the end is printed): compare
ratios measured in the same run, not absolute numbers. See docs/BENCH.md for what each figure
means.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import resource
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bot.devtools.stack import ProcInfo, Stack, process_table

CONVERSATION = ["Bonjour", "2", "je veux l'autorisation", "menu", "comment éviter le mercure",
                "merci"]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary(values: list[float]) -> str:
    return (f"p50 {pct(values, 0.5) * 1000:6.1f} ms  p95 {pct(values, 0.95) * 1000:6.1f} ms"
            f"  (n={len(values)})")


async def chat_once(http: httpx.AsyncClient, stack: Stack, sender: str, text: str) -> bool:
    response = await http.post(f"{stack.app_url}/api/chat",
                               json={"sender": sender, "text": text}, timeout=120)
    data = response.json()
    return response.status_code == 200 and bool(data.get("replies")) and not data.get("pending")


async def rasa_once(http: httpx.AsyncClient, stack: Stack, sender: str, text: str) -> bool:
    response = await http.post(f"{stack.rasa_url}/webhooks/rest/webhook",
                               json={"sender": sender, "message": text}, timeout=120)
    return response.status_code == 200 and bool(response.json())


async def sequential(stack: Stack, count: int) -> tuple[list[float], list[float]]:
    gateway, direct = [], []
    async with httpx.AsyncClient() as http:
        for i in range(count):
            text = CONVERSATION[i % len(CONVERSATION)]
            sender = f"seq-{i // len(CONVERSATION)}"
            for path, sink in ((chat_once, gateway), (rasa_once, direct)):
                started = time.perf_counter()
                await path(http, stack, sender + ("-g" if sink is gateway else "-d"), text)
                sink.append(time.perf_counter() - started)
    return gateway, direct


async def load(stack: Stack, path, users: int, concurrency: int, on_end=None) -> dict:
    latencies: list[float] = []
    lost = 0
    semaphore = asyncio.Semaphore(concurrency)
    run_id = uuid.uuid4().hex[:6]

    async def user(n: int, http: httpx.AsyncClient) -> None:
        nonlocal lost
        for text in CONVERSATION:
            async with semaphore:
                started = time.perf_counter()
                try:
                    ok = await path(http, stack, f"load-{run_id}-{n}", text)
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - started)
                lost += not ok

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(user(n, http) for n in range(users)))
        elapsed = time.perf_counter() - started
    if on_end is not None:
        on_end()
    return {"rate": len(latencies) / elapsed, "latencies": latencies, "lost": lost,
            "elapsed": elapsed}


# ------------------------------------------------------------------------------------------
# Channel paths (GitHub issue 5): Telegram and WhatsApp webhooks through the real Rasa, with
# the loopback fakes of bot/testing/ standing in for the Bot API and the Graph API.

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
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that run's event loop is closed
                pass

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
            try:
                await asyncio.wait_for(event.wait(), limit - now)
            except asyncio.TimeoutError:
                pass


def _fakes_module():
    """bot.testing lives next to bot/ (run the bench from the repository root)."""
    import sys

    from bot.config import ROOT

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from bot.testing import graph_api, telegram_api

    return telegram_api, graph_api


def make_fakes(arrivals: Arrivals):
    telegram_api, graph_api = _fakes_module()

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
    _, graph_api = _fakes_module()
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
        telegram_api, _ = _fakes_module()
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
        _, graph_api = _fakes_module()
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


async def fault_run(stack: Stack, path, arrivals: Arrivals, parts: list[int], users: int,
                    concurrency: int, fault_seconds: float, warmup: float, on_kill=None,
                    on_end=None) -> dict:
    """Load on a channel path; after `warmup` s kill Rasa for `fault_seconds`, restart it.
    `on_kill()` is called right before the kill (the CPU meter's last look at that Rasa)."""
    timeline: dict = {}

    async def break_rasa(records: list[dict]) -> None:
        await asyncio.sleep(warmup)
        if on_kill is not None:
            await asyncio.to_thread(on_kill)
        timeline["rasa_processes"] = len(stack.tree("rasa"))
        timeline["kill"] = time.perf_counter()
        timeline["answered_before_kill"] = sum(r["answered"] is not None for r in records)
        timeline["alive_after_kill"] = len(await asyncio.to_thread(stack.kill_one, "rasa"))
        await asyncio.sleep(fault_seconds)
        timeline["restart"] = time.perf_counter()
        timeline["pending_at_restart"] = [r for r in records if r["answered"] is None]
        await asyncio.to_thread(stack.start_rasa)
        await asyncio.to_thread(stack.wait_rasa, 600)
        timeline["back"] = time.perf_counter()

    # Long enough for the outage and a Rasa start on a busy machine.
    result = await channel_load(stack, path, arrivals, parts, users, concurrency,
                                timeout=fault_seconds + 600, on_start=break_rasa,
                                on_end=on_end)
    pending = timeline.get("pending_at_restart", [])
    answered = [r["answered"] for r in pending if r["answered"] is not None]
    result.update(
        kill_to_back=timeline["back"] - timeline["kill"],
        restart_to_back=timeline["back"] - timeline["restart"],
        pending_at_restart=len(pending),
        recovery=(max(answered) - timeline["restart"]) if answered else 0.0,
        recovery_after_back=(max(answered) - timeline["back"]) if answered else 0.0,
        parts=parts,
        answered_before_kill=timeline["answered_before_kill"],
        rasa_processes=timeline["rasa_processes"],
        alive_after_kill=timeline["alive_after_kill"],
    )
    return result


# ------------------------------------------------------------------------------------------
# Fairness (issue 14, door 3): Telegram traffic alone, then beside a flood of web messages.

FLOOD_HEAD_START = 3.0  # seconds of flood before the Telegram users start


async def web_flood(stack: Stack, senders: int, stop: asyncio.Event) -> dict:
    """`senders` web senders, each posting CONVERSATION over and over without a pause (the
    next message as soon as the previous one was answered) until `stop` is set."""
    answered = failed = 0
    run_id = uuid.uuid4().hex[:6]

    async def sender(n: int, http: httpx.AsyncClient) -> None:
        nonlocal answered, failed
        step = 0
        while not stop.is_set():
            try:
                ok = await chat_once(http, stack, f"flood-{run_id}-{n}",
                                     CONVERSATION[step % len(CONVERSATION)])
            except httpx.HTTPError:
                ok = False
            answered += ok
            failed += not ok
            step += 1

    limits = httpx.Limits(max_connections=senders, max_keepalive_connections=senders)
    async with httpx.AsyncClient(limits=limits) as http:
        started = time.perf_counter()
        tasks = [asyncio.create_task(sender(n, http)) for n in range(senders)]
        await stop.wait()
        elapsed = time.perf_counter() - started
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {"answered": answered, "failed": failed, "elapsed": elapsed,
            "rate": answered / elapsed if elapsed else 0.0}


async def beside_flood(stack: Stack, path, arrivals: Arrivals, parts: list[int], users: int,
                       concurrency: int, timeout: float, senders: int, on_end=None) -> dict:
    """The Telegram load of `channel_load` while `senders` web senders flood /api/chat (the
    flood starts FLOOD_HEAD_START seconds before, so that the inbox is full of web work)."""
    stop = asyncio.Event()
    flood = asyncio.create_task(web_flood(stack, senders, stop))
    await asyncio.sleep(FLOOD_HEAD_START)
    try:
        result = await channel_load(stack, path, arrivals, parts, users, concurrency, timeout,
                                    on_end=on_end)
    finally:
        stop.set()
    result["flood"] = await flood
    return result


def wait_drained(database_url: str, timeout: float) -> float:
    """Wait until the app's inbox has nothing pending (the flood's last accepted messages are
    still answered after its clients stopped); the seconds it took."""
    from sqlalchemy import text

    from bot.store.db import make_engine

    engine = make_engine(database_url)
    started = time.perf_counter()
    try:
        while time.perf_counter() - started < timeout:
            with engine.connect() as connection:
                if not connection.execute(text(
                        "SELECT COUNT(*) FROM inbox WHERE status = 'pending'")).scalar():
                    break
            time.sleep(0.2)
    finally:
        engine.dispose()
    return time.perf_counter() - started


def print_flood(args, alone: list[dict], flooded: dict) -> float:
    """The fairness table; returns Telegram's p95 beside the flood / alone, minus one."""
    reference = [value for run in alone for value in run["latencies"]]
    p95_alone = pct(reference, 0.95)
    print(f"\n== Telegram beside a web flood: {args.flood_senders} web senders posting without "
          f"pause; {args.flood_users} Telegram users x {len(CONVERSATION)} messages, at most "
          f"{args.flood_concurrency} awaiting their answer ==")
    print(f"{'Telegram':28} {'msg/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'lost':>5} {'twice':>6}")
    for label, run in (("alone, before", alone[0]), ("beside the flood", flooded),
                       ("alone, after", alone[1])):
        lost = run["lost"] + run.get("not_sent", 0)
        print(f"{label:28} {run['rate']:7.1f} {_ms(pct(run['latencies'], .5))} "
              f"{_ms(pct(run['latencies'], .95))} {lost:5d} {run['twice']:6d}")
    flood = flooded["flood"]
    ratio = pct(flooded["latencies"], 0.95) / p95_alone
    print(f"{'alone, both':28} {'':7} {_ms(pct(reference, .5))} {_ms(p95_alone)}")
    print(f"  web flood: {flood['answered']} messages answered ({flood['rate']:.1f} msg/s over "
          f"{flood['elapsed']:.0f} s), {flood['failed']} not answered in time; its backlog "
          f"drained {flooded.get('drained', 0):.1f} s after it stopped (before 'alone, after')")
    print(f"  Telegram p95 beside the flood / alone: {ratio:.2f} ({(ratio - 1) * 100:+.0f} %; "
          f"GATEWAY_CHANNEL_SHARE {os.environ.get('GATEWAY_CHANNEL_SHARE', '0.5')})")
    return ratio - 1


def inbox_summary(database_url: str, channel: str) -> dict[str, int]:
    """What the app's own tables say (inbox rows by status; replies per message)."""
    from sqlalchemy import text

    from bot.store.db import make_engine

    engine = make_engine(database_url)  # postgresql:// -> the app's driver (psycopg)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT status, COUNT(*) FROM inbox WHERE channel = :c GROUP BY status"),
                {"c": channel}).all()
            unsent = connection.execute(text(
                "SELECT COUNT(*) FROM outbox WHERE channel = :c AND status NOT IN "
                "('sent', 'delivered', 'read')"), {"c": channel}).scalar()
    finally:
        engine.dispose()
    summary = {f"inbox {status}": count for status, count in rows}
    summary["outbox not sent"] = unsent
    return summary


# ------------------------------------------------------------------------------------------
# CPU accounting: CPU seconds used by each process group during a phase, per answered message.

CPU_GROUPS = ("app", "actions", "rasa", "postgres", "redis", "bench")
STACK_GROUPS = ("app", "actions", "rasa")  # our processes and their children
SERVER_COMMANDS = {"postgres": "postgres", "redis": "redis-server"}  # by command name


@dataclass(frozen=True)
class CpuSnapshot:
    """At one moment: the processes of each group (by (pid, start time)) and this process's
    own CPU seconds (getrusage: all its threads, the fakes included; not its children)."""

    at: float
    groups: dict[str, dict[tuple[int, int], ProcInfo]]
    bench: float


def cpu_snapshot(stack: Stack, servers: tuple[str, ...] = ()) -> CpuSnapshot:
    table = process_table()
    groups = {name: {info.key: info for info in stack.tree(name, table)}
              for name in STACK_GROUPS}
    for name in servers:
        groups[name] = {info.key: info for info in table.values()
                        if info.comm == SERVER_COMMANDS[name]}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return CpuSnapshot(time.perf_counter(), groups, usage.ru_utime + usage.ru_stime)


def group_cpu(before: dict[tuple[int, int], ProcInfo],
              after: dict[tuple[int, int], ProcInfo]) -> float:
    """CPU seconds a group of processes used between two looks at it.

    A process seen both times counts the difference, a new one all it used. One that exited
    in between counts when a process of the group waited for it (a PostgreSQL backend closed
    by a connection pool, reaped by the postmaster): the kernel then added all its CPU to
    that parent's cutime+cstime, which counts, so what it had used at the first look is taken
    off again. Otherwise what it used since the first look is lost: look right before killing
    a process."""
    total = 0.0
    for key, info in after.items():
        old = before.get(key)
        total += info.cpu + info.reaped - ((old.cpu + old.reaped) if old else 0.0)
    by_pid = {info.pid: info for info in before.values()}
    for key, info in before.items():
        if key in after:
            continue
        parent = by_pid.get(info.ppid)
        while parent is not None and parent.key not in after:
            parent = by_pid.get(parent.ppid) if parent.ppid != parent.pid else None
        if parent is not None:
            total -= info.cpu + info.reaped
    return total


def phase_cpu(snapshots: list[CpuSnapshot]) -> dict:
    """CPU seconds per group (and "total") from the first snapshot to the last, summed over
    the intervals between consecutive snapshots; "wall": the seconds between first and last."""
    seconds = {name: 0.0 for name in CPU_GROUPS if name == "bench"
               or any(name in snapshot.groups for snapshot in snapshots)}
    for before, after in zip(snapshots, snapshots[1:]):
        for name in after.groups:
            seconds[name] += group_cpu(before.groups.get(name, {}), after.groups[name])
        seconds["bench"] += after.bench - before.bench
    seconds["total"] = sum(seconds.values())
    return {"seconds": seconds, "wall": snapshots[-1].at - snapshots[0].at}


def cpu_ms_per_message(cpu: dict, answered: int) -> dict[str, float]:
    """CPU milliseconds per answered message, per group and in total (NaN if none answered)."""
    return {name: (value * 1000 / answered if answered else math.nan)
            for name, value in cpu["seconds"].items()}


class CpuMeter:
    """Snapshots of one phase: `phase(run)` calls `run(mark)`; the phase calls `mark()` when
    its load is over (and right before killing a process); the first snapshot is taken before."""

    def __init__(self, stack: Stack, servers: tuple[str, ...]):
        self.stack, self.servers = stack, servers

    def phase(self, run: Callable[[Callable[[], None]], object]) -> tuple[object, dict]:
        snapshots = [cpu_snapshot(self.stack, self.servers)]
        result = run(lambda: snapshots.append(cpu_snapshot(self.stack, self.servers)))
        if len(snapshots) == 1:
            snapshots.append(cpu_snapshot(self.stack, self.servers))
        return result, phase_cpu(snapshots)


# ------------------------------------------------------------------------------------------
# Setups: production (PostgreSQL, Redis, several Rasa workers, as docker-compose.yml) or
# embedded (SQLite, one Rasa process, as `make run`).

@dataclass
class Setup:
    name: str
    database_url: str
    tracker_url: str | None = None
    redis_url: str | None = None
    rasa_workers: int = 1
    servers: tuple[str, ...] = ()  # CPU groups outside our stack
    lines: list[tuple[str, str]] = field(default_factory=list)  # for the header
    databases: list[str] = field(default_factory=list)  # created here, dropped by cleanup()
    admin_url: str | None = None

    def cleanup(self) -> None:
        if not self.databases:
            return
        from sqlalchemy import create_engine, text

        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                for name in self.databases:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            self.databases = []
        finally:
            admin.dispose()


def database_url(server_url: str, database: str, driver: str = "postgresql") -> str:
    """The URL of `database` on the server of `server_url` (its own database, if any, is only
    where to log in); with the password, since the processes need it."""
    from sqlalchemy.engine import make_url

    return make_url(server_url).set(drivername=driver, database=database) \
        .render_as_string(hide_password=False)


def redact(url: str) -> str:
    """A URL fit to print: the password replaced by ***."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


def production_setup(postgres_url: str, redis_url: str, rasa_workers: int) -> Setup:
    """Check that PostgreSQL and Redis answer, create the two databases of this run."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    login_db = make_url(postgres_url).database or "postgres"
    admin_url = database_url(postgres_url, login_db, "postgresql+psycopg")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT",
                          connect_args={"connect_timeout": 5})
    run = uuid.uuid4().hex[:8]
    app_db, tracker_db = f"bench_{run}_app", f"bench_{run}_tracker"
    try:
        with admin.connect() as connection:
            version = str(connection.execute(text("SHOW server_version")).scalar()).split()[0]
            for name in (app_db, tracker_db):
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - any failure means: no usable PostgreSQL
        raise SystemExit(f"bench: PostgreSQL at {redact(postgres_url)} is not usable "
                         f"({_first_line(error)}); pass --postgres-url, or use --setup "
                         f"embedded") from None
    finally:
        admin.dispose()
    setup = Setup(
        name="production", database_url=database_url(postgres_url, app_db),
        tracker_url=database_url(postgres_url, tracker_db), redis_url=redis_url,
        rasa_workers=rasa_workers, servers=("postgres", "redis"),
        databases=[app_db, tracker_db], admin_url=admin_url)
    try:
        import redis

        client = redis.Redis.from_url(redis_url, socket_connect_timeout=5, socket_timeout=5)
        try:
            redis_version = client.info("server").get("redis_version", "?")
        finally:
            client.close()
    except Exception as error:  # noqa: BLE001
        setup.cleanup()
        raise SystemExit(f"bench: Redis at {redact(redis_url)} is not reachable "
                         f"({_first_line(error)}); pass --redis-url, or use --setup "
                         f"embedded") from None
    server = make_url(postgres_url)
    where = f"{server.host or 'localhost'}:{server.port or 5432}"
    setup.lines = [
        ("setup:", f"production (as docker-compose.yml), {rasa_workers} Rasa worker"
                   f"{'s' if rasa_workers > 1 else ''}"),
        ("  app database:", f"PostgreSQL {version} at {where}, database {app_db}"),
        ("  Rasa tracker store:", f"PostgreSQL {version} at {where}, database {tracker_db}"),
        ("  Rasa lock store:", f"Redis {redis_version} at {redact(redis_url)}"),
    ]
    return setup


def embedded_setup(workdir: Path) -> Setup:
    return Setup(name="embedded", database_url=f"sqlite:///{workdir / 'assistant.db'}",
                 lines=[("setup:", "embedded (as make run), 1 Rasa process"),
                        ("  app database:", f"SQLite, {workdir / 'assistant.db'}"),
                        ("  Rasa tracker store:", f"SQLite, {workdir / 'rasa-tracker.db'}"),
                        ("  Rasa lock store:", "none (in memory, one Rasa process)")])


def _ms(value: float) -> str:
    return f"{value * 1000:8.1f}"


def _verdict(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


def pooled(runs: list[dict]) -> dict:
    """The direct-Rasa reference: the runs before and after the channel paths, together."""
    return {"rate": statistics.mean(run["rate"] for run in runs),
            "latencies": [value for run in runs for value in run["latencies"]],
            "lost": sum(run["lost"] for run in runs)}


def print_channels(args, directs: list[dict], paths: list[dict],
                   parts: dict[str, list[int]]) -> dict:
    """The channel-path table; returns the figures the goals are judged on."""
    direct = pooled(directs)
    direct_p95 = pct(direct["latencies"], 0.95)
    print(f"\n== channel paths: {args.users} users x {len(CONVERSATION)} messages each, at most "
          f"{args.concurrency} messages awaiting their answer, reply timeout "
          f"{args.reply_timeout:.0f} s ==")
    print(f"{'path':24} {'msg/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'lost':>5} {'twice':>6}"
          f" {'p95/direct':>10}  overhead at p95")
    for label, run in zip(("before", "after"), directs):
        print(f"{'Rasa REST direct ' + label:24} {run['rate']:7.1f} "
              f"{_ms(pct(run['latencies'], .5))} {_ms(pct(run['latencies'], .95))} "
              f"{run['lost']:5d} {'-':>6} {pct(run['latencies'], .95) / direct_p95:10.2f}")
    print(f"{'Rasa REST direct, both':24} {direct['rate']:7.1f} {_ms(pct(direct['latencies'], .5))}"
          f" {_ms(direct_p95)} {direct['lost']:5d} {'-':>6} {1:10.2f}  (reference)")
    overheads = {}
    for result in paths:
        p95 = pct(result["latencies"], 0.95) if result["latencies"] else float("nan")
        ratio = p95 / direct_p95
        overheads[result["name"]] = ratio - 1
        lost = result["lost"] + result.get("not_sent", 0)
        twice = result.get("twice", "-")
        print(f"{result['name']:24} {result['rate']:7.1f} "
              f"{_ms(pct(result['latencies'], .5)) if result['latencies'] else '       -'}"
              f" {_ms(p95)} {lost:5d} {twice!s:>6} {ratio:10.2f}  {(ratio - 1) * 100:+6.0f} %")
    for result in paths:
        if "webhook_errors" in result:
            extra = (f"; {result['not_sent']} messages not sent after a loss"
                     if result["not_sent"] else "")
            print(f"  {result['name']}: {result['webhook_errors']} webhook POSTs refused and "
                  f"delivered again, {result['partial']} answers incomplete, "
                  f"{result['acked']} acknowledged{extra}")
    for name, counts in parts.items():
        print(f"  {name}: channel messages per turn of the conversation: {counts}")
    return overheads


def answered(result: dict) -> int:
    """Messages answered in a load phase: `load` times every request (and counts the failed
    ones as lost); the channel paths time only the answered messages."""
    if "records" in result:
        return len(result["latencies"])
    return len(result["latencies"]) - result["lost"]


def print_cpu(phases: list[tuple[str, int, dict]]) -> None:
    """The CPU table: (phase name, answered messages, phase_cpu(...)) per load phase."""
    print("\n== CPU ms per answered message (CPU seconds each group used during the phase / "
          "messages answered) ==")
    print(f"{'phase':28} {'answered':>8}" + "".join(f" {name:>8}" for name in CPU_GROUPS) +
          f" {'total':>8} {'cores busy':>10}")
    for name, answered, cpu in phases:
        per_message = cpu_ms_per_message(cpu, answered)
        cells = "".join(f" {per_message[group]:8.1f}" if group in per_message else f" {'-':>8}"
                        for group in CPU_GROUPS)
        busy = cpu["seconds"]["total"] / cpu["wall"] if cpu["wall"] > 0 else math.nan
        print(f"{name:28} {answered:8d}{cells} {per_message['total']:8.1f} {busy:10.2f}")
    print("  rasa: the Rasa process and its forked children (Sanic workers); postgres, redis: "
          "every process of that\n  name on the machine; bench: this process (the load "
          "clients and the fake APIs); cores busy: CPU s / wall s")


def print_fault(args, result: dict, database: dict[str, int]) -> None:
    print(f"\n== fault: Rasa killed for {args.fault_seconds:.0f} s under load on the "
          f"{result['name']} path ({args.fault_users} users x {len(CONVERSATION)} messages, "
          f"concurrency {args.concurrency}) ==")
    lost = result["lost"] + result["not_sent"]
    print(f"lost (never answered):            {lost}")
    print(f"answered twice:                   {result['twice']}  (more answer parts than the "
          f"turn has, a part repeated, or more than one acknowledgement)")
    print(f"acknowledged (\"we received it\"):  {result['acked']} messages")
    print("replies per message:              " + ", ".join(
        f"{count} message(s) got {n}" for n, count in result["replies_per_message"].items()) +
        f"  (turn sizes {result['parts']}; acknowledgement included)")
    print(f"answers incomplete:               {result['partial']}")
    print(f"answered before the kill:         {result['answered_before_kill']} messages")
    print(f"Rasa processes killed (SIGKILL):  {result['rasa_processes']}, "
          f"{result['alive_after_kill']} still alive after it")
    print(f"waiting for an answer at restart: {result['pending_at_restart']} messages")
    print(f"kill -> Rasa answering again:     {result['kill_to_back']:6.1f} s  (restart -> "
          f"ready {result['restart_to_back']:.1f} s)")
    print(f"restart -> last waiting answered: {result['recovery']:6.1f} s  (Rasa ready -> "
          f"last answered {result['recovery_after_back']:.1f} s)")
    print(f"throughput over the whole run:    {result['rate']:6.1f} msg/s "
          f"(over {result['elapsed']:.0f} s, outage included)")
    print("app database, this run's rows:    " +
          ", ".join(f"{key} {value}" for key, value in sorted(database.items())) +
          f"  ({args.fault_users * len(CONVERSATION)} messages sent)")


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the gateway against bare Rasa")
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--users", type=int, default=200,
                        help="simulated users on each path (web, direct, Telegram, WhatsApp)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--reply-timeout", type=float, default=60.0,
                        help="a channel message without an answer after this long is lost")
    parser.add_argument("--fault-seconds", type=float, default=30.0,
                        help="how long Rasa stays killed in the fault run (0: no fault run)")
    parser.add_argument("--fault-users", type=int, default=None,
                        help="users in the fault run (default: --users)")
    parser.add_argument("--fault-path", choices=("telegram", "whatsapp"), default="telegram")
    parser.add_argument("--fault-after", type=float, default=5.0,
                        help="seconds of load before Rasa is killed")
    parser.add_argument("--start-timeout", type=float, default=400.0,
                        help="seconds allowed from launching the stack to its first answer")
    parser.add_argument("--flood-senders", type=int, default=64,
                        help="web senders flooding /api/chat beside Telegram traffic (0: no "
                             "flood phase)")
    parser.add_argument("--flood-users", type=int, default=None,
                        help="Telegram users in each run of the flood phase (default: --users)")
    parser.add_argument("--flood-concurrency", type=int, default=4,
                        help="Telegram messages awaiting their answer at once in the flood "
                             "phase (ordinary traffic, not a saturating load)")
    parser.add_argument("--setup", choices=("production", "embedded"), default="production",
                        help="production: PostgreSQL, Redis lock store, several Rasa workers "
                             "(docker-compose.yml); embedded: SQLite, one Rasa (make run)")
    parser.add_argument("--rasa-workers", type=int, default=None,
                        help="Rasa Sanic workers (production only; default 2)")
    parser.add_argument("--postgres-url",
                        default=os.environ.get("BENCH_POSTGRES_URL")
                        or "postgresql://postgres@127.0.0.1:5432",
                        help="PostgreSQL server for the production setup (env BENCH_POSTGRES_URL)")
    parser.add_argument("--redis-url",
                        default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
                        help="Redis for Rasa's lock store in the production setup (env REDIS_URL)")
    args = parser.parse_args()
    args.fault_users = args.fault_users or args.users
    args.flood_users = args.flood_users or args.users
    if args.rasa_workers is None:
        args.rasa_workers = 2 if args.setup == "production" else 1
    if args.rasa_workers < 1:
        parser.error("--rasa-workers must be at least 1")
    if args.setup == "embedded" and args.rasa_workers != 1:
        parser.error("--setup embedded runs one Rasa process (no lock store); several workers "
                     "need --setup production")

    load_at_start = os.getloadavg()
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    setup = (production_setup(args.postgres_url, args.redis_url, args.rasa_workers)
             if args.setup == "production" else embedded_setup(workdir))
    database_url = setup.database_url
    fault = flooded = None
    try:
        arrivals = Arrivals()
        telegram, graph = make_fakes(arrivals)
        # Any free ports, not 5005/5055: a Rasa of someone else's `make run` on the usual port
        # would otherwise answer in place of ours (and survive our fault run).
        stack = Stack.create(workdir, usual_ports=False, database_url=database_url,
                             extra_env={"LOG_LEVEL": "WARNING"},
                             tracker_url=setup.tracker_url, redis_url=setup.redis_url,
                             rasa_workers=setup.rasa_workers)
        stack.extra_env.update(channel_env(telegram, graph, stack.app_port))
        meter = CpuMeter(stack, setup.servers)
        cpu: dict[str, dict] = {}
        started = time.monotonic()
        try:
            stack.start()
            stack.wait_app(60)
            while True:  # cold start: until the first real answer (with the menu)
                try:
                    data = httpx.post(f"{stack.app_url}/api/chat",
                                      json={"sender": "cold", "text": "Bonjour"},
                                      timeout=30).json()
                    if data["replies"] and not data.get("pending"):
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() - started > args.start_timeout:
                    raise SystemExit(f"bench: no answer within {args.start_timeout:.0f} s (Rasa "
                                     f"loading on a busy machine? see --start-timeout)")
                time.sleep(0.2)
            cold = time.monotonic() - started
            for name, process in stack.processes.items():
                if process.poll() is not None:
                    raise SystemExit(f"bench: {name} exited ({process.returncode}); see "
                                     f"{workdir / 'logs' / (name + '.log')}")
            asyncio.run(sequential(stack, 20))  # warm-up
            # And concurrent traffic, so that every Rasa worker has answered (a worker's first
            # messages cost it several times more CPU) before anything is measured.
            asyncio.run(load(stack, rasa_once, args.concurrency, args.concurrency))
            asyncio.run(load(stack, chat_once, args.concurrency, args.concurrency))
            gateway, direct = asyncio.run(sequential(stack, args.messages))
            via_gateway, cpu["web /api/chat"] = meter.phase(lambda mark: asyncio.run(
                load(stack, chat_once, args.users, args.concurrency, on_end=mark)))
            via_rasa, cpu["Rasa REST direct before"] = meter.phase(lambda mark: asyncio.run(
                load(stack, rasa_once, args.users, args.concurrency, on_end=mark)))
            channel_paths = {
                "telegram": (TelegramPath(700_000_000), TelegramPath(600_000_000)),
                "whatsapp": (WhatsAppPath(22_370_000_000), WhatsAppPath(22_360_000_000))}
            parts, via_channels = {}, []
            for key, (path, calibration_path) in channel_paths.items():
                parts[key] = asyncio.run(calibrate(stack, calibration_path, arrivals,
                                                   args.reply_timeout))
                result, cpu[path.name] = meter.phase(lambda mark: asyncio.run(channel_load(
                    stack, path, arrivals, parts[key], args.users, args.concurrency,
                    args.reply_timeout, on_end=mark)))
                via_channels.append(result)
            # Direct Rasa once more: the reference brackets the channel paths in time.
            via_rasa_after, cpu["Rasa REST direct after"] = meter.phase(
                lambda mark: asyncio.run(load(stack, rasa_once, args.users, args.concurrency,
                                              on_end=mark)))
            memory = {name: stack.rss_mb(name) for name in ("app", "actions", "rasa")}
            if args.flood_senders > 0:
                # Telegram alone, beside a web flood, alone again (the reference brackets it).
                alone = []
                for base in (900_000_000, 920_000_000):
                    if alone:
                        flooded, cpu["Telegram beside web flood"] = meter.phase(
                            lambda mark: asyncio.run(beside_flood(
                                stack, TelegramPath(910_000_000), arrivals, parts["telegram"],
                                args.flood_users, args.flood_concurrency, args.reply_timeout,
                                args.flood_senders, on_end=mark)))
                        flooded["drained"] = wait_drained(database_url, 300)
                    alone.append(asyncio.run(channel_load(
                        stack, TelegramPath(base), arrivals, parts["telegram"],
                        args.flood_users, args.flood_concurrency, args.reply_timeout)))
            if args.fault_seconds > 0:
                fault_path = (TelegramPath(800_000_000) if args.fault_path == "telegram"
                              else WhatsAppPath(22_380_000_000))
                before = inbox_summary(database_url, args.fault_path)
                fault, fault_cpu = meter.phase(lambda mark: asyncio.run(fault_run(
                    stack, fault_path, arrivals, parts[args.fault_path], args.fault_users,
                    args.concurrency, args.fault_seconds, args.fault_after, on_kill=mark,
                    on_end=mark)))
                after = inbox_summary(database_url, args.fault_path)
                fault_database = {key: after.get(key, 0) - before.get(key, 0)
                                  for key in after if key != "outbox not sent"}
                fault_database["outbox not sent"] = after["outbox not sent"]
        finally:
            stack.stop()
            telegram.stop()
            graph.stop()
    finally:
        setup.cleanup()
    load_at_end = os.getloadavg()

    overhead = pct(gateway, 0.95) / pct(direct, 0.95)
    print(f"\n== bench ({os.cpu_count()} cores; compare ratios, not absolute figures) ==")
    for label, value in setup.lines:
        print(f"{label:31} {value}")
    print(f"{'load average (1, 5, 15 min):':31} start " +
          " ".join(f"{x:.2f}" for x in load_at_start) + ", end " +
          " ".join(f"{x:.2f}" for x in load_at_end))
    print(f"cold start to first answer:     {cold:6.1f} s")
    print(f"/api/chat sequential:           {summary(gateway)}")
    print(f"Rasa REST direct sequential:    {summary(direct)}")
    print(f"p50 ratio gateway/direct:       {pct(gateway, .5) / pct(direct, .5):5.2f}")
    print(f"p95 ratio gateway/direct:       {overhead:5.2f}")
    for name, result in (("/api/chat", via_gateway), ("Rasa REST direct", via_rasa)):
        print(f"{name + ' load':31} {result['rate']:6.1f} msg/s  {summary(result['latencies'])}"
              f"  lost {result['lost']}  ({args.users} users x {len(CONVERSATION)} messages, "
              f"concurrency {args.concurrency})")
    print(f"throughput ratio gateway/direct: {via_gateway['rate'] / via_rasa['rate']:5.2f}")
    print("resident memory:                " +
          "  ".join(f"{name} {mb:.0f} MB" for name, mb in memory.items()))

    web = dict(via_gateway, name="web /api/chat")
    overheads = print_channels(args, [via_rasa, via_rasa_after], [web, *via_channels], parts)
    cpu_phases = [
        ("Rasa REST direct before", answered(via_rasa), cpu["Rasa REST direct before"]),
        ("Rasa REST direct after", answered(via_rasa_after), cpu["Rasa REST direct after"]),
        ("web /api/chat", answered(web), cpu["web /api/chat"]),
        *((result["name"], answered(result), cpu[result["name"]]) for result in via_channels)]
    if flooded is not None:
        cpu_phases.append(("Telegram beside web flood",
                           answered(flooded) + flooded["flood"]["answered"],
                           cpu["Telegram beside web flood"]))
    if fault is not None:
        cpu_phases.append((f"fault run ({fault['name']})", answered(fault), fault_cpu))
    print_cpu(cpu_phases)
    flood_overhead = print_flood(args, alone, flooded) if flooded is not None else None
    if fault is not None:
        print_fault(args, fault, fault_database)

    paths = [web, *via_channels]
    print("\n== goals ==")
    worst = max(overheads.values())
    print(f"gateway overhead at p95 <= 25 % of direct Rasa:  {_verdict(worst <= 0.25)}  (" +
          ", ".join(f"{name} {value * 100:+.0f} %" for name, value in overheads.items()) + ")")
    slowest = min(result["rate"] for result in paths)
    print(f">= 40 messages/s end to end:                     {_verdict(slowest >= 40)}  (" +
          ", ".join(f"{r['name']} {r['rate']:.1f}" for r in paths) +
          f"; Rasa direct {pooled([via_rasa, via_rasa_after])['rate']:.1f})")
    if flood_overhead is not None:
        print(f"Telegram p95 beside a web flood <= +25 %:         "
              f"{_verdict(flood_overhead <= 0.25)}  ({flood_overhead * 100:+.0f} %)")
    lost_load = sum(r["lost"] + r.get("not_sent", 0) for r in paths)
    lost_fault = (fault["lost"] + fault["not_sent"]) if fault is not None else 0
    twice_fault = fault["twice"] if fault is not None else 0
    print(f"zero lost:                                       {_verdict(lost_load + lost_fault == 0)}"
          f"  (load {lost_load}, fault run "
          f"{lost_fault if fault is not None else 'not run'})")
    if fault is not None:
        print(f"nothing answered twice in the fault run:         {_verdict(twice_fault == 0)}"
              f"  ({twice_fault})")
    print(f"(logs and database: {workdir})")


if __name__ == "__main__":
    main()
