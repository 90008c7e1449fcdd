"""Fetching the files users send (voice notes above all) into MEDIA_DIR.

`Gateway.accept` registers a `media_files` row in the same transaction as the message, so a
voice note is never dropped: each channel runs a `MediaWorker` that downloads pending rows
with the channel's own `fetch`, retrying with backoff across restarts. Paths are built from
database ids only (never a phone number or chat id).

Downloads are streamed to disk through a `MediaSink`, which refuses the file as soon as more
than the limit (`MEDIA_MAX_BYTES`, 64 MB) has arrived, whatever size the channel declared:
nothing is read whole into memory. Files are created private (0600). A stored file is only
ever served back as an attachment with `X-Content-Type-Options: nosniff`
(`media_response`), whatever type the sender declared (docs/SECURITY.md, door 7).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import mimetypes
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, BinaryIO

import httpx
from starlette.responses import FileResponse, Response

from bot.core.gateway import Gateway
from bot.core.messages import Channel
from bot.store.models import MediaFile

log = logging.getLogger(__name__)

MAX_MEDIA_BYTES = 64 * 1024 * 1024  # WhatsApp audio/video are at most 16 MB, Telegram 20 MB

_EXTENSIONS = {
    "audio/ogg": ".ogg", "audio/opus": ".opus", "audio/mpeg": ".mp3", "audio/mp4": ".m4a",
    "audio/aac": ".aac", "audio/amr": ".amr", "image/jpeg": ".jpg", "image/png": ".png",
    "image/webp": ".webp", "video/mp4": ".mp4", "video/3gpp": ".3gp", "application/pdf": ".pdf",
}


class MediaError(Exception):
    def __init__(self, message: str, *, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable


class MediaSink:
    """Where a fetch writes a file as it arrives; refuses it past `max_bytes`."""

    def __init__(self, handle: BinaryIO, max_bytes: int = MAX_MEDIA_BYTES):
        self._handle = handle
        self.max_bytes = max_bytes
        self.size = 0
        self._sha256 = hashlib.sha256()

    def check_declared(self, size: Any) -> None:
        """Refuse at once a file the channel says is too large."""
        if isinstance(size, int) and not isinstance(size, bool) and size > self.max_bytes:
            raise MediaError(f"too large ({size} bytes declared)", retryable=False)

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise MediaError(f"too large (over {self.max_bytes} bytes)", retryable=False)
        self._handle.write(chunk)
        self._sha256.update(chunk)

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()


async def stream_into(response: httpx.Response, sink: MediaSink) -> None:
    """Copy a streamed httpx response into `sink` chunk by chunk (Content-Length first)."""
    declared = response.headers.get("content-length")
    if declared and declared.isdigit():
        sink.check_declared(int(declared))
    async for chunk in response.aiter_bytes():
        sink.write(chunk)


# A fetch writes the file into the sink and returns its MIME type (None: as declared).
Fetch = Callable[[MediaFile, MediaSink], Awaitable["str | None"]]


def extension_for(mime_type: str | None, kind: str) -> str:
    base = (mime_type or "").split(";")[0].strip().lower()
    if base in _EXTENSIONS:
        return _EXTENSIONS[base]
    guessed = mimetypes.guess_extension(base) if base else None
    return guessed or (".ogg" if kind == "voice" else ".bin")


class MediaWorker:
    def __init__(self, gateway: Gateway, channel: Channel, media_dir: Path, fetch: Fetch,
                 poll_seconds: float = 2.0, max_bytes: int = MAX_MEDIA_BYTES):
        self.gateway = gateway
        self.max_bytes = max_bytes
        self.channel = channel
        self.media_dir = Path(media_dir)
        self.fetch = fetch
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                busy = await self.run_once()
            except Exception:  # the rows stay pending; try again later
                log.exception("media(%s): iteration failed", self.channel.value)
                busy = 0
            if busy:
                continue
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def run_once(self) -> int:
        rows = self.gateway.due_media(self.channel)
        for row in rows:
            await self._download(row)
        return len(rows)

    async def _download(self, row: MediaFile) -> None:
        created = row.created_at
        self.media_dir.mkdir(parents=True, exist_ok=True)
        partial = self.media_dir / f".{self.channel.value}-{row.id}-{os.getpid()}.part"
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                sink = MediaSink(handle, self.max_bytes)
                mime_type = await self.fetch(row, sink)
        except MediaError as exc:
            partial.unlink(missing_ok=True)
            log.warning("media(%s): file %s of message %s not fetched: %s",
                        self.channel.value, row.id, row.inbox_id, exc)
            self.gateway.media_failed(row.id, str(exc), retryable=exc.retryable)
            return
        except BaseException as exc:
            partial.unlink(missing_ok=True)
            if not isinstance(exc, Exception):
                raise
            log.warning("media(%s): file %s of message %s not fetched: %s",
                        self.channel.value, row.id, row.inbox_id, type(exc).__name__)
            self.gateway.media_failed(row.id, type(exc).__name__)
            return
        mime_type = mime_type or row.mime_type
        relative = Path(self.channel.value, f"{created:%Y-%m}",
                        f"{row.inbox_id}-{row.id}{extension_for(mime_type, row.kind)}")
        target = self.media_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(partial, target)  # a reader never sees half a file
        if not self.gateway.media_stored(row.id, relative.as_posix(), sink.size, sink.sha256,
                                         mime_type):
            target.unlink(missing_ok=True)  # erased while we were downloading it
            log.info("media(%s): file %s was erased during its download; not kept",
                     self.channel.value, row.id)
            return
        log.info("media(%s): stored file %s of message %s (%d bytes)",
                 self.channel.value, row.id, row.inbox_id, sink.size)


def media_response(media_dir: Path, relative: str, filename: str | None = None) -> Response:
    """A stored file for a partner's browser: always a download (`attachment`), typed
    `application/octet-stream` with `nosniff`, whatever the sender declared, so that a file
    sent as "image/jpeg" but holding HTML or script is never rendered. 404 outside MEDIA_DIR."""
    base = Path(media_dir).resolve()
    path = (base / relative).resolve()
    if base not in path.parents or not path.is_file():
        return Response(status_code=404, headers={"X-Content-Type-Options": "nosniff"})
    name = filename or path.name
    return FileResponse(path, media_type="application/octet-stream", filename=name,
                        content_disposition_type="attachment",
                        headers={"X-Content-Type-Options": "nosniff",
                                 "Content-Security-Policy": "default-src 'none'; sandbox",
                                 "Cache-Control": "private, no-store"})
