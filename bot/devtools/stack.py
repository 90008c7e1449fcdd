"""Start the two processes of a local assistant: Rasa's NLU server and the app.

Used by `make run` (bot.devtools.run), the integration tests and the benchmark, so that all
start the product the same way. Every process listens on loopback only, and dies with the
process that started it, whatever stops that one (`spawn`: even a SIGKILL leaves no orphan
holding a port).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bot.config import ROOT, VAR_DIR

APP_PYTHON = ROOT / ".venv" / "bin" / "python"
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
MODEL = ROOT / "models" / "current.tar.gz"


def free_port(preferred: int | None = None) -> int:
    """The preferred port if it is free, else any free port on loopback."""
    for candidate in ([preferred] if preferred else []) + [0]:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError("no free port")


def _die_with_parent() -> Callable[[], None]:
    """A `preexec_fn` for Popen: the child gets SIGTERM when the thread that started it ends
    (Linux `prctl(PR_SET_PDEATHSIG)`), so a runner stopped by anything, SIGKILL included,
    takes its children with it; if the parent is already gone, the child stops at once.
    Elsewhere (macOS), nothing: the runner's own stop() is then the only way."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return lambda: None
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the runner died before prctl: do not outlive it
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


PR_SET_PDEATHSIG = 1  # linux/prctl.h

# Rasa's credentials: no channel at all (deploy/rasa-credentials.yml is the same file).
NO_CHANNELS = "# No channel: Rasa serves only its NLU model (/model/parse).\n{}\n"


def spawn(args: list[str], *, cwd: Path, env: dict[str, str], log) -> subprocess.Popen:
    """Start one of our processes: in its own session (a Ctrl-C in the terminal reaches only
    the runner, which stops the children in order) and dying with the runner. Start it from
    the thread that lives as long as the stack (the main thread): the death signal follows
    the thread that forked."""
    return subprocess.Popen(args, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True, preexec_fn=_die_with_parent())


# ------------------------------------------------------------------------------------------
# Processes: one table of what runs on the machine, read from /proc, for resident memory and
# CPU time of a process and its children (Rasa's Sanic workers are forked children).

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PAGE_KB = (os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096) // 1024


@dataclass(frozen=True)
class ProcInfo:
    """One process, from /proc/<pid>/stat. CPU times in seconds."""

    pid: int
    ppid: int
    pgrp: int
    comm: str
    state: str  # R running, S sleeping, Z zombie (exited, not yet waited for), ...
    start: int  # start time in clock ticks after boot: (pid, start) names a process uniquely
    cpu: float  # utime + stime: CPU used by the process itself (all its threads)
    reaped: float  # cutime + cstime: CPU of its children that exited and were waited for
    rss_kb: int

    @property
    def key(self) -> tuple[int, int]:
        return self.pid, self.start


def parse_stat(text: str, ticks: int = CLOCK_TICKS, page_kb: int = PAGE_KB) -> ProcInfo:
    """Parse a /proc/<pid>/stat line (see proc(5): the command name is in parentheses and may
    itself hold spaces and parentheses; utime, stime, cutime, cstime are fields 14-17)."""
    head, _, rest = text.rpartition(")")
    pid, _, comm = head.partition(" (")
    fields = rest.split()  # fields[0] is field 3 (state)
    return ProcInfo(pid=int(pid), ppid=int(fields[1]), pgrp=int(fields[2]), comm=comm,
                    state=fields[0], start=int(fields[19]),
                    cpu=(int(fields[11]) + int(fields[12])) / ticks,
                    reaped=(int(fields[13]) + int(fields[14])) / ticks,
                    rss_kb=int(fields[21]) * page_kb)


