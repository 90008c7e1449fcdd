"""`make bench`: the figures of the walking skeleton, measured against bare Rasa in one run.

    python -m bot.devtools.bench [--messages 200] [--users 200] [--concurrency 32]

Starts a fresh stack (Rasa with models/current.tar.gz, the action server, the app on SQLite in
a temporary folder) and reports:
- cold start: from launching the processes to the first answered `/api/chat` request;
- sequential round trips: `/api/chat` against Rasa's REST channel called directly with the same
  messages, interleaved so that both see the same machine load; p50/p95 and their ratio;
- concurrent load: `--users` simulated users, each sending a short conversation, at
  `--concurrency`, through `/api/chat` and directly to Rasa: messages per second, p50/p95,
  and lost messages (a request without an answer);
- resident memory of the app, the action server and Rasa.
These machines are noisy: compare ratios measured in the same run, not absolute numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from bot.devtools.stack import Stack

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


async def load(stack: Stack, path, users: int, concurrency: int) -> dict:
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
    return {"rate": len(latencies) / elapsed, "latencies": latencies, "lost": lost,
            "elapsed": elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the gateway against bare Rasa")
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    stack = Stack.create(workdir, database_url=f"sqlite:///{workdir / 'assistant.db'}",
                         extra_env={"LOG_LEVEL": "WARNING"})
    started = time.monotonic()
    stack.start()
    try:
        stack.wait_app(60)
        while True:  # cold start: until the first real answer (with the menu)
            try:
                data = httpx.post(f"{stack.app_url}/api/chat",
                                  json={"sender": "cold", "text": "Bonjour"}, timeout=30).json()
                if data["replies"] and not data.get("pending"):
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() - started > 400:
                raise SystemExit("bench: no answer within 400 s")
            time.sleep(0.2)
        cold = time.monotonic() - started
        asyncio.run(sequential(stack, 20))  # warm-up
        gateway, direct = asyncio.run(sequential(stack, args.messages))
        via_gateway = asyncio.run(load(stack, chat_once, args.users, args.concurrency))
        via_rasa = asyncio.run(load(stack, rasa_once, args.users, args.concurrency))
        memory = {name: stack.rss_mb(name) for name in ("app", "actions", "rasa")}
    finally:
        stack.stop()

    overhead = pct(gateway, 0.95) / pct(direct, 0.95)
    print("\n== bench (2 cores; compare ratios, not absolute figures) ==")
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


if __name__ == "__main__":
    main()
