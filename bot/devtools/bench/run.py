"""One bench run: a fresh stack in a setup, warmed up, then each load phase measured (latency,
throughput, CPU per answered message), the fairness and fault phases if asked."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bot.devtools.bench.channels import (
    Arrivals,
    TelegramPath,
    WhatsAppPath,
    calibrate,
    channel_env,
    channel_load,
    make_fakes,
)
from bot.devtools.bench.cpu import CpuMeter
from bot.devtools.bench.paths import chat_once, direct_path, load, sequential
from bot.devtools.bench.scenarios import beside_flood, fault_run, inbox_summary, wait_drained
from bot.devtools.bench.setups import (
    Setup,
    embedded_setup,
    production_setup,
    rasa_stores,
    stack_options,
)
from bot.devtools.stack import Stack


@dataclass
class Results:
    """Everything a run measured; `report.py` prints it."""

    setup: Setup
    workdir: Path
    load_at_start: tuple[float, ...]
    direct_name: str = "Rasa REST direct"
    load_at_end: tuple[float, ...] = ()
    cold: float = 0.0
    gateway: list[float] = field(default_factory=list)  # sequential /api/chat
    direct: list[float] = field(default_factory=list)  # sequential direct Rasa
    via_gateway: dict = field(default_factory=dict)
    via_direct: dict = field(default_factory=dict)
    via_direct_after: dict = field(default_factory=dict)
    via_channels: list[dict] = field(default_factory=list)
    parts: dict[str, list[int]] = field(default_factory=dict)
    memory: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, dict] = field(default_factory=dict)  # phase name -> cpu.phase_cpu(...)
    alone: list[dict] = field(default_factory=list)
    flooded: dict | None = None
    fault: dict | None = None
    fault_database: dict[str, int] = field(default_factory=dict)

    def paths(self) -> list[dict]:
        """The gateway's paths under load: web, Telegram, WhatsApp."""
        return [dict(self.via_gateway, name="web /api/chat"), *self.via_channels]


def make_setup(args, workdir: Path) -> Setup:
    stores = rasa_stores()
    if args.setup == "production":
        return production_setup(args.postgres_url, args.redis_url, args.rasa_workers, stores)
    return embedded_setup(workdir, stores)


def cold_start(stack: Stack, workdir: Path, timeout: float) -> float:
    """Start the stack; seconds until the first real answer (with the menu) on /api/chat."""
    started = time.monotonic()
    stack.start()
    stack.wait_app(60)
    while True:
        try:
            data = httpx.post(f"{stack.app_url}/api/chat",
                              json={"sender": "cold", "text": "Bonjour"}, timeout=30).json()
            if data["replies"] and not data.get("pending"):
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() - started > timeout:
            raise SystemExit(f"bench: no answer within {timeout:.0f} s (Rasa loading on a busy "
                             f"machine? see --start-timeout)")
        time.sleep(0.2)
    cold = time.monotonic() - started
    for name, process in stack.processes.items():
        if process.poll() is not None:
            raise SystemExit(f"bench: {name} exited ({process.returncode}); see "
                             f"{workdir / 'logs' / (name + '.log')}")
    return cold


