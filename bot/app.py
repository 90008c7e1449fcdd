"""The HTTP application: web chat, channel webhooks, health; runs the inbox and outbox workers
and the housekeeping task.

Run it with `python -m bot.app` (what `make run` does) or `uvicorn bot.app:create_app --factory`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from bot.config import Settings, get_settings, reveal
from bot.core.gateway import Gateway
from bot.core.rasa_client import RasaClient
from bot.logging_setup import configure_logging
from bot.store.db import Database

log = logging.getLogger(__name__)


def web_modes(settings: Settings) -> list[str]:
    if settings.web_chat_open:
        return ["web (open: local runs only)"]
    return ["web"] if settings.web_chat_enabled else []


def create_app(settings: Settings | None = None, *, run_workers: bool = True) -> Starlette:
    settings = settings or get_settings()
    db = Database(settings.database_url)
    db.upgrade()
    http = httpx.AsyncClient(limits=httpx.Limits(max_connections=100, max_keepalive_connections=50))
    # Rasa gets a pool of its own, sized to the messages in flight: httpx looks at every
    # pooled connection on each request, and the channels' senders need many more.
    rasa_pool = settings.gateway_concurrency + 4
    rasa = RasaClient(settings.rasa_url,
                      httpx.AsyncClient(limits=httpx.Limits(max_connections=rasa_pool,
                                                            max_keepalive_connections=rasa_pool)),
                      token=reveal(settings.rasa_token), timeout=settings.rasa_timeout)
    gateway = Gateway(settings, db, rasa, http=http)
    from bot import dashboard

    dashboard.prepare(settings, db)  # organisations; demo accounts with DEMO_USERS=1

    channel_routes: list[BaseRoute] = []
    channel_lifespans = []
    from bot.channels import registry

    for channel in registry.enabled_channels(settings, gateway, http):
        channel_routes.extend(channel.routes())
        if channel.capabilities.pushed:  # the web chat's replies go out in its HTTP answers
            gateway.senders[channel.name] = channel
        channel_lifespans.append(channel)

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "rasa": gateway.rasa_up})

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()
        tasks = []
        if run_workers:
            # Housekeeping first: it frees the leases of dead workers before the first scan;
            # then notifications, erasures and retention, beside the workers.
            tasks.append(asyncio.create_task(gateway.run_housekeeping(stop)))
            tasks.append(asyncio.create_task(gateway.run_inbox_worker(stop)))
            tasks.append(asyncio.create_task(gateway.run_outbox_worker(stop)))
        for channel in channel_lifespans:
            await channel.start()
        log.info("app: ready on port %s (channels: %s)", settings.port,
                 ", ".join([*web_modes(settings), *gateway.senders]))
        try:
            yield
        finally:
            stop.set()
            for channel in channel_lifespans:
                await channel.stop()
            await asyncio.gather(*tasks, return_exceptions=True)
            await http.aclose()
            await rasa.http.aclose()
            db.dispose()

    app = Starlette(
        routes=[*channel_routes,
                Route("/healthz", health, methods=["GET"]),
                dashboard.mount(settings, db, gateway)],
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    app.state.settings = settings
    return app


def main() -> None:
    import uvicorn

    configure_logging()
    settings = get_settings()
    # log_config=None: uvicorn's records go through our handler (scrubbed, one format)
    # instead of handlers of its own.
    logging.getLogger("uvicorn").setLevel(logging.WARNING)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                log_level="warning", access_log=False, log_config=None)


if __name__ == "__main__":
    main()
