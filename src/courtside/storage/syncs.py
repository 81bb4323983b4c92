"""The ``syncs`` table: DataSync definitions, their health and their sources' resumable state.

Secrets never land here: a sync's config names the environment variable that holds a token
(``auth_env``), not the token.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Column, DateTime, String, Table, delete, select, update

from courtside.model import (
    ConfigError,
    DataSourceType,
    DataSync,
    NotFoundError,
    SourceHealth,
    SyncFrequency,
)
from courtside.storage.db import Database, as_utc, metadata

__all__ = ["SyncStore", "syncs_table"]

syncs_table = Table(
    "syncs",
    metadata,
    Column("sync_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("source_type", String(40), nullable=False),
    Column("frequency", String(20), nullable=False),
    Column("config", JSON, nullable=False, default=dict),
    Column("data_types", JSON, nullable=False, default=list),
    Column("auto_start", Boolean, nullable=False, default=True),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_run_at", DateTime(timezone=True), nullable=True),
    Column("health", JSON, nullable=False, default=dict),
    Column("state", JSON, nullable=False, default=dict),
)


def _to_sync(row: Any) -> DataSync:
    return DataSync(
        sync_id=row.sync_id, name=row.name, source_type=DataSourceType(row.source_type),
        frequency=SyncFrequency(row.frequency), config=dict(row.config or {}),
        data_types=list(row.data_types or []), auto_start=bool(row.auto_start),
        enabled=bool(row.enabled), created_at=as_utc(row.created_at),  # type: ignore[arg-type]
        last_run_at=as_utc(row.last_run_at),
        health=SourceHealth.from_dict(row.health) if row.health else SourceHealth())


class SyncStore:
    """Reads and writes DataSync definitions in a :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, sync: DataSync) -> DataSync:
        """Store a new sync; ConfigError when the name or id is taken."""
        with self.db.begin() as conn:
            taken = conn.execute(select(syncs_table.c.sync_id).where(
                (syncs_table.c.name == sync.name) | (syncs_table.c.sync_id == sync.sync_id))
            ).first()
            if taken:
                raise ConfigError(f"a sync named {sync.name!r} (or with id {sync.sync_id}) "
                                  "already exists; pick another name or remove it first")
            conn.execute(syncs_table.insert().values(
                sync_id=sync.sync_id, name=sync.name, source_type=sync.source_type.value,
                frequency=sync.frequency.value, config=sync.config, data_types=sync.data_types,
                auto_start=sync.auto_start, enabled=sync.enabled, created_at=sync.created_at,
                last_run_at=sync.last_run_at, health=sync.health.to_dict(), state={}))
        return sync

    def list(self) -> list[DataSync]:
        """Every sync, oldest first."""
        with self.db.begin() as conn:
            rows = conn.execute(select(syncs_table).order_by(syncs_table.c.created_at)).all()
        return [_to_sync(r) for r in rows]

    def get(self, ref: str) -> DataSync:
        """A sync by id or name; NotFoundError names the known ones."""
        with self.db.begin() as conn:
            row = conn.execute(select(syncs_table).where(
                (syncs_table.c.sync_id == ref) | (syncs_table.c.name == ref))).first()
        if row is None:
            known = ", ".join(s.name for s in self.list()) or "none"
            raise NotFoundError(f"no sync {ref!r}; known syncs: {known}")
        return _to_sync(row)

    def remove(self, ref: str) -> DataSync:
        """Delete a sync by id or name and return it."""
        sync = self.get(ref)
        with self.db.begin() as conn:
            conn.execute(delete(syncs_table).where(syncs_table.c.sync_id == sync.sync_id))
        return sync

    def set_enabled(self, ref: str, enabled: bool) -> DataSync:
        """Pause or resume a sync."""
        sync = self.get(ref)
        with self.db.begin() as conn:
            conn.execute(update(syncs_table).where(syncs_table.c.sync_id == sync.sync_id)
                         .values(enabled=enabled))
        sync.enabled = enabled
        return sync

    def record_run(self, sync_id: str, *, last_run_at: datetime, health: SourceHealth,
                   state: dict[str, Any] | None = None) -> None:
        """Save the outcome of a run: its time, the health, and the source's state."""
        values: dict[str, Any] = {"last_run_at": last_run_at, "health": health.to_dict()}
        if state is not None:
            values["state"] = state
        with self.db.begin() as conn:
            conn.execute(update(syncs_table).where(syncs_table.c.sync_id == sync_id)
                         .values(**values))

    def state(self, sync_id: str) -> dict[str, Any]:
        """The source state saved by the last run (an incremental cursor...)."""
        with self.db.begin() as conn:
            value = conn.execute(select(syncs_table.c.state)
                                 .where(syncs_table.c.sync_id == sync_id)).scalar()
        return dict(value or {})