def measure_paths(args, stack: Stack, meter: CpuMeter, arrivals: Arrivals, r: Results) -> None:
    """Warm-up, sequential round trips, then the load phases: web, direct Rasa, Telegram,
    WhatsApp, direct Rasa again (the reference brackets the channel paths in time)."""
    r.direct_name, direct = direct_path(stack, args.direct)
    asyncio.run(sequential(stack, 20, direct))  # warm-up
    # And concurrent traffic, so that every Rasa worker has answered (a worker's first
    # messages cost it several times more CPU) before anything is measured.
    asyncio.run(load(stack, direct, args.concurrency, args.concurrency))
    asyncio.run(load(stack, chat_once, args.concurrency, args.concurrency))
    r.gateway, r.direct = asyncio.run(sequential(stack, args.messages, direct))
    r.via_gateway, r.cpu["web /api/chat"] = meter.phase(lambda mark: asyncio.run(
        load(stack, chat_once, args.users, args.concurrency, on_end=mark)))
    r.via_direct, r.cpu[f"{r.direct_name} before"] = meter.phase(lambda mark: asyncio.run(
        load(stack, direct, args.users, args.concurrency, on_end=mark)))
    channel_paths = {
        "telegram": (TelegramPath(700_000_000), TelegramPath(600_000_000)),
        "whatsapp": (WhatsAppPath(22_370_000_000), WhatsAppPath(22_360_000_000))}
    for key, (path, calibration_path) in channel_paths.items():
        r.parts[key] = asyncio.run(calibrate(stack, calibration_path, arrivals,
                                             args.reply_timeout))
        result, r.cpu[path.name] = meter.phase(lambda mark, path=path, key=key: asyncio.run(
            channel_load(stack, path, arrivals, r.parts[key], args.users, args.concurrency,
                         args.reply_timeout, on_end=mark)))
        r.via_channels.append(result)
    r.via_direct_after, r.cpu[f"{r.direct_name} after"] = meter.phase(
        lambda mark: asyncio.run(load(stack, direct, args.users, args.concurrency,
                                      on_end=mark)))
    r.memory = {name: stack.rss_mb(name) for name in stack.processes}


def measure_flood(args, stack: Stack, meter: CpuMeter, arrivals: Arrivals, r: Results) -> None:
    """Telegram alone, beside a web flood, alone again (the reference brackets it)."""
    for base in (900_000_000, 920_000_000):
        if r.alone:
            r.flooded, r.cpu["Telegram beside web flood"] = meter.phase(
                lambda mark: asyncio.run(beside_flood(
                    stack, TelegramPath(910_000_000), arrivals, r.parts["telegram"],
                    args.flood_users, args.flood_concurrency, args.reply_timeout,
                    args.flood_senders, on_end=mark)))
            r.flooded["drained"] = wait_drained(r.setup.database_url, 300)
        r.alone.append(asyncio.run(channel_load(
            stack, TelegramPath(base), arrivals, r.parts["telegram"], args.flood_users,
            args.flood_concurrency, args.reply_timeout)))


def measure_fault(args, stack: Stack, meter: CpuMeter, arrivals: Arrivals, r: Results) -> None:
    """Load on one channel path while Rasa is killed and restarted."""
    path = (TelegramPath(800_000_000) if args.fault_path == "telegram"
            else WhatsAppPath(22_380_000_000))
    before = inbox_summary(r.setup.database_url, args.fault_path)
    r.fault, r.cpu["fault run"] = meter.phase(lambda mark: asyncio.run(fault_run(
        stack, path, arrivals, r.parts[args.fault_path], args.fault_users, args.concurrency,
        args.fault_seconds, args.fault_after, on_kill=mark, on_end=mark)))
    after = inbox_summary(r.setup.database_url, args.fault_path)
    r.fault_database = {key: after.get(key, 0) - before.get(key, 0)
                        for key in after if key != "outbox not sent"}
    r.fault_database["outbox not sent"] = after["outbox not sent"]


def run(args) -> Results:
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    r = Results(setup=make_setup(args, workdir), workdir=workdir,
                load_at_start=os.getloadavg())
    try:
        arrivals = Arrivals()
        telegram, graph = make_fakes(arrivals)
        # Any free ports, not 5005/5055: a Rasa of someone else's `make run` on the usual port
        # would otherwise answer in place of ours (and survive our fault run).
        stack = Stack.create(workdir, usual_ports=False, database_url=r.setup.database_url,
                             extra_env={"LOG_LEVEL": "WARNING"}, **stack_options(r.setup))
        stack.extra_env.update(channel_env(telegram, graph, stack.app_port))
        meter = CpuMeter(stack, r.setup.servers)
        try:
            r.cold = cold_start(stack, workdir, args.start_timeout)
            measure_paths(args, stack, meter, arrivals, r)
            if args.flood_senders > 0:
                measure_flood(args, stack, meter, arrivals, r)
            if args.fault_seconds > 0:
                measure_fault(args, stack, meter, arrivals, r)
        finally:
            stack.stop()
            telegram.stop()
            graph.stop()
    finally:
        r.setup.cleanup()
    r.load_at_end = os.getloadavg()
    return r
