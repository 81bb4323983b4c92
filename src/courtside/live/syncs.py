"""The service's side of the sync scheduler: what a sync run feeds, and what it reports.

The scheduler (``courtside.sources.scheduler``) runs each sync on its interval and hands every
update to :func:`feed_engine`, which counts the run and applies the changed games to the live
engine. The other functions read the running syncs for the status page, ``/v1/sources`` and
the optimiser, and run syncs on demand.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from courtside.live.engine import LiveEngine
from courtside.live.metrics import LiveMetrics
from courtside.model import ConfigError, CourtsideError

__all__ = ["feed_engine", "run_syncs", "source_rows", "sync_intervals", "sync_rows"]

log = logging.getLogger(__name__)


async def feed_engine(engine: LiveEngine, metrics: LiveMetrics, update: Any) -> None:
    """The scheduler's sink: count the run, then apply the sync's changed games."""
    outcome = "failure" if update.stale or update.error else "success"
    metrics.sync_runs.labels(update.name, outcome).inc()
    for snapshot in update.snapshots:
        try:
            await engine.apply_snapshot(snapshot)
        except CourtsideError as exc:  # one bad game must not keep the others out
            log.warning("sync %s: game %s not applied: %s", update.name,
                        snapshot.game_id, exc)


async def run_syncs(scheduler: Any, sync: str | None = None) -> list[dict[str, Any]]:
    """Run one sync now (by id or name), or every stored sync; one summary per run (games
    fed, rows, stale, error, health). A failing sync's summary carries its error."""
    if sync is not None:
        refs = [sync]
    else:
        refs = [s.sync_id for s in await asyncio.to_thread(scheduler.store.list)]
        if not refs:
            raise ConfigError("no sync is defined; add one (courtside sync add, POST "
                              "/v1/syncs) or feed snapshots with ingest_snapshot")
    out = []
    for ref in refs:
        update = await scheduler.run_once(ref)
        out.append({"sync_id": update.sync_id, "name": update.name,
                    "games": [g.game_id for g in update.snapshots],
                    "rows": len(update.rows), "stale": update.stale, "error": update.error,
                    "health": update.health.to_dict() if update.health else None})
    return out


def source_rows(scheduler: Any) -> list[dict[str, Any]]:
    """Every running sync's source with its health (what ``/v1/sources`` lists); none
    without a scheduler (the service is stopped)."""
    if scheduler is None:
        return []
    return [{"sync_id": s.sync_id, "name": s.name, "source_type": s.source_type.value,
             "frequency": s.frequency.value, "enabled": s.enabled,
             "last_run_at": s.last_run_at.isoformat() if s.last_run_at else None,
             "health": s.health.to_dict()} for s in scheduler.syncs()]


def sync_intervals(scheduler: Any) -> dict[str, float]:
    """Seconds between runs of each running sync (none without a scheduler)."""
    if scheduler is None:
        return {}
    return {s.sync_id: scheduler.next_interval(s.sync_id) for s in scheduler.syncs()}


def sync_rows(scheduler: Any) -> list[dict[str, Any]]:
    """Every running sync's definition, JSON-ready (none without a scheduler)."""
    if scheduler is None:
        return []
    return [s.to_dict() for s in scheduler.syncs()]
