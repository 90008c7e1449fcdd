"""`make run` leaves nothing behind: the runner's children (Rasa, the app) die with it, even
when it is killed with SIGKILL before it could stop them (issue 12, item 7)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from bot.config import ROOT
from bot.devtools.stack import process_table

# The real runner (bot.devtools.run.main) with the two programs replaced by `sleep`: what is
# tested is how the runner starts and loses its children, not Rasa or the app.
RUNNER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from bot.devtools import run, stack

    fake, workdir = Path(sys.argv[1]), Path(sys.argv[2])
    stack.APP_PYTHON = stack.RASA = fake
    stack.Stack.migrate = lambda self: None
    stack.Stack.wait_app = lambda self, timeout=60: 0.0
    stack.Stack.wait_rasa = lambda self, timeout=300: 0.0
    create = stack.Stack.create.__func__
    run.Stack.create = classmethod(
        lambda cls, **kw: create(cls, workdir, usual_ports=False, model=fake))
    run.main()
""")


def children_of(pid: int) -> list[int]:
    return [info.pid for info in process_table().values()
            if info.ppid == pid and info.state not in "ZX"]


def alive(pids: list[int]) -> list[int]:
    table = process_table()
    return [pid for pid in pids if pid in table and table[pid].state not in "ZX"]


def test_the_children_die_when_the_runner_is_killed(tmp_path: Path):
    fake = tmp_path / "program"
    fake.write_text("#!/bin/sh\nexec sleep 600\n")
    fake.chmod(0o755)
    runner = subprocess.Popen([sys.executable, "-c", RUNNER, str(fake), str(tmp_path)],
                              cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(children := children_of(runner.pid)) < 2:
            assert runner.poll() is None, "the runner exited"
            assert time.monotonic() < deadline, "the runner did not start its children"
            time.sleep(0.1)
        table = process_table()
        # In their own sessions: a Ctrl-C in the terminal reaches only the runner.
        assert all(table[pid].pgrp == pid for pid in children)
        runner.send_signal(signal.SIGKILL)
        runner.wait()
        deadline = time.monotonic() + 10
        while alive(children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert alive(children) == [], "children outlived the runner"
    finally:
        runner.kill()
        for pid in children_of(runner.pid):
            os.kill(pid, signal.SIGKILL)
