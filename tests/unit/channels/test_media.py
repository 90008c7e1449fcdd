"""The media worker: files land under MEDIA_DIR with id-only names; failures are recorded."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

from bot.channels.media import MediaError, MediaWorker, extension_for, media_response
from bot.core.messages import Channel


class FakeGateway:
    def __init__(self, rows, keep: bool = True):
        self.rows = rows
        self.keep = keep
        self.stored: list[tuple] = []
        self.failed: list[tuple] = []

    def due_media(self, _channel):
        rows, self.rows = self.rows, []
        return rows

    def media_stored(self, media_id, path, size, sha256, mime_type=None):
        self.stored.append((media_id, path, size, mime_type))
        return self.keep

    def media_failed(self, media_id, error, *, retryable=True):
        self.failed.append((media_id, error, retryable))


def row(**overrides):
    values = {"id": 7, "inbox_id": 3, "kind": "voice", "ref": "AwAC", "mime_type": "audio/ogg",
                  "created_at": datetime(2026, 11, 28, tzinfo=timezone.utc)}
    values.update(overrides)
    return SimpleNamespace(**values)


async def fetch_ok(_row, sink):
    sink.write(b"OggS-")
    sink.write(b"bytes")
    return "audio/ogg; codecs=opus"


async def test_a_file_is_stored_under_ids_only(tmp_path):
    gateway = FakeGateway([row()])
    worker = MediaWorker(gateway, Channel.WHATSAPP, tmp_path, fetch_ok)
    assert await worker.run_once() == 1
    [(media_id, path, size, mime)] = gateway.stored
    assert (media_id, path, size) == (7, "whatsapp/2026-11/3-7.ogg", 10)
    assert (tmp_path / path).read_bytes() == b"OggS-bytes"
    assert not list(tmp_path.rglob("*.part"))


async def test_a_file_erased_during_its_download_is_not_kept(tmp_path):
    gateway = FakeGateway([row()], keep=False)
    await MediaWorker(gateway, Channel.TELEGRAM, tmp_path, fetch_ok).run_once()
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


async def test_failures_are_recorded_with_their_retryability(tmp_path):
    async def too_big(_row, _sink):
        raise MediaError("too large", retryable=False)

    async def broken(_row, sink):
        sink.write(b"half a file")
        raise ConnectionResetError()

    gateway = FakeGateway([row(id=1)])
    await MediaWorker(gateway, Channel.WHATSAPP, tmp_path, too_big).run_once()
    gateway.rows = [row(id=2)]
    await MediaWorker(gateway, Channel.WHATSAPP, tmp_path, broken).run_once()
    assert gateway.failed == [(1, "too large", False), (2, "ConnectionResetError", True)]
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]  # no partial file left


def test_extensions():
    assert extension_for("audio/ogg; codecs=opus", "voice") == ".ogg"
    assert extension_for("image/jpeg", "photo") == ".jpg"
    assert extension_for(None, "voice") == ".ogg"
    assert extension_for("application/x-unknown-thing", "document") == ".bin"


async def test_the_limit_is_enforced_while_the_bytes_arrive(tmp_path):
    """Issue 14, door 7: the fetch is stopped by the sink at the first chunk past the limit."""
    written = []

    async def endless(_row, sink):
        sink.check_declared(10)  # the channel claims 10 bytes
        while True:
            sink.write(b"x" * 1000)
            written.append(1000)

    gateway = FakeGateway([row()])
    await MediaWorker(gateway, Channel.WHATSAPP, tmp_path, endless, max_bytes=10_000).run_once()
    [(media_id, error, retryable)] = gateway.failed
    assert "too large" in error and retryable is False
    assert sum(written) == 10_000  # the 11th chunk was refused, not written
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


async def test_a_declared_size_over_the_limit_is_refused_before_downloading(tmp_path):
    async def big(_row, sink):
        sink.check_declared(10**9)
        raise AssertionError("must not get here")

    gateway = FakeGateway([row()])
    await MediaWorker(gateway, Channel.TELEGRAM, tmp_path, big, max_bytes=1000).run_once()
    assert gateway.failed[0][2] is False and "too large" in gateway.failed[0][1]


async def test_stored_files_are_private(tmp_path):
    gateway = FakeGateway([row()])
    await MediaWorker(gateway, Channel.WHATSAPP, tmp_path, fetch_ok).run_once()
    [(_id, path, _size, _mime)] = gateway.stored
    assert (tmp_path / path).stat().st_mode & 0o077 == 0


def test_media_is_served_as_an_attachment_with_nosniff_whatever_its_declared_type(tmp_path):
    from starlette.applications import Starlette
    from starlette.routing import Route
    from starlette.testclient import TestClient

    (tmp_path / "whatsapp").mkdir()
    (tmp_path / "whatsapp" / "3-7.jpg").write_bytes(b"<html><script>alert(1)</script>")
    (tmp_path.parent / "secret.txt").write_text("outside")

    async def serve(request):
        return media_response(tmp_path, request.path_params["path"])

    client = TestClient(Starlette(routes=[Route("/media/{path:path}", serve)]))
    response = client.get("/media/whatsapp/3-7.jpg")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.content == b"<html><script>alert(1)</script>"
    assert client.get("/media/../secret.txt").status_code == 404
    assert client.get("/media/whatsapp/missing.ogg").status_code == 404
