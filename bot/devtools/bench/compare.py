"""`--baseline GIT-REF`: the old design against this tree, run back to back on this machine.

GIT-REF is checked out in a worktree under var/bench/trees/ (trees.py); its own bench runs
there (its own code, its own stack), then this tree's, with the same options (the fault run
and the flood phase off unless asked). Each bench runs as a subprocess, watched from here
for peak memory (cpu.MemoryWatch). Its figures come from its JSON (`--json`) where its bench
has that option, else from its printed report (`parse_report`: the bench before the package
printed the same tables). Printed: a table of both and new/old, and var/bench/compare.json.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import time
from pathlib import Path

from bot.config import ROOT
from bot.devtools.bench import trees
from bot.devtools.bench.cpu import SERVED_GROUPS, STACK_GROUPS, MemoryWatch

PATHS = ("web /api/chat", "Telegram webhook", "WhatsApp webhook")  # the gateway's paths
ALL = "all three paths"
CPU_GOAL = 0.60  # issue 12: CPU per answered message down by at least 40 %
OWN_OPTIONS = {"--baseline": 1, "--json": 1}  # not passed on (option: values it takes)
COMPARE_DEFAULTS = {"--fault-seconds": "0", "--flood-senders": "0"}


def forwarded(argv: list[str]) -> list[str]:
    """The bench options both trees get: ours minus --baseline/--json, and the comparison's
    defaults (no fault run, no flood phase: they measure recovery, not cost) unless given."""
    out: list[str] = []
    skip = 0
    for arg in argv:
        if skip:
            skip -= 1
            continue
        name = arg.split("=", 1)[0]
        if name in OWN_OPTIONS:
            skip = 0 if "=" in arg else OWN_OPTIONS[name]
            continue
        out.append(arg)
    for option, value in COMPARE_DEFAULTS.items():
        if not any(arg.split("=", 1)[0] == option for arg in out):
            out += [option, value]
    return out


# ------------------------------------------------------------------------------------------
# Reading a bench's printed report (the one before this package had no JSON).

def _number(cell: str) -> float | None:
    try:
        value = float(cell)
    except ValueError:
        return None
    return None if math.isnan(value) else value


def _section(text: str, title: str) -> list[str]:
    """The lines of the `== title...==` section, up to the next one."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(f"== {title}"):
            end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("== ")),
                       len(lines))
            return lines[i + 1:end]
    return []


def parse_report(text: str) -> dict:
    """The figures of a printed bench report, in the shape of report.figures()."""
    phases: dict[str, dict] = {}
    names = "|".join(re.escape(name) for name in PATHS)
    row = re.compile(rf"^({names})\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d+)\s")
    for line in _section(text, "channel paths"):
        match = row.match(line)
        if match:
            name, rate, p50, p95, lost = match.groups()
            phases[name] = {"rate": _number(rate), "p50_ms": _number(p50),
                            "p95_ms": _number(p95), "lost": int(lost)}
    cpu_lines = _section(text, "CPU ms per answered message")
    if cpu_lines:
        header = cpu_lines[0].split()
        groups = header[header.index("answered") + 1:header.index("total")]
        width = len(groups) + 3  # answered, the groups, total, cores busy
        for line in cpu_lines[1:]:
            tokens = line.split()
            if line.startswith(" ") or len(tokens) <= width or not tokens[-width].isdigit():
                continue
            name, cells = " ".join(tokens[:-width]), tokens[-width:]
            cpu = {group: _number(cell) for group, cell in zip(groups, cells[1:], strict=False)}
            entry = phases.setdefault(name, {})
            entry["answered"] = int(cells[0])
            entry["cpu_ms"] = {group: value for group, value in cpu.items() if value is not None}
    memory = {}
    for line in text.splitlines():
        if line.startswith("resident memory:"):
            memory = {name: float(mb) for name, mb
                      in re.findall(r"(\w+) (\d+(?:\.\d+)?) MB", line)}
    return {"phases": phases, "memory_mb": memory}


