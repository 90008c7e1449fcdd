"""The pure pieces of the benchmark and the local stack: how Rasa is started, the process
table, CPU accounting between snapshots, and the production setup's URLs."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from bot.config import ROOT
from bot.devtools import bench
from bot.devtools.stack import (
    ProcInfo,
    Stack,
    group_alive,
    parse_stat,
    process_tree,
)


def make_stack(tmp_path: Path, **kwargs) -> Stack:
    return Stack(app_port=8001, rasa_port=5006, workdir=tmp_path,
                 database_url=f"sqlite:///{tmp_path / 'assistant.db'}", **kwargs)


# ---------------------------------------------------------------------------- Rasa, NLU only

def test_rasa_serves_only_the_nlu_model(tmp_path, monkeypatch):
    """No endpoints.yml where Rasa runs (no tracker store, lock store or action server) and
    credentials with no channel (no webhook); the API (`/model/parse`) behind a token."""
    from bot.devtools import stack as stack_module

    fake = tmp_path / "rasa"
    fake.write_text('#!/bin/sh\necho "$@" > ../args\nls -A > ../files\n'
                    'echo $LOG_LEVEL > ../level\n')
    fake.chmod(0o755)
    monkeypatch.setattr(stack_module, "RASA", fake)
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")  # the app's level does not reach Rasa
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"")
    stack = make_stack(tmp_path / "w", model=model, rasa_workers=2)
    stack.start_rasa()
    assert stack.processes["rasa"].wait(10) == 0
    args = (tmp_path / "w" / "args").read_text().split()
    assert args[:4] == ["run", "--enable-api", "--auth-token", stack.rasa_token]
    assert "--endpoints" not in args and "--debug" not in args
    assert args[args.index("--credentials") + 1] == "credentials.yml"
    assert (tmp_path / "w" / "files").read_text() == "credentials.yml\n"
    assert (tmp_path / "w" / "level").read_text() == "INFO\n"  # DEBUG would log the texts
    assert yaml.safe_load((tmp_path / "w" / "rasa" / "credentials.yml").read_text()) == {}
    assert (ROOT / "deploy" / "rasa-credentials.yml").read_text() == stack_module.NO_CHANNELS


# ---------------------------------------------------------------------------- process table

def info(pid: int, ppid: int, cpu: float = 0.0, reaped: float = 0.0, *, comm: str = "python",
         start: int | None = None, pgrp: int | None = None, state: str = "S",
         rss_kb: int = 0) -> ProcInfo:
    return ProcInfo(pid=pid, ppid=ppid, pgrp=pgrp if pgrp is not None else pid, comm=comm,
                    state=state, start=start if start is not None else pid * 10, cpu=cpu,
                    reaped=reaped, rss_kb=rss_kb)


def test_parse_stat_reads_cpu_ticks_and_a_command_name_with_spaces():
    # fields: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
    #         utime stime cutime cstime priority nice threads itrealvalue starttime vsize rss
    line = ("4242 (we ird) (name)) S 4000 4000 4000 0 -1 4194560 100 0 0 0 "
            "250 50 30 20 20 0 3 0 987654 123456789 1000 18446744073709551615 1 1 0 0 0")
    parsed = parse_stat(line, ticks=100, page_kb=4)
    assert parsed == ProcInfo(pid=4242, ppid=4000, pgrp=4000, comm="we ird) (name)",
                              state="S", start=987654, cpu=3.0, reaped=0.5, rss_kb=4000)
    assert parsed.key == (4242, 987654)


def test_process_tree_walks_children_and_grandchildren_only():
    table = {i.pid: i for i in (info(1, 0), info(10, 1), info(11, 10), info(12, 10),
                                info(13, 12), info(20, 1), info(21, 20))}
    assert sorted(process_tree(10, table)) == [10, 11, 12, 13]
    assert process_tree(99, table) == []


def test_rss_and_cpu_use_the_same_tree(tmp_path, monkeypatch):
    class Process:
        pid = 10

    table = {i.pid: i for i in (info(1, 0, rss_kb=1), info(10, 1, rss_kb=1024),
                                info(11, 10, rss_kb=2048), info(20, 1, rss_kb=4096))}
    monkeypatch.setattr("bot.devtools.stack.process_table", lambda: table)
    stack = make_stack(tmp_path)
    stack.processes["rasa"] = Process()
    assert [i.pid for i in stack.tree("rasa")] == [10, 11]
    assert stack.rss_mb("rasa") == 3.0
    assert stack.rss_mb("app") == 0.0


def test_group_alive_ignores_zombies_and_other_groups():
    table = {i.pid: i for i in (info(10, 1, pgrp=10), info(11, 1, pgrp=10, state="Z"),
                                info(12, 1, pgrp=10, state="R"), info(20, 1, pgrp=20))}
    assert [i.pid for i in group_alive(10, table)] == [10, 12]
    assert group_alive(30, table) == []


# ---------------------------------------------------------------------------- CPU accounting

def snapshot(at: float, bench_cpu: float, **groups: list[ProcInfo]) -> bench.CpuSnapshot:
    return bench.CpuSnapshot(at=at, groups={name: {i.key: i for i in members}
                                            for name, members in groups.items()},
                             bench=bench_cpu)


def test_cpu_per_message_from_two_snapshots():
    before = snapshot(100.0, 2.0,
                      app=[info(10, 1, cpu=5.0)],
                      actions=[info(20, 1, cpu=1.0)],
                      rasa=[info(30, 1, cpu=40.0), info(31, 30, cpu=9.0), info(32, 30, cpu=8.0)],
                      postgres=[info(50, 1, cpu=3.0, comm="postgres"),
                                info(51, 50, cpu=0.5, comm="postgres"),  # closes in between
                                info(52, 50, cpu=1.0, comm="postgres")],
                      redis=[info(60, 1, cpu=7.0, comm="redis-server")])
    after = snapshot(110.0, 3.5,
                     app=[info(10, 1, cpu=7.0)],                               # +2.0
                     actions=[info(20, 1, cpu=1.5)],                           # +0.5
                     rasa=[info(30, 1, cpu=40.25), info(31, 30, cpu=12.0),    # +0.25 +3
                           info(32, 30, cpu=11.75)],                           # +3.75
                     # backend 51 used 0.25 s more, exited, was reaped by the postmaster
                     # (reaped += its 0.75 s); backend 53 opened in between (0.5 s)
                     postgres=[info(50, 1, cpu=3.5, reaped=0.75, comm="postgres"),
                               info(52, 50, cpu=2.0, comm="postgres"),
                               info(53, 50, cpu=0.5, comm="postgres")],
                     redis=[info(60, 1, cpu=7.25, comm="redis-server")])
    cpu = bench.phase_cpu([before, after])
    assert cpu["wall"] == 10.0
    seconds = cpu["seconds"]
    assert list(seconds) == ["app", "actions", "rasa", "postgres", "redis", "bench", "total",
                             "served"]
    assert seconds["app"] == pytest.approx(2.0)
    assert seconds["actions"] == pytest.approx(0.5)
    assert seconds["rasa"] == pytest.approx(7.0)
    # postmaster 0.5, backend 51: 0.25, backend 52: 1.0, backend 53: 0.5
    assert seconds["postgres"] == pytest.approx(2.25)
    assert seconds["redis"] == pytest.approx(0.25)
    assert seconds["bench"] == pytest.approx(1.5)
    assert seconds["total"] == pytest.approx(13.5)
    assert seconds["served"] == pytest.approx(12.0)  # all but the bench's own process

    per_message = bench.cpu_ms_per_message(cpu, 500)
    assert per_message["rasa"] == pytest.approx(14.0)
    assert per_message["postgres"] == pytest.approx(4.5)
    assert per_message["bench"] == pytest.approx(3.0)
    assert per_message["total"] == pytest.approx(27.0)
    assert all(math.isnan(value) for value in bench.cpu_ms_per_message(cpu, 0).values())


def test_embedded_phases_have_no_server_groups():
    cpu = bench.phase_cpu([snapshot(0.0, 0.0, app=[info(10, 1, cpu=1.0)], actions=[], rasa=[]),
                           snapshot(2.0, 0.5, app=[info(10, 1, cpu=2.0)], actions=[], rasa=[])])
    assert set(cpu["seconds"]) == {"app", "actions", "rasa", "bench", "total", "served"}
    assert cpu["seconds"]["total"] == pytest.approx(1.5)


def test_a_killed_and_restarted_rasa_counts_both_lives():
    """Fault run: a snapshot right before the kill, the old Rasa (main process and workers)
    disappears, the new one counts all it used (loading the model included)."""
    old = [info(30, 1, cpu=10.0), info(31, 30, cpu=20.0), info(32, 30, cpu=20.0)]
    start = snapshot(0.0, 0.0, rasa=[info(30, 1, cpu=9.0), info(31, 30, cpu=15.0),
                                     info(32, 30, cpu=14.0)])
    before_kill = snapshot(5.0, 0.0, rasa=old)
    end = snapshot(60.0, 0.0, rasa=[info(40, 1, cpu=30.0), info(41, 40, cpu=5.0)])
    cpu = bench.phase_cpu([start, before_kill, end])
    assert cpu["seconds"]["rasa"] == pytest.approx(12.0 + 35.0)
    assert cpu["wall"] == 60.0


def test_a_reused_pid_is_a_new_process():
    before = snapshot(0.0, 0.0, postgres=[info(50, 1, cpu=3.0), info(51, 50, cpu=4.0, start=7)])
    after = snapshot(1.0, 0.0, postgres=[info(50, 1, cpu=3.0, reaped=4.5),
                                         info(51, 50, cpu=0.25, start=99)])
    # the old 51 used 0.5 s more and was reaped; the new 51 used 0.25 s
    assert bench.phase_cpu([before, after])["seconds"]["postgres"] == pytest.approx(0.75)


def test_answered_messages_of_a_phase():
    assert bench.answered({"latencies": [0.1] * 10, "lost": 2}) == 8  # load(): all timed
    assert bench.answered({"records": [{}] * 12, "latencies": [0.1] * 11, "lost": 1}) == 11


def test_cpu_table_prints_a_dash_for_groups_not_in_the_setup(capsys):
    cpu = {"seconds": {"app": 1.0, "actions": 0.5, "rasa": 2.0, "bench": 0.5, "total": 4.0},
           "wall": 2.0}
    bench.print_cpu([("web /api/chat", 100, cpu)])
    row = [line for line in capsys.readouterr().out.splitlines()
           if line.startswith("web /api/chat")][0]
    assert row.split() == ["web", "/api/chat", "100", "10.0", "5.0", "20.0", "-", "-", "5.0",
                           "40.0", "2.00"]


# ---------------------------------------------------------------------------- setups

def test_database_urls_of_the_production_setup():
    server = "postgresql://postgres@127.0.0.1:5432"
    assert bench.database_url(server, "bench_x_app") == \
        "postgresql://postgres@127.0.0.1:5432/bench_x_app"
    assert bench.database_url("postgresql+psycopg2://u:p%40w@db:6543/postgres", "t",
                              "postgresql+psycopg") == "postgresql+psycopg://u:p%40w@db:6543/t"


def test_printed_urls_hide_the_password():
    assert bench.redact("redis://:secret@127.0.0.1:6379/0") == "redis://:***@127.0.0.1:6379/0"
    assert bench.redact("postgresql://u:pw@db:5432") == "postgresql://u:***@db:5432"
    assert bench.redact("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_the_embedded_setup_is_make_runs(tmp_path):
    setup = bench.embedded_setup(tmp_path)
    assert setup.database_url == f"sqlite:///{tmp_path / 'assistant.db'}"
    assert (setup.tracker_url, setup.redis_url, setup.rasa_workers, setup.servers) == \
        (None, None, 1, ())
    setup.cleanup()  # nothing to drop, no connection
