"""Setups: production (PostgreSQL, Redis, several Rasa workers, as docker-compose.yml) or
embedded (SQLite, one Rasa process, as `make run`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit

from bot.devtools.stack import Stack


@dataclass
class Setup:
    name: str
    database_url: str
    tracker_url: str | None = None
    redis_url: str | None = None
    rasa_workers: int = 1
    servers: tuple[str, ...] = ()  # CPU groups outside our stack
    lines: list[tuple[str, str]] = field(default_factory=list)  # for the header
    databases: list[str] = field(default_factory=list)  # created here, dropped by cleanup()
    admin_url: str | None = None

    def cleanup(self) -> None:
        if not self.databases:
            return
        from sqlalchemy import create_engine, text

        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                for name in self.databases:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            self.databases = []
        finally:
            admin.dispose()


def database_url(server_url: str, database: str, driver: str = "postgresql") -> str:
    """The URL of `database` on the server of `server_url` (its own database, if any, is only
    where to log in); with the password, since the processes need it."""
    from sqlalchemy.engine import make_url

    return make_url(server_url).set(drivername=driver, database=database) \
        .render_as_string(hide_password=False)


def redact(url: str) -> str:
    """A URL fit to print: the password replaced by ***."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


def production_setup(postgres_url: str, redis_url: str, rasa_workers: int,
                     rasa_stores: bool = True) -> Setup:
    """Check that PostgreSQL (and Redis) answer, create the databases of this run. With
    `rasa_stores` (a stack whose Rasa keeps trackers: the design with an action server), also
    Rasa's tracker database and its Redis lock store."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    login_db = make_url(postgres_url).database or "postgres"
    admin_url = database_url(postgres_url, login_db, "postgresql+psycopg")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT",
                          connect_args={"connect_timeout": 5})
    run = uuid.uuid4().hex[:8]
    app_db, tracker_db = f"bench_{run}_app", f"bench_{run}_tracker"
    databases = [app_db, tracker_db] if rasa_stores else [app_db]
    try:
        with admin.connect() as connection:
            version = str(connection.execute(text("SHOW server_version")).scalar()).split()[0]
            for name in databases:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - any failure means: no usable PostgreSQL
        raise SystemExit(f"bench: PostgreSQL at {redact(postgres_url)} is not usable "
                         f"({_first_line(error)}); pass --postgres-url, or use --setup "
                         f"embedded") from None
    finally:
        admin.dispose()
    server = make_url(postgres_url)
    where = f"{server.host or 'localhost'}:{server.port or 5432}"
    workers = f"{rasa_workers} Rasa worker{'s' if rasa_workers > 1 else ''}"
    setup = Setup(name="production", database_url=database_url(postgres_url, app_db),
                  # Redis counts in both designs (every redis-server on the machine): what
                  # serves a message costs the same wherever it runs.
                  rasa_workers=rasa_workers, servers=("postgres", "redis"), databases=databases,
                  admin_url=admin_url,
                  lines=[("setup:", f"production (as docker-compose.yml), {workers}"),
                         ("  app database:", f"PostgreSQL {version} at {where}, database "
                                             f"{app_db}")])
    if not rasa_stores:
        return setup
    try:
        import redis

        client = redis.Redis.from_url(redis_url, socket_connect_timeout=5, socket_timeout=5)
        try:
            redis_version = client.info("server").get("redis_version", "?")
        finally:
            client.close()
    except Exception as error:  # noqa: BLE001
        setup.cleanup()
        raise SystemExit(f"bench: Redis at {redact(redis_url)} is not reachable "
                         f"({_first_line(error)}); pass --redis-url, or use --setup "
                         f"embedded") from None
    setup.tracker_url = database_url(postgres_url, tracker_db)
    setup.redis_url = redis_url
    setup.lines += [
        ("  Rasa tracker store:", f"PostgreSQL {version} at {where}, database {tracker_db}"),
        ("  Rasa lock store:", f"Redis {redis_version} at {redact(redis_url)}"),
    ]
    return setup


def embedded_setup(workdir: Path, rasa_stores: bool = True) -> Setup:
    lines = [("setup:", "embedded (as make run), 1 Rasa process"),
             ("  app database:", f"SQLite, {workdir / 'assistant.db'}")]
    if rasa_stores:
        lines += [("  Rasa tracker store:", f"SQLite, {workdir / 'rasa-tracker.db'}"),
                  ("  Rasa lock store:", "none (in memory, one Rasa process)")]
    return Setup(name="embedded", database_url=f"sqlite:///{workdir / 'assistant.db'}",
                 lines=lines)


def rasa_stores() -> bool:
    """Does this tree's stack give Rasa a tracker store (the design where Rasa runs the
    dialogue)? Then the production setup creates its database and checks the lock store."""
    return "tracker_url" in {item.name for item in fields(Stack)}


def stack_options(setup: Setup) -> dict:
    """The Stack.create options of a setup, only those this tree's Stack has."""
    known = {item.name for item in fields(Stack)}
    wanted = {"tracker_url": setup.tracker_url, "redis_url": setup.redis_url,
              "rasa_workers": setup.rasa_workers}
    return {name: value for name, value in wanted.items() if name in known}
