"""Fetching the files users send (voice notes above all) into MEDIA_DIR.

`Gateway.accept` registers a `media_files` row in the same transaction as the message, so a
voice note is never dropped: each channel runs a `MediaWorker` that downloads pending rows
with the channel's own `fetch`, retrying with backoff across restarts. Paths are built from
database ids only (never a phone number or chat id).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import mimetypes
import os
from pathlib import Path
from typing import Awaitable, Callable

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


Fetch = Callable[[MediaFile], Awaitable[tuple[bytes, "str | None"]]]


def extension_for(mime_type: str | None, kind: str) -> str:
    base = (mime_type or "").split(";")[0].strip().lower()
    if base in _EXTENSIONS:
        return _EXTENSIONS[base]
    guessed = mimetypes.guess_extension(base) if base else None
    return guessed or (".ogg" if kind == "voice" else ".bin")


class MediaWorker:
    def __init__(self, gateway: Gateway, channel: Channel, media_dir: Path, fetch: Fetch,
                 poll_seconds: float = 2.0):
        self.gateway = gateway
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
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            except asyncio.TimeoutError:
                pass

    async def run_once(self) -> int:
        rows = self.gateway.due_media(self.channel)
        for row in rows:
            await self._download(row)
        return len(rows)

    async def _download(self, row: MediaFile) -> None:
        try:
            content, mime_type = await self.fetch(row)
        except MediaError as exc:
            log.warning("media(%s): file %s of message %s not fetched: %s",
                        self.channel.value, row.id, row.inbox_id, exc)
            self.gateway.media_failed(row.id, str(exc), retryable=exc.retryable)
            return
        except Exception as exc:
            log.warning("media(%s): file %s of message %s not fetched: %s",
                        self.channel.value, row.id, row.inbox_id, type(exc).__name__)
            self.gateway.media_failed(row.id, type(exc).__name__)
            return
        mime_type = mime_type or row.mime_type
        created = row.created_at
        relative = Path(self.channel.value, f"{created:%Y-%m}",
                        f"{row.inbox_id}-{row.id}{extension_for(mime_type, row.kind)}")
        target = self.media_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(target.suffix + ".part")
        partial.write_bytes(content)
        os.replace(partial, target)  # a reader never sees half a file
        if not self.gateway.media_stored(row.id, relative.as_posix(), len(content),
                                         hashlib.sha256(content).hexdigest(), mime_type):
            target.unlink(missing_ok=True)  # erased while we were downloading it
            log.info("media(%s): file %s was erased during its download; not kept",
                     self.channel.value, row.id)
            return
        log.info("media(%s): stored file %s of message %s (%d bytes)",
                 self.channel.value, row.id, row.inbox_id, len(content))
