"""The partners' dashboard under /dashboard (docs/DASHBOARD.md).

`mount(settings, db, gateway)` gives the Starlette mount the app adds; `prepare(settings, db)`
syncs the organisations from content/partners.yml and, with `DEMO_USERS=1`, makes the demo
accounts. `python -m bot.dashboard create-admin` makes the first administrator.
"""

from __future__ import annotations

import logging

from bot.config import ConfigurationError, Settings, reveal
from bot.store.db import Database

log = logging.getLogger(__name__)


def prepare(settings: Settings, db: Database) -> None:
    from sqlalchemy.exc import IntegrityError

    from bot.store import dashboard as ds

    if settings.demo_users and not settings.demo_password:
        raise ConfigurationError("DEMO_USERS=1 needs DEMO_PASSWORD")
    try:
        with db.session() as session:
            ds.sync_organisations(session)
            if settings.demo_users:
                created = ds.ensure_demo_users(session, reveal(settings.demo_password))
                log.warning("dashboard: demo accounts on (demo-<partner>-<role>, %d created);"
                            " never in a deployment", created)
    except IntegrityError:  # another app process did the same at the same moment
        log.info("dashboard: organisations synced by another process")


def mount(settings: Settings, db: Database, gateway=None):
    from bot.dashboard.web import mount as _mount

    return _mount(settings, db, gateway)
