"""DATABASE source: any SQLAlchemy URL, one read-only SELECT, an incremental cursor column.

With ``cursor_column`` set, each fetch returns only rows whose cursor is greater than the
largest seen so far (the query is wrapped: ``SELECT * FROM (<query>) WHERE cursor > :last
ORDER BY cursor LIMIT n``), and the cursor is part of the source state, persisted with the
sync. A full page never ends inside a group of rows sharing a cursor value: its trailing
group is read whole by a second query (``cursor = :value``, no limit), so no row is skipped
or delivered twice. Rows whose cursor is NULL are never delivered by an incremental source.
The connection is read-only where the backend allows: SQLite files open with
``mode=ro``, PostgreSQL sessions with ``default_transaction_read_only``, and every
transaction is rolled back.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from courtside.model import ConfigError, utcnow
from courtside.sources.base import Source
from courtside.sources.errors import FetchError, SourceError
from courtside.sources.records import Batch
from courtside.sources.sqlguard import ensure_single_select
from courtside.sources.tabular import normalise_rows

__all__ = ["DatabaseSource", "read_only_engine"]


def read_only_engine(url: str) -> Engine:
    """An engine that cannot write, as far as the backend lets us enforce it."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise ConfigError(f"database URL {url!r} is not a SQLAlchemy URL: {exc}; e.g. "
                          "sqlite:///games.db or postgresql+psycopg://user@host/db") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        path = parsed.database
        if not path or path == ":memory:":
            raise ConfigError("a DATABASE source needs a SQLite file, not an in-memory database")
        uri = f"file:{path}?mode=ro"
        return create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True,
                                                                          check_same_thread=False),
                             poolclass=NullPool)
    kwargs: dict[str, Any] = {"pool_pre_ping": True, "pool_size": 1, "max_overflow": 1}
    if backend == "postgresql":
        # connect_args win over the URL's query: keep the caller's options (a search_path...)
        given = parsed.query.get("options", "")
        given = " ".join(given) if isinstance(given, tuple) else given
        kwargs["connect_args"] = {"options": f"{given} -c default_transaction_read_only=on"
                                  .strip()}
    engine = create_engine(parsed, **kwargs)
    if backend in ("mysql", "mariadb"):
        @event.listens_for(engine, "connect")
        def _ro(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("SET SESSION TRANSACTION READ ONLY")
            cur.close()
    return engine


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


class DatabaseSource(Source):
    """Runs one SELECT against a database and yields its new rows.

    Config keys: ``url`` (SQLAlchemy URL), ``query`` (one SELECT), ``cursor_column``
    (incremental: only rows with a larger value), ``mapping``, ``key``,
    ``data_time_column``, ``limit`` (rows per fetch, default 100000; a fetch may exceed it
    to finish a group of rows sharing the last cursor value).
    """

    kind = "database"

    def __init__(self, name: str, url: str, query: str, *, cursor_column: str | None = None,
                 mapping: Mapping[str, str] | None = None, key: Sequence[str] | None = None,
                 data_time_column: str | None = None, limit: int = 100_000) -> None:
        super().__init__(name)
        self.query = ensure_single_select(query)
        if cursor_column is not None and not cursor_column.replace("_", "").isalnum():
            raise ConfigError(f"cursor_column {cursor_column!r} must be a plain column name")
        self.cursor_column = cursor_column
        self.mapping = dict(mapping or {})
        self.key = list(key) if key else None
        self.data_time_column = data_time_column
        self.limit = limit
        self.cursor: Any = None
        self._engine = read_only_engine(url)
        self._url_for_errors = make_url(url).render_as_string(hide_password=True)

    def _select(self, conn: Connection, condition: str, params: dict[str, Any],
                limit: int | None) -> list[dict[str, Any]]:
        sql = f"SELECT * FROM ({self.query}) AS courtside_q"
        if condition:
            sql += f" WHERE {condition}"
        if self.cursor_column is not None:
            col = self._engine.dialect.identifier_preparer.quote(self.cursor_column)
            sql += f" ORDER BY courtside_q.{col}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [dict(r._mapping) for r in conn.execute(text(sql), params)]

    def _records(self, conn: Connection) -> list[dict[str, Any]]:
        """The next page; with a cursor, never one that splits a group of equal cursors."""
        if self.cursor_column is None:
            return self._select(conn, "", {}, self.limit)
        col = "courtside_q." + self._engine.dialect.identifier_preparer.quote(self.cursor_column)
        # A row without a cursor value can never be "after" the cursor: leave it out always,
        # else it would come back on every fetch whenever it sorted last.
        condition, params = f"{col} IS NOT NULL", {}
        if self.cursor is not None:
            condition, params = f"{condition} AND {col} > :cursor", {"cursor": self.cursor}
        records = self._select(conn, condition, params, self.limit)
        if records and self.cursor_column not in records[0]:
            raise ConfigError(f"cursor_column {self.cursor_column!r} is not a column of the "
                              f"query; columns are {list(records[0])}")
        if len(records) < self.limit:
            return records
        # A full page may have cut the rows sharing its last cursor value: the next fetch
        # asks for cursor > that value, so the rest would be lost. Drop the trailing group
        # and read it whole (it may exceed the limit; a cursor value is never split).
        last = records[-1][self.cursor_column]
        while records and records[-1][self.cursor_column] == last:
            records.pop()
        return records + self._select(conn, f"{col} = :tie", {"tie": last}, None)

    def _read(self) -> Batch:
        try:
            with self._engine.connect() as conn:
                if self._engine.dialect.name == "postgresql":
                    conn.execute(text("SET TRANSACTION READ ONLY"))
                records = self._records(conn)
                conn.rollback()
        except SQLAlchemyError as exc:
            message = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0]
            if "OperationalError" in type(exc).__name__ or "connect" in message.lower():
                raise FetchError(f"database {self._url_for_errors}: {message}") from exc
            raise SourceError(f"database {self._url_for_errors}: the query failed: "
                              f"{message}") from exc
        batch = Batch(source=self.name, fetched_at=utcnow())
        rows, self.issues = normalise_rows(records, source=self.name, mapping=self.mapping,
                                           key=self.key, data_time_column=self.data_time_column,
                                           fetched_at=batch.fetched_at)
        batch.rows = rows
        if self.cursor_column and records:
            self.cursor = records[-1][self.cursor_column]
        batch.state = self.state()
        return batch

    async def fetch(self) -> Batch:
        """Run the query in a thread (database drivers block)."""
        return await asyncio.to_thread(self._read)

    def state(self) -> dict[str, Any]:
        """The incremental cursor (JSON-ready)."""
        return {"cursor": _jsonable(self.cursor)} if self.cursor_column else {}

    def restore(self, state: dict[str, Any]) -> None:
        """Continue after a persisted cursor."""
        if self.cursor_column and state.get("cursor") is not None:
            self.cursor = state["cursor"]

    async def aclose(self) -> None:
        """Close pooled connections."""
        self._engine.dispose()
