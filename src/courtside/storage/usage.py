"""Usage analytics tables: usage events, alert rules, alert history and applied optimisations.

Only table declarations and the few SQL statements the usage engine needs live here; the
analysis itself (Polars) is in ``courtside.usage``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Table,
    and_,
    func,
    select,
    type_coerce,
)

from courtside.storage.db import Database, as_utc, metadata

usage_events = Table(
    "usage_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client", String(200), nullable=False),
    Column("interface", String(20), nullable=False),
    Column("tool", String(200), nullable=False),
    Column("formula", String(200), nullable=True),
    Column("resource", String(200), nullable=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("outcome", String(10), nullable=False),
    Column("error_code", String(100), nullable=True),
    Column("cache_hit", Boolean, nullable=True),
    Column("items", Integer, nullable=True),
    Index("ix_usage_events_started_at", "started_at"),
)

alert_rules = Table(
    "usage_alert_rules",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("metric", String(40), nullable=False),
    Column("comparison", String(4), nullable=False),
    Column("threshold", Float, nullable=False),
    Column("window_seconds", Float, nullable=False),
    Column("cooldown_seconds", Float, nullable=False),
    Column("min_events", Integer, nullable=False, default=1),
    Column("filters", JSON, nullable=False, default=dict),
    Column("webhook_url", String(2000), nullable=True),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

alert_events = Table(
    "usage_alert_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rule_id", Integer, nullable=False),
    Column("rule_name", String(200), nullable=False),
    Column("fired_at", DateTime(timezone=True), nullable=False),
    Column("metric", String(40), nullable=False),
    Column("value", Float, nullable=True),
    Column("threshold", Float, nullable=False),
    Column("comparison", String(4), nullable=False),
    Column("window_start", DateTime(timezone=True), nullable=False),
    Column("window_end", DateTime(timezone=True), nullable=False),
    Column("events", Integer, nullable=False),
    Column("message", String(2000), nullable=False),
    Column("deliveries", JSON, nullable=False, default=dict),
    Index("ix_usage_alert_events_rule_fired", "rule_id", "fired_at"),
)

optimisations = Table(
    "usage_optimisations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("applied_at", DateTime(timezone=True), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("params", JSON, nullable=False),
    Column("reason", String(2000), nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("error", String(2000), nullable=True),
    Column("before", JSON, nullable=False),
    Column("after", JSON, nullable=False),
)

EVENT_COLUMNS: tuple[str, ...] = (
    "client", "interface", "tool", "formula", "resource", "started_at", "duration_ms",
    "outcome", "error_code", "cache_hit", "items",
)


def _sqlite_time(value: datetime | float) -> str:
    # The text SQLAlchemy's SQLite DateTime stores (and compares): UTC, microseconds always.
    dt = (datetime.fromtimestamp(value, UTC) if isinstance(value, int | float)
          else as_utc(value))
    return (f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d} {dt.hour:02d}:{dt.minute:02d}:"
            f"{dt.second:02d}.{dt.microsecond:06d}")


_SQLITE_INSERT = (f"INSERT INTO usage_events ({', '.join(EVENT_COLUMNS)}) "
                  f"VALUES ({', '.join('?' for _ in EVENT_COLUMNS)})")
_TIME = EVENT_COLUMNS.index("started_at")
_BOOL = EVENT_COLUMNS.index("cache_hit")
# The text columns' lengths: a longer value (a 404's raw path as the tool) is cut to fit,
# since PostgreSQL refuses it and, with it, every event of its batch.
TEXT_LIMITS: dict[str, int] = {c.name: c.type.length for c in usage_events.columns
                               if isinstance(c.type, String) and c.type.length}
_CLIP = [(EVENT_COLUMNS.index(name), n) for name, n in TEXT_LIMITS.items()]


def _clipped(vals: list[Any]) -> list[Any]:
    for i, n in _CLIP:
        v = vals[i]
        if v is not None and len(v) > n:
            vals[i] = v[:n]
    return vals


def insert_events(db: Database, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert usage event rows in one transaction; returns how many were written.

    ``started_at`` may be a datetime or epoch seconds (what the tracker buffers); text longer
    than its column (``TEXT_LIMITS``) is cut to fit. On SQLite the
    batch goes to the driver's ``executemany`` with the values already in their stored form:
    the per-row type processing is most of a flush's cost, and the flusher shares the GIL with
    the calls it records.
    """
    if not rows:
        return 0
    if db.is_sqlite:
        params = []
        for r in rows:
            vals = _clipped([r.get(name) for name in EVENT_COLUMNS])
            vals[_TIME] = _sqlite_time(vals[_TIME])
            if vals[_BOOL] is not None:
                vals[_BOOL] = int(bool(vals[_BOOL]))
            params.append(tuple(vals))
        with db.begin() as conn:
            conn.exec_driver_sql(_SQLITE_INSERT, params)
        return len(rows)
    fixed = []
    for r in rows:
        vals = _clipped([r.get(name) for name in EVENT_COLUMNS])
        if isinstance(vals[_TIME], int | float):
            vals[_TIME] = datetime.fromtimestamp(vals[_TIME], UTC)
        fixed.append(dict(zip(EVENT_COLUMNS, vals, strict=True)))
    with db.begin() as conn:
        conn.execute(usage_events.insert(), fixed)
    return len(rows)


