"""The comparison of two trees (`make bench BENCH_ARGS="--baseline REF"`) without Rasa: the
options both benches get, reading a printed report, the new/old figures and the CPU goal, the
baseline's worktree and venvs in a temporary git repository, and the memory watch."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.devtools.bench import compare, cpu, report, trees
from bot.devtools.stack import ProcInfo

# ---------------------------------------------------------------------------- options


def test_both_benches_get_the_same_options_less_the_comparisons_own():
    assert compare.forwarded(["--baseline", "main", "--users", "10", "--json", "x.json"]) == \
        ["--users", "10", "--fault-seconds", "0", "--flood-senders", "0"]
    assert compare.forwarded(["--baseline=f5c0273", "--fault-seconds", "30",
                              "--flood-senders=8"]) == ["--fault-seconds", "30",
                                                        "--flood-senders=8"]


# ---------------------------------------------------------------------------- a printed report

# As printed by the bench before it was a package (bot/devtools/bench.py at f5c0273), trimmed.
OLD_REPORT = """
== bench (2 cores; compare ratios, not absolute figures) ==
setup:                          embedded (as make run), 1 Rasa process
cold start to first answer:       31.2 s
resident memory:                app 180 MB  actions 150 MB  rasa 1170 MB

== channel paths: 10 users x 6 messages each, at most 8 messages awaiting their answer, reply timeout 60 s ==
path                       msg/s   p50 ms   p95 ms  lost  twice p95/direct  overhead at p95
Rasa REST direct before     30.0    200.0    400.0     0      -       1.00
Rasa REST direct, both      30.0    200.0    400.0     0      -       1.00  (reference)
web /api/chat               20.0    250.0    500.0     0      -       1.25     +25 %
Telegram webhook            25.0    240.0    450.0     1      0       1.12     +12 %
WhatsApp webhook            nan        -      nan     60      0        nan      +nan %

== CPU ms per answered message (CPU seconds each group used during the phase / messages answered) ==
phase                        answered      app  actions     rasa postgres    redis    bench    total cores busy
Rasa REST direct before            60      0.3      1.4     26.0        -        -      2.6     30.3       1.10
Rasa /model/parse direct before       60      0.2        -      7.2        -        -      2.5      9.8       0.46
web /api/chat                      60     10.0      2.0     30.0        -        -      3.0     45.0       1.50
Telegram webhook                   59     12.0      2.0     31.0        -        -      5.0     50.0       1.60
  rasa: the Rasa process and its forked children (Sanic workers); postgres, redis: every process of that
  name on the machine; bench: this process (the load clients and the fake APIs); cores busy: CPU s / wall s

