"""The media worker: files land under MEDIA_DIR with id-only names; failures are recorded."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

from bot.channels.media import MediaError, MediaWorker, extension_for
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
    values = dict(id=7, inbox_id=3, kind="voice", ref="AwAC", mime_type="audio/ogg",
                  created_at=datetime(2026, 11, 28, tzinfo=timezone.utc))
    values.update(overrides)
    return SimpleNamespace(**values)


async def fetch_ok(_row):
    return b"OggS-bytes", "audio/ogg; codecs=opus"


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
    async def too_big(_row):
        raise MediaError("too large", retryable=False)

    async def broken(_row):
        raise ConnectionResetError()

    gateway = FakeGateway([row(id=1)])
    await MediaWorker(gateway, Channel.WHATSAPP, tmp_path, too_big).run_once()
    gateway.rows = [row(id=2)]
    await MediaWorker(gateway, Channel.WHATSAPP, tmp_path, broken).run_once()
    assert gateway.failed == [(1, "too large", False), (2, "ConnectionResetError", True)]


def test_extensions():
    assert extension_for("audio/ogg; codecs=opus", "voice") == ".ogg"
    assert extension_for("image/jpeg", "photo") == ".jpg"
    assert extension_for(None, "voice") == ".ogg"
    assert extension_for("application/x-unknown-thing", "document") == ".bin"