def insert_event(db: Database, row: Mapping[str, Any]) -> int:
    """Insert one usage event, committed before returning; returns its id."""
    with db.begin() as conn:
        result = conn.execute(usage_events.insert().values(**row))
        return int(result.inserted_primary_key[0])


def select_events(db: Database, since: datetime | None, until: datetime | None,
                  filters: Mapping[str, str | None] | None = None, *,
                  raw_times: bool = False) -> list[tuple[Any, ...]]:
    """Event rows (in ``EVENT_COLUMNS`` order) with ``since <= started_at < until``.

    ``raw_times`` on SQLite returns ``started_at`` as the stored text
    (``2026-01-01 00:10:00.000000``, UTC) so that a caller parsing many rows can do it in bulk
    instead of one ``datetime`` at a time.
    """
    cols = [type_coerce(usage_events.c[name], String).label(name)
            if name == "started_at" and raw_times and db.is_sqlite else usage_events.c[name]
            for name in EVENT_COLUMNS]
    conds = []
    if since is not None:
        conds.append(usage_events.c.started_at >= as_utc(since))
    if until is not None:
        conds.append(usage_events.c.started_at < as_utc(until))
    for key, value in (filters or {}).items():
        if value is not None:
            conds.append(usage_events.c[key] == value)
    stmt = select(*cols)
    if conds:
        stmt = stmt.where(and_(*conds))
    with db.begin() as conn:
        return [tuple(r) for r in conn.execute(stmt.order_by(usage_events.c.started_at))]


def event_time_range(db: Database) -> tuple[datetime | None, datetime | None]:
    """The earliest and latest ``started_at`` stored."""
    stmt = select(func.min(usage_events.c.started_at), func.max(usage_events.c.started_at))
    with db.begin() as conn:
        lo, hi = conn.execute(stmt).one()
    return as_utc(lo), as_utc(hi)


def distinct_values(db: Database, column: str) -> list[str]:
    """The distinct values of one event column (e.g. every client seen), sorted."""
    col = usage_events.c[column]
    with db.begin() as conn:
        return sorted(v for v in conn.execute(select(col).distinct()).scalars() if v is not None)


def insert_many(db: Database, table: Table, rows: Iterable[Mapping[str, Any]]) -> None:
    """Insert rows into one of this module's tables in one transaction."""
    rows = [dict(r) for r in rows]
    if rows:
        with db.begin() as conn:
            conn.execute(table.insert(), rows)
