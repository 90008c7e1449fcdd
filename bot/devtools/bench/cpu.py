"""Accounting: CPU seconds used by each process group during a phase, per answered message
(/proc/<pid>/stat utime+stime), and the peak resident memory of a process tree (sampled)."""

from __future__ import annotations

import math
import resource
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.devtools.stack import ProcInfo, Stack, process_table, process_tree

CPU_GROUPS = ("app", "actions", "rasa", "postgres", "redis", "bench")
STACK_GROUPS = ("app", "actions", "rasa")  # our processes and their children
SERVER_COMMANDS = {"postgres": "postgres", "redis": "redis-server"}  # by command name
SERVED_GROUPS = ("app", "actions", "rasa", "postgres", "redis")  # all that serves a message


def stack_groups(stack: Stack) -> tuple[str, ...]:
    """The stack's groups: app and Rasa always, the action server only where the stack runs
    one (the design where Rasa runs the dialogue)."""
    return tuple(name for name in STACK_GROUPS
                 if name in ("app", "rasa") or name in stack.processes)


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
              for name in stack_groups(stack)}
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
    for before, after in zip(snapshots, snapshots[1:], strict=False):
        for name in after.groups:
            seconds[name] += group_cpu(before.groups.get(name, {}), after.groups[name])
        seconds["bench"] += after.bench - before.bench
    seconds["total"] = sum(seconds.values())
    seconds["served"] = sum(value for name, value in seconds.items() if name in SERVED_GROUPS)
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
# Peak memory of a process tree, sampled from outside (the comparison watches each tree's
# bench this way, whatever that bench's own code reports).

def classify(cmdline: str) -> str:
    """The group of one of the bench's children, by its command line."""
    if "bot.actions.server" in cmdline or "rasa_sdk" in cmdline:
        return "actions"
    if "bot.app" in cmdline:
        return "app"
    if "rasa" in cmdline:
        return "rasa"
    return "other"


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(
            errors="replace")
    except OSError:
        return ""


def tree_rss_kb(root: int, table: dict[int, ProcInfo], names: dict[int, str]) -> dict[str, int]:
    """Resident memory (kB) of `root` ("bench") and of its descendants, grouped by the command
    line of the child of `root` they descend from (`names` caches it by pid)."""
    if root not in table:
        return {}
    totals = {"bench": table[root].rss_kb}
    for pid in process_tree(root, table):
        if pid == root:
            continue
        child = pid
        while table[child].ppid != root and table[child].ppid in table:
            child = table[child].ppid
        if child not in names:
            names[child] = classify(cmdline(child))
        group = names[child]
        totals[group] = totals.get(group, 0) + table[pid].rss_kb
    return totals


class MemoryWatch:
    """Samples a process tree every `interval` s in a thread: the highest resident memory of
    each group, and the highest sums at one moment: "stack" (app, action server, Rasa) and
    "total" (with the bench process), in MB."""

    def __init__(self, root: int, interval: float = 0.5):
        self.root, self.interval = root, interval
        self.peak_kb: dict[str, int] = {}
        self._stop = threading.Event()
        self._names: dict[int, str] = {}
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        groups = tree_rss_kb(self.root, process_table(), self._names)
        groups["total"] = sum(groups.values())
        groups["stack"] = sum(groups.get(name, 0) for name in STACK_GROUPS)
        for name, kb in groups.items():
            self.peak_kb[name] = max(self.peak_kb.get(name, 0), kb)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()

    def peak_mb(self) -> dict[str, float]:
        return {name: kb / 1024 for name, kb in self.peak_kb.items()}
