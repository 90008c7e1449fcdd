"""The bench's scenarios beyond plain load: the fault run (Rasa killed under load, then
restarted) and fairness (issue 14, door 3: Telegram traffic alone, then beside a flood of web
messages); and what the app's own tables say afterwards."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx

from bot.devtools.bench.channels import Arrivals, channel_load
from bot.devtools.bench.paths import CONVERSATION, chat_once
from bot.devtools.stack import Stack


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