== goals ==
>= 40 messages/s end to end:                     NOT MET  (web /api/chat 20.0)
"""  # noqa: E501  (the report as printed)


def test_the_old_benchs_printed_report_is_read():
    figures = compare.parse_report(OLD_REPORT)
    web = figures["phases"]["web /api/chat"]
    assert web == {"rate": 20.0, "p50_ms": 250.0, "p95_ms": 500.0, "lost": 0, "answered": 60,
                   "cpu_ms": {"app": 10.0, "actions": 2.0, "rasa": 30.0, "bench": 3.0}}
    assert figures["phases"]["Telegram webhook"]["lost"] == 1
    assert figures["phases"]["WhatsApp webhook"]["rate"] is None  # nothing answered: nan
    assert figures["phases"]["Rasa REST direct before"]["answered"] == 60
    # a name longer than the column pushes the cells right: still read
    assert figures["phases"]["Rasa /model/parse direct before"] == {
        "answered": 60, "cpu_ms": {"app": 0.2, "rasa": 7.2, "bench": 2.5}}
    assert figures["memory_mb"] == {"app": 180.0, "actions": 150.0, "rasa": 1170.0}


def test_this_benchs_own_tables_read_back(capsys):
    """The report functions of the package print what parse_report reads (if a table's
    format changes, the comparison with a tree of the same bench must follow)."""
    args = SimpleNamespace(users=10, concurrency=8, reply_timeout=60.0)
    direct = {"rate": 40.0, "latencies": [0.1] * 60, "lost": 0}
    web = {"name": "web /api/chat", "rate": 20.0, "latencies": [0.2] * 50 + [0.5] * 10,
           "lost": 0}
    report.print_channels(args, [direct, direct], [web], {})
    report.print_cpu([("web /api/chat", 60, {"seconds": {"app": 0.6, "rasa": 1.2, "bench": 0.3,
                                                         "total": 2.1}, "wall": 3.0})])
    figures = compare.parse_report(capsys.readouterr().out)
    assert figures["phases"]["web /api/chat"] == {
        "rate": 20.0, "p50_ms": 200.0, "p95_ms": 500.0, "lost": 0, "answered": 60,
        "cpu_ms": {"app": 10.0, "rasa": 20.0, "bench": 5.0}}


# ---------------------------------------------------------------------------- new / old

def figures(app: float, actions: float | None, rasa: float, rate: float, p95: float) -> dict:
    groups = {"app": app, "rasa": rasa, "postgres": 2.0, "bench": 4.0}
    if actions is not None:
        groups["actions"] = actions
    return {"phases": {name: {"answered": 100, "rate": rate, "p95_ms": p95, "lost": 0,
                              "cpu_ms": dict(groups, total=sum(groups.values()))}
                       for name in compare.PATHS}}


def test_cpu_per_message_and_its_ratio():
    old = compare.summarize(figures(10.0, 2.0, 36.0, 25.0, 800.0), {"stack": 1500, "rasa": 1200})
    new = compare.summarize(figures(12.0, None, 11.0, 40.0, 400.0), {"stack": 600, "rasa": 450})
    assert old["paths"][compare.ALL]["cpu_ms_served"] == pytest.approx(50.0)  # not the bench
    assert old["paths"][compare.ALL]["cpu_ms_stack"] == pytest.approx(48.0)  # no PostgreSQL
    assert new["paths"][compare.ALL]["cpu_ms_served"] == pytest.approx(25.0)
    assert new["paths"][compare.ALL]["rate"] == pytest.approx(40.0)
    result = compare.comparison(old, new)
    assert result["goal"] == {"cpu_ratio_at_most": 0.6, "cpu_ratio": pytest.approx(0.5),
                              "met": True}
    assert result["ratios"]["web /api/chat"]["p95_ms"] == pytest.approx(0.5)
    assert result["ratios"]["peak_memory"]["stack"] == pytest.approx(0.4)
    assert result["ratios"]["peak_memory"]["actions"] is None  # in neither


def test_pooled_figures_weigh_each_path_by_its_messages():
    data = figures(10.0, 0.0, 30.0, 20.0, 500.0)
    data["phases"]["Telegram webhook"].update(answered=300, rate=30.0, p95_ms=700.0)
    data["phases"]["Telegram webhook"]["cpu_ms"]["app"] = 30.0
    pooled = compare.summarize(data, {})["paths"][compare.ALL]
    assert pooled["answered"] == 500
    assert pooled["cpu_ms_served"] == pytest.approx(42.0 + 20.0 * 300 / 500)
    assert pooled["rate"] == pytest.approx(500 / (100 / 20 + 300 / 30 + 100 / 20))
    assert pooled["p95_ms"] == 700.0  # the worst path's


def test_a_cpu_fall_short_of_40_percent_is_not_met(capsys):
    old = compare.summarize(figures(10.0, 2.0, 36.0, 25.0, 800.0), {})
    new = compare.summarize(figures(10.0, None, 25.0, 30.0, 700.0), {})
    result = compare.comparison(old, new)
    assert result["goal"]["met"] is False and result["goal"]["cpu_ratio"] == pytest.approx(0.74)
    compare.print_comparison(result, ("f5c0273", "this tree"))
    out = capsys.readouterr().out
    assert "down by >= 40 %: NOT MET  (-26 %)" in out
    assert "old = f5c0273, new = this tree" in out


# ---------------------------------------------------------------------------- the baseline tree

def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "bench@example.org")
    git(repo, "config", "user.name", "bench")
    for n, (app, rasa) in enumerate((("httpx==1", "rasa==3.6"), ("httpx==2", "rasa==3.6"))):
        (repo / "requirements").mkdir(exist_ok=True)
        for name in ("app.txt", "app.lock", "dev.in", "dev.lock"):
            (repo / "requirements" / name).write_text(app + "\n")
        for name in ("rasa.txt", "rasa-constraints.txt"):
            (repo / "requirements" / name).write_text(rasa + "\n")
        (repo / "version").write_text(f"{n}\n")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", f"commit {n}")
    return repo


def test_the_baseline_is_a_worktree_of_the_ref_reused_next_time(repo):
    first = git(repo, "rev-parse", "HEAD~1")
    tree = trees.prepare_worktree(repo, "HEAD~1")
    assert tree == repo / "var" / "bench" / "trees" / first[:12]
    assert (tree / "version").read_text() == "0\n"
    assert git(tree, "rev-parse", "HEAD") == first
    (tree / "models").mkdir()
    (tree / "models" / "current.tar.gz").write_text("trained")
    assert trees.prepare_worktree(repo, first) == tree  # by another name: the same tree
    assert (tree / "models" / "current.tar.gz").exists()  # kept, not checked out anew
    other = trees.prepare_worktree(repo, "main")
    assert other != tree and (other / "version").read_text() == "1\n"
    with pytest.raises(SystemExit, match="not a commit"):
        trees.prepare_worktree(repo, "no-such-ref")


def test_venvs_are_linked_when_the_requirements_match_else_built(repo):
    (repo / ".venv" / "bin").mkdir(parents=True)
    (repo / ".venv-rasa" / "bin").mkdir(parents=True)
    calls = []

    def runner(command, **kwargs):
        calls.append((command, kwargs["cwd"]))
        return subprocess.CompletedProcess(command, 0)

    tree = trees.prepare_worktree(repo, "HEAD~1")  # other app requirements, same Rasa ones
    assert trees.prepare_venvs(tree, repo, runner) == {".venv": "built",
                                                      ".venv-rasa": "linked"}
    assert calls == [(["bash", "scripts/setup.sh", "app"], tree)]
    assert (tree / ".venv-rasa").resolve() == (repo / ".venv-rasa").resolve()
    same = trees.prepare_worktree(repo, "HEAD")
    calls.clear()
    assert trees.prepare_venvs(same, repo, runner) == {".venv": "linked", ".venv-rasa": "linked"}
    assert trees.prepare_venvs(same, repo, runner) == {".venv": "linked", ".venv-rasa": "linked"}
    assert calls == [] and (same / ".venv").is_symlink()


def test_the_comparison_runs_both_trees_and_writes_its_json(repo, monkeypatch, capsys):
    ran = []

    def run_bench(tree, argv, out):
        ran.append((tree, argv, out.name))
        if out.name == "old":
            return figures(10.0, 2.0, 36.0, 25.0, 800.0), {"stack": 1500.0}
        return figures(12.0, None, 11.0, 40.0, 400.0), {"stack": 600.0}

    monkeypatch.setattr(compare, "run_bench", run_bench)
    monkeypatch.setattr(trees, "prepare_venvs", lambda tree, root: {})
    monkeypatch.setattr(trees, "prepare_model", lambda tree: None)
    assert compare.main("HEAD~1", ["--users", "5"], root=repo) == 0
    baseline = repo / "var" / "bench" / "trees" / git(repo, "rev-parse", "HEAD~1")[:12]
    assert ran == [(baseline, ["--users", "5"], "old"), (repo, ["--users", "5"], "new")]
    saved = json.loads((repo / "var" / "bench" / "compare.json").read_text())
    assert saved["goal"]["met"] is True and saved["options"] == ["--users", "5"]
    assert saved["old"]["paths"]["web /api/chat"]["cpu_ms_served"] == pytest.approx(50.0)
    assert "new/old" in capsys.readouterr().out


def test_a_tree_without_json_output_is_read_from_its_report(tmp_path):
    assert not compare.has_json(tmp_path)
    main = tmp_path / "bot" / "devtools" / "bench" / "__main__.py"
    main.parent.mkdir(parents=True)
    main.write_text('p.add_argument("--json")\n')
    assert compare.has_json(tmp_path)


# ---------------------------------------------------------------------------- peak memory

def proc(pid: int, ppid: int, rss_kb: int) -> ProcInfo:
    return ProcInfo(pid=pid, ppid=ppid, pgrp=pid, comm="python", state="S", start=pid,
                    cpu=0.0, reaped=0.0, rss_kb=rss_kb)


def test_memory_of_a_bench_tree_by_group():
    table = {p.pid: p for p in (proc(1, 0, 5), proc(100, 1, 10), proc(200, 100, 20),
                                proc(201, 200, 1), proc(300, 100, 300), proc(301, 300, 400),
                                proc(302, 300, 400), proc(400, 100, 7), proc(999, 1, 1000))}
    names = {200: "app", 300: "rasa", 400: "other"}
    assert cpu.tree_rss_kb(100, table, names) == {"bench": 10, "app": 21, "rasa": 1100,
                                                  "other": 7}
    assert cpu.tree_rss_kb(12345, table, names) == {}


def test_children_are_named_by_their_command_line():
    assert cpu.classify("/x/.venv/bin/python -m bot.app") == "app"
    assert cpu.classify("/x/.venv/bin/python -m bot.actions.server --port 5056") == "actions"
    assert cpu.classify("/x/.venv-rasa/bin/python /x/.venv-rasa/bin/rasa run --enable-api") \
        == "rasa"
    assert cpu.classify("psql") == "other"


def test_the_watch_keeps_each_groups_peak(monkeypatch):
    samples = iter([{"bench": 10, "rasa": 100}, {"bench": 12, "rasa": 50, "app": 30}])
    monkeypatch.setattr(cpu, "tree_rss_kb", lambda root, table, names: dict(next(samples)))
    monkeypatch.setattr(cpu, "process_table", dict)
    watch = cpu.MemoryWatch(root=1)
    watch.sample()
    watch.sample()
    assert watch.peak_kb == {"bench": 12, "rasa": 100, "app": 30, "total": 110, "stack": 100}
