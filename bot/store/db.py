"""The one database session helper, and schema upgrades through Alembic."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, Result, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE matched (`Session.execute` is typed as a plain `Result`)."""
    return cast(CursorResult[Any], result).rowcount


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        # hide_parameters: an error never carries bound values (message text) into a log.
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                               hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            # WAL lets the web worker read while the inbox worker writes; NORMAL keeps
            # durability across an app crash (not an OS crash) at a fraction of the fsyncs.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # Erased text is overwritten with zeros, not left in free pages (door 9).
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # No pool_pre_ping: it costs a round trip per transaction (measured: ~0.3 ms of the app's
    # CPU each, 4-5 transactions a message). After a PostgreSQL restart the first use of each
    # stale connection fails and invalidates the pool; every caller is safe to fail then
    # (a webhook answers 500 and the channel delivers again; workers retry).
    return create_engine(url, pool_size=10, max_overflow=10, pool_recycle=1800,
                         hide_parameters=True)


class Database:
    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back on error."""
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def upgrade(self, revision: str = "head") -> None:
        from alembic import command

        command.upgrade(alembic_config(self.url), revision)

    def downgrade(self, revision: str) -> None:
        from alembic import command

        command.downgrade(alembic_config(self.url), revision)

    def after_erasure(self) -> bool:
        """Make erased data leave the disk. On SQLite (secure_delete is on for every
        connection), copy the write-ahead log into the database and truncate it: the old
        versions of erased rows live in the log until then. True when the checkpoint was
        complete (a long reader can hold it back: the next erasure or retention run retries).
        PostgreSQL: see docs/SECURITY.md (VACUUM)."""
        if not self.is_sqlite:
            return True
        with self.engine.connect() as connection:
            busy, _log, _done = connection.exec_driver_sql(
                "PRAGMA wal_checkpoint(TRUNCATE)").one()
        return not busy

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@lru_cache(maxsize=4)
def get_database(url: str) -> Database:
    return Database(url)
