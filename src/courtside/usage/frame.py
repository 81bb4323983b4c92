"""Reading usage events into a Polars frame for analysis."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import polars as pl

from courtside.model import ConfigError
from courtside.storage.db import Database
from courtside.storage.usage import EVENT_COLUMNS, as_utc, event_time_range, select_events
from courtside.usage.period import Period, resolve_period

SCHEMA: dict[str, pl.DataType] = {
    "client": pl.String(), "interface": pl.String(), "tool": pl.String(),
    "formula": pl.String(), "resource": pl.String(),
    "started_at": pl.Datetime("us", "UTC"), "duration_ms": pl.Float64(),
    "outcome": pl.String(), "error_code": pl.String(), "cache_hit": pl.Boolean(),
    "items": pl.Int64(),
}
FILTERS = ("client", "interface", "tool", "formula")


def check_filters(filters: Mapping[str, str | None] | None) -> dict[str, str]:
    """Keep the set filters; reject unknown keys with the list of accepted ones."""
    clean: dict[str, str] = {}
    for key, value in (filters or {}).items():
        if key not in FILTERS:
            raise ConfigError(f"usage filter {key!r} is not known; use some of {list(FILTERS)}")
        if value not in (None, ""):
            clean[key] = str(value)
    return clean


def events_frame(db: Database, period: Period,
                 filters: Mapping[str, str | None] | None = None) -> pl.DataFrame:
    """The events of ``period`` (optionally filtered), one row each, in ``SCHEMA``."""
    rows = select_events(db, period.since, period.until, check_filters(filters), raw_times=True)
    if db.is_sqlite:
        # SQLite hands back its stored UTC text: parse the whole column at once.
        df = pl.DataFrame(rows, schema={**SCHEMA, "started_at": pl.String()}, orient="row")
        return df.with_columns(pl.col("started_at").str.to_datetime(
            "%Y-%m-%d %H:%M:%S%.f", time_unit="us", time_zone="UTC"))
    idx = EVENT_COLUMNS.index("started_at")
    fixed = [(*r[:idx], as_utc(r[idx]), *r[idx + 1:]) for r in rows]
    return pl.DataFrame(fixed, schema=SCHEMA, orient="row")


def load_period(db: Database, period: str | Period | None = None, *,
                since: datetime | str | None = None, until: datetime | str | None = None,
                filters: Mapping[str, str | None] | None = None) -> tuple[Period, pl.DataFrame]:
    """Resolve a period (``all`` starts at the first stored event) and read its events."""
    if not isinstance(period, Period):
        earliest = event_time_range(db)[0] if (period or "").lower() == "all" else None
        period = resolve_period(period, since=since, until=until, earliest=earliest)
    return period, events_frame(db, period, filters)
