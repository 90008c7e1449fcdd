"""Shared test configuration.

Unit tests must not touch the network: any socket connection from a test that is not marked
`integration` or `postgres` fails loudly (as python-telegram-bot's own suite does).
"""

from __future__ import annotations

import socket

import pytest

# The follow-up request pipeline's fixtures (`world`, `database_url`), shared by the
# integration tests of requests.
pytest_plugins = ["bot.testing.requests_world"]

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


class NetworkAccessInUnitTest(RuntimeError):
    pass


@pytest.fixture(autouse=True)
def _no_network_in_unit_tests(request, monkeypatch):
    if any(request.node.get_closest_marker(mark) for mark in ("integration", "postgres")):
        yield
        return

    def guard(self, address, *args):
        if self.family == socket.AF_UNIX:
            return _real_connect(self, address, *args)
        raise NetworkAccessInUnitTest(
            f"unit test tried to connect to {address!r}; mark it integration or use a fake")

    monkeypatch.setattr(socket.socket, "connect", guard)
    monkeypatch.setattr(socket.socket, "connect_ex", guard)
    yield


def pytest_collection_modifyitems(config, items):
    # Everything under tests/integration is an integration test, marked or not.
    for item in items:
        if "/tests/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
