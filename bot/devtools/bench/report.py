"""The bench's report: the tables it prints, the goals, and the same figures as JSON (for
the comparison of two trees, `compare.py`)."""

from __future__ import annotations

import math
import os
import statistics
from typing import TYPE_CHECKING

from bot.devtools.bench.cpu import CPU_GROUPS, cpu_ms_per_message
from bot.devtools.bench.paths import CONVERSATION

if TYPE_CHECKING:
    from bot.devtools.bench.run import Results

def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary(values: list[float]) -> str:
    return (f"p50 {pct(values, 0.5) * 1000:6.1f} ms  p95 {pct(values, 0.95) * 1000:6.1f} ms"
            f"  (n={len(values)})")


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
                   parts: dict[str, list[int]], direct_name: str = "Rasa REST direct") -> dict:
    """The channel-path table; returns the figures the goals are judged on."""
    direct = pooled(directs)
    direct_p95 = pct(direct["latencies"], 0.95)
    print(f"\n== channel paths: {args.users} users x {len(CONVERSATION)} messages each, at most "
          f"{args.concurrency} messages awaiting their answer, reply timeout "
          f"{args.reply_timeout:.0f} s ==")
    print(f"{'path':24} {'msg/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'lost':>5} {'twice':>6}"
          f" {'p95/direct':>10}  overhead at p95")
    for label, run in zip(("before", "after"), directs, strict=False):
        print(f"{direct_name + ' ' + label:24} {run['rate']:7.1f} "
              f"{_ms(pct(run['latencies'], .5))} {_ms(pct(run['latencies'], .95))} "
              f"{run['lost']:5d} {'-':>6} {pct(run['latencies'], .95) / direct_p95:10.2f}")
    print(f"{direct_name + ', both':24} {direct['rate']:7.1f} {_ms(pct(direct['latencies'], .5))}"
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


def cpu_phases(r: Results) -> list[tuple[str, int, dict]]:
    """(phase, answered messages, phase_cpu) of every load phase that was measured."""
    phases = [
        (f"{r.direct_name} before", answered(r.via_direct), r.cpu[f"{r.direct_name} before"]),
        (f"{r.direct_name} after", answered(r.via_direct_after),
         r.cpu[f"{r.direct_name} after"]),
        *((result["name"], answered(result), r.cpu[result["name"]]) for result in r.paths())]
    if r.flooded is not None:
        phases.append(("Telegram beside web flood",
                       answered(r.flooded) + r.flooded["flood"]["answered"],
                       r.cpu["Telegram beside web flood"]))
    if r.fault is not None:
        phases.append((f"fault run ({r.fault['name']})", answered(r.fault),
                       r.cpu["fault run"]))
    return phases


def print_header(args, r: Results) -> None:
    overhead = pct(r.gateway, 0.95) / pct(r.direct, 0.95)
    print(f"\n== bench ({os.cpu_count()} cores; compare ratios, not absolute figures) ==")
    for label, value in r.setup.lines:
        print(f"{label:31} {value}")
    print(f"{'load average (1, 5, 15 min):':31} start " +
          " ".join(f"{x:.2f}" for x in r.load_at_start) + ", end " +
          " ".join(f"{x:.2f}" for x in r.load_at_end))
    print(f"cold start to first answer:     {r.cold:6.1f} s")
    print(f"/api/chat sequential:           {summary(r.gateway)}")
    print(f"{r.direct_name + ' sequential:':31} {summary(r.direct)}")
    print(f"p50 ratio gateway/direct:       {pct(r.gateway, .5) / pct(r.direct, .5):5.2f}")
    print(f"p95 ratio gateway/direct:       {overhead:5.2f}")
    for name, result in (("/api/chat", r.via_gateway), (r.direct_name, r.via_direct)):
        print(f"{name + ' load':31} {result['rate']:6.1f} msg/s  {summary(result['latencies'])}"
              f"  lost {result['lost']}  ({args.users} users x {len(CONVERSATION)} messages, "
              f"concurrency {args.concurrency})")
    print(f"throughput ratio gateway/direct: {r.via_gateway['rate'] / r.via_direct['rate']:5.2f}")
    print("resident memory:                " +
          "  ".join(f"{name} {mb:.0f} MB" for name, mb in r.memory.items()))


def print_goals(r: Results, overheads: dict[str, float], flood_overhead: float | None) -> None:
    paths, fault = r.paths(), r.fault
    print("\n== goals ==")
    worst = max(overheads.values())
    print(f"gateway overhead at p95 <= 25 % of direct Rasa:  {_verdict(worst <= 0.25)}  (" +
          ", ".join(f"{name} {value * 100:+.0f} %" for name, value in overheads.items()) + ")")
    slowest = min(result["rate"] for result in paths)
    print(f">= 40 messages/s end to end:                     {_verdict(slowest >= 40)}  (" +
          ", ".join(f"{p['name']} {p['rate']:.1f}" for p in paths) +
          f"; Rasa direct {pooled([r.via_direct, r.via_direct_after])['rate']:.1f})")
    if flood_overhead is not None:
        print(f"Telegram p95 beside a web flood <= +25 %:         "
              f"{_verdict(flood_overhead <= 0.25)}  ({flood_overhead * 100:+.0f} %)")
    lost_load = sum(p["lost"] + p.get("not_sent", 0) for p in paths)
    lost_fault = (fault["lost"] + fault["not_sent"]) if fault is not None else 0
    none_lost = _verdict(lost_load + lost_fault == 0)
    print(f"zero lost:                                       {none_lost}"
          f"  (load {lost_load}, fault run "
          f"{lost_fault if fault is not None else 'not run'})")
    if fault is not None:
        print(f"nothing answered twice in the fault run:         "
              f"{_verdict(fault['twice'] == 0)}  ({fault['twice']})")


def print_report(args, r: Results) -> None:
    print_header(args, r)
    overheads = print_channels(args, [r.via_direct, r.via_direct_after], r.paths(), r.parts,
                               r.direct_name)
    print_cpu(cpu_phases(r))
    flood_overhead = print_flood(args, r.alone, r.flooded) if r.flooded is not None else None
    if r.fault is not None:
        print_fault(args, r.fault, r.fault_database)
    print_goals(r, overheads, flood_overhead)
    print(f"(logs and database: {r.workdir})")


def figures(args, r: Results) -> dict:
    """The report's figures as plain data (`--json`): per load phase, the messages answered,
    msg/s, p50/p95 (ms), lost, and CPU ms per answered message by group."""
    results = {f"{r.direct_name} before": r.via_direct, f"{r.direct_name} after":
               r.via_direct_after, **{p["name"]: p for p in r.paths()}}
    phases = {}
    for name, count, cpu in cpu_phases(r):
        result = results.get(name)
        entry: dict = {"answered": count, "wall_s": cpu["wall"],
                       "cpu_ms": {group: value for group, value
                                  in cpu_ms_per_message(cpu, count).items()
                                  if not math.isnan(value)}}
        if result is not None:
            latencies = result["latencies"]
            entry.update(rate=result["rate"], lost=result["lost"] + result.get("not_sent", 0),
                         p50_ms=pct(latencies, .5) * 1000 if latencies else None,
                         p95_ms=pct(latencies, .95) * 1000 if latencies else None)
        phases[name] = entry
    return {"setup": r.setup.name, "direct": r.direct_name, "users": args.users,
            "concurrency": args.concurrency, "conversation": CONVERSATION,
            "cold_start_s": r.cold, "memory_mb": r.memory, "phases": phases,
            "load_average": {"start": list(r.load_at_start), "end": list(r.load_at_end)}}