# ------------------------------------------------------------------------------------------
# One tree's figures, both trees side by side.

def summarize(figures: dict, peak_mb: dict[str, float]) -> dict:
    """Per gateway path and for all three together: CPU ms per answered message (served: app,
    action server, Rasa, PostgreSQL, Redis; stack: app, action server, Rasa; bench: the load
    clients and fakes), msg/s, p95 ms; and the peak memory of the tree's processes."""
    rows: dict[str, dict] = {}
    for name in PATHS:
        phase = figures["phases"].get(name)
        if not phase or not phase.get("answered"):
            continue
        cpu = phase.get("cpu_ms", {})
        rows[name] = {
            "answered": phase["answered"], "rate": phase.get("rate"),
            "p95_ms": phase.get("p95_ms"), "lost": phase.get("lost", 0),
            "cpu_ms_served": sum(cpu.get(group, 0.0) for group in SERVED_GROUPS),
            "cpu_ms_stack": sum(cpu.get(group, 0.0) for group in STACK_GROUPS),
            "cpu_ms_bench": cpu.get("bench", 0.0),
            "cpu_ms": {group: value for group, value in cpu.items()
                       if group not in ("total", "served")}}
    if rows:
        answered = sum(row["answered"] for row in rows.values())
        seconds = sum(row["answered"] / row["rate"] for row in rows.values() if row["rate"])
        pooled = {key: sum(row[key] * row["answered"] for row in rows.values()) / answered
                  for key in ("cpu_ms_served", "cpu_ms_stack", "cpu_ms_bench")}
        p95s = [row["p95_ms"] for row in rows.values() if row["p95_ms"] is not None]
        rows[ALL] = {"answered": answered, "rate": answered / seconds if seconds else None,
                     "p95_ms": max(p95s) if p95s else None,
                     "lost": sum(row["lost"] for row in rows.values()), **pooled}
    return {"paths": rows, "peak_memory_mb": peak_mb,
            "memory_after_load_mb": figures.get("memory_mb", {})}


def ratio(new: float | None, old: float | None) -> float | None:
    if new is None or old is None or old == 0:
        return None
    return new / old


METRICS = (("CPU ms/msg, served", "cpu_ms_served"), ("CPU ms/msg, app+actions+Rasa",
                                                      "cpu_ms_stack"),
           ("CPU ms/msg, bench (load+fakes)", "cpu_ms_bench"), ("msg/s", "rate"),
           ("p95 ms", "p95_ms"), ("lost", "lost"))
MEMORY = (("peak RSS MB, app+actions+Rasa", "stack"), ("peak RSS MB, Rasa", "rasa"),
          ("peak RSS MB, app", "app"), ("peak RSS MB, action server", "actions"))


def comparison(old: dict, new: dict) -> dict:
    """Both summaries, new/old for every figure, and the CPU goal."""
    ratios: dict[str, dict] = {}
    for path in (*PATHS, ALL):
        a, b = old["paths"].get(path), new["paths"].get(path)
        if a and b:
            ratios[path] = {key: ratio(b.get(key), a.get(key)) for _, key in METRICS}
    ratios["peak_memory"] = {key: ratio(new["peak_memory_mb"].get(key),
                                        old["peak_memory_mb"].get(key)) for _, key in MEMORY}
    cpu = ratios.get(ALL, {}).get("cpu_ms_served")
    return {"old": old, "new": new, "ratios": ratios,
            "goal": {"cpu_ratio_at_most": CPU_GOAL, "cpu_ratio": cpu,
                     "met": cpu is not None and cpu <= CPU_GOAL}}


def _cell(value: float | None, digits: int = 1) -> str:
    return f"{value:12.{digits}f}" if value is not None else f"{'-':>12}"


