"""The web chat and direct-Rasa paths: one message as a request, sequential round trips, and
the closed-loop load of `--users` simulated users through CONVERSATION."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable

import httpx

from bot.devtools.stack import Stack

CONVERSATION = ["Bonjour", "2", "je veux l'autorisation", "menu", "comment éviter le mercure",
                "merci"]

# One message through a path: (client, stack, sender, text) -> answered?
Send = Callable[[httpx.AsyncClient, Stack, str, str], Awaitable[bool]]


async def chat_once(http: httpx.AsyncClient, stack: Stack, sender: str, text: str) -> bool:
    response = await http.post(f"{stack.app_url}/api/chat",
                               json={"sender": sender, "text": text}, timeout=120)
    data = response.json()
    return response.status_code == 200 and bool(data.get("replies")) and not data.get("pending")


async def rasa_once(http: httpx.AsyncClient, stack: Stack, sender: str, text: str) -> bool:
    """The whole Rasa turn (NLU, tracker, policies, actions) through its REST channel."""
    response = await http.post(f"{stack.rasa_url}/webhooks/rest/webhook",
                               json={"sender": sender, "message": text}, timeout=120)
    return response.status_code == 200 and bool(response.json())


async def parse_once(http: httpx.AsyncClient, stack: Stack, sender: str, text: str) -> bool:
    """Rasa's NLU alone (`/model/parse`): what the app calls once Rasa only understands."""
    response = await http.post(f"{stack.rasa_url}/model/parse",
                               params={"token": stack.rasa_token},
                               json={"text": text, "message_id": sender}, timeout=120)
    return response.status_code == 200 and "intent" in response.json()


# Names short enough for the tables' first column.
DIRECT = {"rest": ("Rasa REST direct", rasa_once), "parse": ("Rasa NLU direct", parse_once)}


def direct_path(stack: Stack, choice: str = "auto") -> tuple[str, Send]:
    """The direct-Rasa reference: its REST channel when the model holds a dialogue (the design
    with Rasa's tracker and action server), else `/model/parse` (an NLU-only model)."""
    if choice != "auto":
        return DIRECT[choice]

    async def probe() -> bool:
        async with httpx.AsyncClient() as http:
            try:
                return await rasa_once(http, stack, "bench-probe", CONVERSATION[0])
            except (httpx.HTTPError, ValueError):
                return False

    return DIRECT["rest" if asyncio.run(probe()) else "parse"]


async def sequential(stack: Stack, count: int, direct: Send = rasa_once
                     ) -> tuple[list[float], list[float]]:
    """`count` messages, each through /api/chat and then straight to Rasa (same load)."""
    gateway: list[float] = []
    straight: list[float] = []
    async with httpx.AsyncClient() as http:
        for i in range(count):
            text = CONVERSATION[i % len(CONVERSATION)]
            sender = f"seq-{i // len(CONVERSATION)}"
            for send, sink, suffix in ((chat_once, gateway, "-g"), (direct, straight, "-d")):
                started = time.perf_counter()
                await send(http, stack, sender + suffix, text)
                sink.append(time.perf_counter() - started)
    return gateway, straight


async def load(stack: Stack, path: Send, users: int, concurrency: int, on_end=None) -> dict:
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
