"""Loopback HTTP servers for tests: a real uvicorn on 127.0.0.1:<free port>, in a thread.

Every fake records the requests it got and can be told to misbehave for the next N requests
(an HTTP error with Retry-After, a 500, or a hang that makes the client time out).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn


class LoopbackServer:
    """Serve an ASGI app on a free loopback port until `stop()`."""

    def __init__(self, app: Any):
        self.app = app
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LoopbackServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", access_log=False,
                                timeout_graceful_shutdown=2, lifespan="auto")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        daemon=True, name=f"loopback-{self.port}")
        self._thread.start()
        deadline = time.monotonic() + 60  # generous: CI machines are shared with Rasa training
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("loopback server stopped during start-up (see the log)")
            if time.monotonic() > deadline:
                raise RuntimeError("loopback server did not start within 60 s")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=15)

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *_exc: Any) -> None:
        self.stop()


class ServedFake:
    """`start()`, `stop()` and `url` for a fake that serves itself through `self.server`."""

    server: LoopbackServer

    def start(self):
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    @property
    def url(self) -> str:
        return self.server.url


@dataclass
class Fault:
    remaining: int
    status: int = 500
    retry_after: float | None = None
    hang_seconds: float = 0.0
    match: str | None = None  # only requests whose method/path contains this
    code: int | None = None  # an API error code (Graph API: error.code)


@dataclass
class Recorded:
    method: str  # HTTP method
    path: str
    name: str  # the API method (Telegram) or the route name (Graph)
    body: Any  # parsed JSON / form parameters
    headers: dict[str, str] = field(default_factory=dict)


class FaultInjector:
    """Shared by the fakes: a request log and a queue of faults, safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: list[Recorded] = []
        self._faults: list[Fault] = []

    def record(self, entry: Recorded) -> None:
        with self._lock:
            self.requests.append(entry)

    def fail_next(self, count: int = 1, *, status: int = 500, retry_after: float | None = None,
                  match: str | None = None, code: int | None = None) -> None:
        with self._lock:
            self._faults.append(Fault(count, status=status, retry_after=retry_after,
                                      match=match, code=code))

    def hang_next(self, count: int = 1, *, seconds: float = 5.0, match: str | None = None) -> None:
        with self._lock:
            self._faults.append(Fault(count, status=200, hang_seconds=seconds, match=match))

    def take_fault(self, name: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and (fault.match is None or fault.match in name):
                    fault.remaining -= 1
                    return fault
        return None

    def calls(self, name: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.name == name]

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._faults.clear()


async def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll `predicate` until it returns something truthy (async tests)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)
