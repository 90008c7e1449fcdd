"""Start the three processes of a local assistant: Rasa, the action server and the app.

Used by `make run` (bot.devtools.run), the integration tests and the benchmark, so that all
three start the product the same way. Every process listens on loopback only.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
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


@dataclass
class Stack:
    """One running assistant. `start()` returns at once; `wait_*` block until ready."""

    app_port: int
    rasa_port: int
    actions_port: int
    workdir: Path
    database_url: str
    model: Path = MODEL
    rasa_token: str = field(default_factory=lambda: secrets.token_hex(16))
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @classmethod
    def create(cls, workdir: Path | None = None, *, app_port: int | None = None,
               database_url: str | None = None, usual_ports: bool = True, **kwargs) -> Stack:
        """A stack in `workdir`. With `usual_ports`, PORT/RASA_PORT/ACTIONS_PORT (or 8000,
        5005, 5055) when free, as `make run` wants; otherwise random free ports, so that tests
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
            actions_port=port("ACTIONS_PORT", 5055),
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

    def _endpoints(self) -> Path:
        path = self.workdir / "endpoints.yml"
        tracker_db = self.workdir / "rasa-tracker.db"
        path.write_text(
            "# Written by bot/devtools/stack.py for a local run.\n"
            f"action_endpoint:\n  url: \"http://127.0.0.1:{self.actions_port}/webhook\"\n"
            "tracker_store:\n  type: SQL\n  dialect: sqlite\n"
            f"  db: \"{tracker_db}\"\n"
        )
        return path

    def _data_key(self) -> str:
        """One encryption key for the app and the action server (both read identifiers)."""
        from cryptography.fernet import Fernet

        path = self.workdir / "data.key"
        if not path.exists():
            path.write_bytes(Fernet.generate_key())
            path.chmod(0o600)
        return path.read_text().strip()

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()}
        if not env.get("DATA_ENCRYPTION_KEY"):
            env["DATA_ENCRYPTION_KEY"] = self._data_key()
        env.update({"PYTHONUNBUFFERED": "1", "RASA_TELEMETRY_ENABLED": "false",
                    "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"})
        env.update(self.extra_env)
        return env

    def start_rasa(self) -> None:
        if not self.model.exists():
            raise RuntimeError(f"no trained model at {self.model}: run `make train`")
        self.processes["rasa"] = subprocess.Popen(
            [str(RASA), "run", "--enable-api", "--auth-token", self.rasa_token,
             "-i", "127.0.0.1", "-p", str(self.rasa_port), "--model", str(self.model),
             "--endpoints", str(self._endpoints()),
             "--credentials", str(ROOT / "nlu" / "credentials.yml")],
            cwd=self.workdir, env=self._env(), stdout=self._log("rasa"),
            stderr=subprocess.STDOUT, start_new_session=True,
        )

    def start_actions(self) -> None:
        env = self._env()
        env.update({"DATABASE_URL": self.database_url, "VAR_DIR": str(self.workdir),
                    "RASA_URL": self.rasa_url, "RASA_TOKEN": self.rasa_token})
        self.processes["actions"] = subprocess.Popen(
            [str(APP_PYTHON), "-m", "bot.actions.server", "--port", str(self.actions_port),
             "--host", "127.0.0.1"],
            cwd=ROOT, env=env, stdout=self._log("actions"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_app(self) -> None:
        env = self._env()
        env.update({"PORT": str(self.app_port), "RASA_URL": self.rasa_url,
                    "RASA_TOKEN": self.rasa_token, "DATABASE_URL": self.database_url,
                    "VAR_DIR": str(self.workdir),
                    # "Delete my data" also removes the conversation from Rasa's tracker store.
                    "RASA_TRACKER_DB_URL": f"sqlite:///{self.workdir / 'rasa-tracker.db'}"})
        self.processes["app"] = subprocess.Popen(
            [str(APP_PYTHON), "-m", "bot.app"], cwd=ROOT, env=env,
            stdout=self._log("app"), stderr=subprocess.STDOUT, start_new_session=True,
        )

    def migrate(self) -> None:
        """Bring the database schema up to date before any process uses it (the app and the
        action server both write to it; neither should race the other's migration)."""
        from bot.store.db import Database

        db = Database(self.database_url)
        try:
            db.upgrade()
        finally:
            db.dispose()

    def start(self) -> Stack:
        self.migrate()
        self.start_actions()
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
        return self.wait_http(f"{self.rasa_url}/webhooks/rest/", timeout, "rasa")

    def wait_actions(self, timeout: float = 60) -> float:
        return self.wait_http(f"http://127.0.0.1:{self.actions_port}/health", timeout, "actions")

    def stop_one(self, name: str, timeout: float = 15) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=timeout)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()

    def kill_one(self, name: str) -> None:
        """Kill without warning, as a crash would."""
        process = self.processes.pop(name, None)
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop(self) -> None:
        for name in ("app", "rasa", "actions"):
            self.stop_one(name)

    def rss_mb(self, name: str) -> float:
        """Resident memory of a process and its children, in MB."""
        process = self.processes.get(name)
        if process is None:
            return 0.0
        total, pids = 0, [process.pid]
        try:
            out = subprocess.run(["ps", "-o", "pid=,ppid=,rss=", "-e"], capture_output=True,
                                 text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            return 0.0
        rows = [tuple(int(x) for x in line.split()) for line in out.splitlines() if line.strip()]
        children = {}
        for pid, ppid, rss in rows:
            children.setdefault(ppid, []).append((pid, rss))
        rss_of = {pid: rss for pid, _, rss in rows}
        while pids:
            pid = pids.pop()
            total += rss_of.get(pid, 0)
            pids.extend(child for child, _ in children.get(pid, []))
        return total / 1024


def main_guard() -> None:  # pragma: no cover - used by scripts
    if not APP_PYTHON.exists() or not RASA.exists():
        sys.exit("run `make setup` first")
