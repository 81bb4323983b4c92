"""The database handle: one engine per URL, the shared metadata, and migrations.

Each domain declares its tables in its own module of this package on ``metadata``
(``syncs.py``, ``jobs.py``, ``usage.py``...). ``Database.migrate`` creates the tables that
are missing and applies the numbered migrations in ``MIGRATIONS`` that have not run yet, so
a schema change is a new migration, never a silent drop.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    select,
)

from courtside.model import ConfigError, utcnow

metadata = MetaData()

schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)

Migration = Callable[[Connection], None]

# (version, name, step). Append only; never edit a migration that has shipped.
MIGRATIONS: list[tuple[int, str, Migration]] = []


def as_utc(value: datetime | None) -> datetime | None:
    """A stored time as an aware UTC datetime: SQLite hands back naive ones, and every time
    is stored in UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def default_url(data_dir: Path) -> str:
    """The embedded default: a SQLite file under the data directory."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{data_dir / 'courtside.db'}"


def _load_table_modules() -> None:
    # Table modules register themselves on ``metadata`` when imported.
    import courtside.storage as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name not in {"db"}:
            importlib.import_module(f"courtside.storage.{info.name}")


class Database:
    """An engine bound to one URL, with the schema brought up to date on ``migrate``."""

    def __init__(self, url: str) -> None:
        if "://" not in url:
            raise ConfigError(
                f"database URL {url!r} has no scheme; use e.g. sqlite:///path/courtside.db "
                "or postgresql+psycopg://user@127.0.0.1:5432/db"
            )
        self.url = url
        kwargs: dict = {"future": True, "pool_pre_ping": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        self.engine: Engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded SQLite backend."""
        return self.engine.dialect.name == "sqlite"

    def migrate(self) -> list[int]:
        """Create missing tables and apply pending migrations; returns the versions applied."""
        _load_table_modules()
        metadata.create_all(self.engine)
        applied: list[int] = []
        with self.engine.begin() as conn:
            done = set(conn.execute(select(schema_migrations.c.version)).scalars())
            for version, name, step in sorted(MIGRATIONS, key=lambda m: m[0]):
                if version in done:
                    continue
                step(conn)
                conn.execute(schema_migrations.insert().values(
                    version=version, name=name, applied_at=utcnow()))
                applied.append(version)
        return applied

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection inside a transaction, committed on success."""
        with self.engine.begin() as conn:
            yield conn

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets readers (status page, API) run while a sync or job writes.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()