def print_comparison(result: dict, labels: tuple[str, str]) -> None:
    old, new, ratios = result["old"], result["new"], result["ratios"]
    print(f"\n== comparison: old = {labels[0]}, new = {labels[1]} (back to back, same load) ==")
    print(f"{'':34} {'old':>12} {'new':>12} {'new/old':>12}")
    for path in (ALL, *PATHS):
        if path not in ratios:
            continue
        print(f"-- {path} ({old['paths'][path]['answered']} / {new['paths'][path]['answered']}"
              f" messages answered)")
        for label, key in METRICS:
            digits = 0 if key == "lost" else 1
            print(f"  {label:32} {_cell(old['paths'][path].get(key), digits)}"
                  f" {_cell(new['paths'][path].get(key), digits)} {_cell(ratios[path][key], 2)}")
    print("-- memory (sampled every 0.5 s during the whole run, each group at its peak)")
    for label, key in MEMORY:
        print(f"  {label:32} {_cell(old['peak_memory_mb'].get(key), 0)}"
              f" {_cell(new['peak_memory_mb'].get(key), 0)}"
              f" {_cell(ratios['peak_memory'][key], 2)}")
    goal = result["goal"]
    verdict = "MET" if goal["met"] else "NOT MET"
    change = (f"{(goal['cpu_ratio'] - 1) * 100:+.0f} %" if goal["cpu_ratio"] is not None
              else "not measured")
    print(f"\nCPU per answered message (all processes serving it) down by >= 40 %: {verdict}"
          f"  ({change})")


# ------------------------------------------------------------------------------------------

def has_json(tree: Path) -> bool:
    main = tree / "bot" / "devtools" / "bench" / "__main__.py"
    return main.exists() and "--json" in main.read_text()


def run_bench(tree: Path, argv: list[str], out: Path) -> tuple[dict, dict[str, float]]:
    """Run `tree`'s own bench with `argv`, its output teed to out/<name>.log; its figures and
    the peak memory of its process tree."""
    name = out.name
    out.parent.mkdir(parents=True, exist_ok=True)
    json_path = out.with_suffix(".json")
    json_path.unlink(missing_ok=True)
    extra = ["--json", str(json_path)] if has_json(tree) else []
    command = [str(tree / ".venv" / "bin" / "python"), "-m", "bot.devtools.bench", *argv,
               *extra]
    print(f"bench: {name}: {' '.join(command[1:])}  (in {tree})", flush=True)
    lines: list[str] = []
    with open(out.with_suffix(".log"), "w") as log:
        process = subprocess.Popen(command, cwd=tree, env=trees.tree_env(tree), text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        with MemoryWatch(process.pid) as memory:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line)
                log.write(line)
                sys.stdout.write(line)
            process.wait()
    if process.returncode != 0:
        raise SystemExit(f"bench: the {name} bench failed ({process.returncode}); see "
                         f"{out.with_suffix('.log')}")
    figures = (json.loads(json_path.read_text()) if extra and json_path.exists()
               else parse_report("".join(lines)))
    return figures, memory.peak_mb()


def main(ref: str, argv: list[str], root: Path = ROOT) -> int:
    out = root / "var" / "bench"
    tree = trees.prepare_worktree(root, ref)
    venvs = trees.prepare_venvs(tree, root)
    print(f"bench: baseline {ref} in {tree} ({', '.join(f'{k} {v}' for k, v in venvs.items())})",
          flush=True)
    trees.prepare_model(tree)
    trees.prepare_model(root)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    old_figures, old_peak = run_bench(tree, argv, out / "old")
    new_figures, new_peak = run_bench(root, argv, out / "new")
    result = comparison(summarize(old_figures, old_peak), summarize(new_figures, new_peak))
    labels = (f"{ref} ({trees.git(tree, 'rev-parse', '--short', 'HEAD')})",
              f"this tree ({trees.git(root, 'rev-parse', '--short', 'HEAD')}"
              f"{', uncommitted changes' if trees.git(root, 'status', '--porcelain') else ''})")
    result.update(started=started, options=argv, old_label=labels[0], new_label=labels[1],
                  old_tree=str(tree), new_tree=str(root))
    print_comparison(result, labels)
    (out / "compare.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"(figures: {out / 'compare.json'}; each bench's output: {out}/old.log, new.log)")
    return 0