def process_table() -> dict[int, ProcInfo]:
    """Every process on the machine. Without /proc (macOS), from ps, without CPU times."""
    table: dict[int, ProcInfo] = {}
    proc = Path("/proc")
    if proc.is_dir():
        for entry in proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                table[int(entry.name)] = parse_stat((entry / "stat").read_text())
            except (OSError, ValueError, IndexError):  # exited meanwhile
                continue
        return table
    try:
        out = subprocess.run(["ps", "-e", "-o", "pid=,ppid=,pgid=,rss=,comm="],
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return table
    for line in out.splitlines():
        parts = line.split(None, 4)
        if len(parts) == 5:
            pid, ppid, pgrp, rss = (int(x) for x in parts[:4])
            table[pid] = ProcInfo(pid, ppid, pgrp, Path(parts[4]).name, "?", 0, 0.0, 0.0, rss)
    return table


def process_tree(root: int, table: dict[int, ProcInfo]) -> list[int]:
    """`root` and all its descendants (by parent pid) that are in `table`."""
    children: dict[int, list[int]] = {}
    for info in table.values():
        children.setdefault(info.ppid, []).append(info.pid)
    found, todo = [], [root] if root in table else []
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(child for child in children.get(pid, []) if child != pid)
    return found


def group_alive(pgrp: int, table: dict[int, ProcInfo] | None = None) -> list[ProcInfo]:
    """Processes of process group `pgrp` that have not exited (zombies do not count)."""
    table = process_table() if table is None else table
    return [info for info in table.values() if info.pgrp == pgrp and info.state not in "ZX"]


@dataclass
class Stack:
    """One running assistant. `start()` returns at once; `wait_*` block until ready."""

    app_port: int
    rasa_port: int
    workdir: Path
    database_url: str
    model: Path = MODEL
    rasa_token: str = field(default_factory=lambda: secrets.token_hex(16))
    extra_env: dict[str, str] = field(default_factory=dict)
    # Rasa's Sanic workers: NLU only, so several need no shared store (no tracker, no lock).
    rasa_workers: int = 1
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @classmethod
    def create(cls, workdir: Path | None = None, *, app_port: int | None = None,
               database_url: str | None = None, usual_ports: bool = True, **kwargs) -> Stack:
        """A stack in `workdir`. With `usual_ports`, PORT/RASA_PORT (or 8000, 5005) when
        free, as `make run` wants; otherwise random free ports, so that tests
        and benchmarks never meet a developer's running copy on a usual port."""
        workdir = workdir or VAR_DIR
        workdir.mkdir(parents=True, exist_ok=True)

        def port(name: str, default: int) -> int:
            if not usual_ports:
                return free_port()
            return free_port(int(os.environ.get(name) or default))

        return cls(
            app_port=app_port or port("PORT", 8000),
            rasa_port=port("RASA_PORT", 5005),
            workdir=workdir,
            database_url=database_url or os.environ.get("DATABASE_URL")
            or f"sqlite:///{workdir / 'assistant.db'}",
            **kwargs,
        )

    @property
    def app_url(self) -> str:
        return f"http://127.0.0.1:{self.app_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def _log(self, name: str):
        logs = self.workdir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        return open(logs / f"{name}.log", "ab")

    def _data_key(self) -> str:
        """The app's encryption key of identifiers, kept in the workdir across runs."""
        from cryptography.fernet import Fernet

        from bot.config import local_secret

        # Created private, and one key even if the processes start together (bot/config.py).
        return local_secret(self.workdir / "data.key", Fernet.generate_key)

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        if not env.get("DATA_ENCRYPTION_KEY"):
            env["DATA_ENCRYPTION_KEY"] = self._data_key()
        env.update({"PYTHONUNBUFFERED": "1", "RASA_TELEMETRY_ENABLED": "false",
                    "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"})
        env.update(self.extra_env)
        return env

    @property
    def rasa_workdir(self) -> Path:
        """Rasa runs in a folder of its own, with no endpoints.yml (no tracker store, lock
        store or action server) and NO_CHANNELS as its credentials (without a credentials
        file Rasa would open its REST channel): it serves only the NLU model through its
        API (`/model/parse`, `/status`, behind the token)."""
        path = self.workdir / "rasa"
        path.mkdir(parents=True, exist_ok=True)
        (path / "credentials.yml").write_text(NO_CHANNELS)
        return path

    def start_rasa(self) -> None:
        if not self.model.exists():
            raise RuntimeError(f"no trained model at {self.model}: run `make train`")
        env = self._env()
        env["SANIC_WORKERS"] = str(self.rasa_workers)
        # Rasa logs each parsed text at DEBUG (`processor.message.parse`): never below INFO,
        # whatever LOG_LEVEL the app runs with.
        env["LOG_LEVEL"] = "INFO"
        self.processes["rasa"] = spawn(
            [str(RASA), "run", "--enable-api", "--auth-token", self.rasa_token,
             "-i", "127.0.0.1", "-p", str(self.rasa_port), "--model", str(self.model),
             "--credentials", "credentials.yml"],
            cwd=self.rasa_workdir, env=env, log=self._log("rasa"))

    def start_app(self) -> None:
        env = self._env()
        env.update({"PORT": str(self.app_port), "RASA_URL": self.rasa_url,
                    "RASA_TOKEN": self.rasa_token, "DATABASE_URL": self.database_url,
                    "VAR_DIR": str(self.workdir)})
        # A local run on loopback: the web chat is open (the client names its sender, no
        # cookie, no rate limit), as the /api/chat contract has always been for `make run`.
        # A deployment leaves it off, or turns on the signed-cookie mode (docs/SECURITY.md).
        env.setdefault("WEB_CHAT_OPEN", "true")
        self.processes["app"] = spawn([str(APP_PYTHON), "-m", "bot.app"], cwd=ROOT, env=env,
                                      log=self._log("app"))

    def migrate(self) -> None:
        """Bring the database schema up to date before the app starts (the app's processes
        should not race each other's migration)."""
        from bot.store.db import Database

        db = Database(self.database_url)
        try:
            db.upgrade()
        finally:
            db.dispose()

    def start(self) -> Stack:
        self.migrate()
        self.start_app()
        self.start_rasa()
        return self

    def wait_http(self, url: str, timeout: float, name: str) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            process = self.processes.get(name)
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}; see "
                                   f"{self.workdir / 'logs' / (name + '.log')}")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise TimeoutError(f"{name} did not answer at {url} within {timeout:.0f} s")

    def wait_app(self, timeout: float = 60) -> float:
        return self.wait_http(f"{self.app_url}/healthz", timeout, "app")

    def wait_rasa(self, timeout: float = 240) -> float:
        """Until Rasa serves its model (`/status` answers 409 before a model is loaded)."""
        return self.wait_http(f"{self.rasa_url}/status?token={self.rasa_token}", timeout,
                              "rasa")

    def stop_one(self, name: str, timeout: float = 15) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=timeout)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def kill_one(self, name: str, timeout: float = 10) -> list[ProcInfo]:
        """Kill without warning, as a crash would: the whole process group (Rasa's forked
        Sanic workers with it). Waits until none of the group is alive any more and returns
        those still alive after `timeout` (none expected)."""
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return []
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        deadline = time.monotonic() + timeout
        while True:
            alive = group_alive(process.pid)
            if not alive or time.monotonic() > deadline:
                return alive
            time.sleep(0.1)

    def stop(self) -> None:
        for name in ("app", "rasa"):
            self.stop_one(name)

    def tree(self, name: str, table: dict[int, ProcInfo] | None = None) -> list[ProcInfo]:
        """The processes of one of ours (app, rasa) and their children."""
        process = self.processes.get(name)
        if process is None:
            return []
        table = process_table() if table is None else table
        return [table[pid] for pid in process_tree(process.pid, table)]

    def rss_mb(self, name: str) -> float:
        """Resident memory of a process and its children, in MB."""
        return sum(info.rss_kb for info in self.tree(name)) / 1024


def main_guard() -> None:  # pragma: no cover - used by scripts
    if not APP_PYTHON.exists() or not RASA.exists():
        sys.exit("run `make setup` first")
