"""From a DataSync definition to a source adapter.

A sync's ``config`` holds the adapter's settings, plus a few keys the scheduler reads
itself (``SCHEDULER_KEYS``). Building a source opens nothing: connections are made on the
first fetch, so a definition can be checked without touching the network.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from courtside.model import ConfigError, DataSourceType, DataSync
from courtside.sources.base import Source

__all__ = ["SCHEDULER_KEYS", "STATS_DATA_TYPES", "build_source", "describe", "source_class"]

#: config keys for the scheduler, not the adapter.
SCHEDULER_KEYS = frozenset({"interval_seconds", "timeout_seconds", "pace", "confirm_after",
                            "down_after"})

#: NBA_API data types served by stats.nba.com (through nba_api) rather than liveData.
STATS_DATA_TYPES = frozenset({"gamelog", "leaguegamelog", "stats"})

_CLASSES: dict[str, str] = {
    "file_system": "courtside.sources.files:FileSystemSource",
    "database": "courtside.sources.database:DatabaseSource",
    "custom_endpoint": "courtside.sources.custom_endpoint:CustomEndpointSource",
    "nba_live": "courtside.sources.nba_live:NbaLiveSource",
    "nba_stats": "courtside.sources.nba_stats:NbaStatsSource",
    "replay": "courtside.sources.replay_adapter:ReplayAdapter",
}


def source_class(sync: DataSync) -> type[Source]:
    """The adapter class a sync uses."""
    kind = sync.source_type.value
    if sync.source_type is DataSourceType.NBA_API:
        stats = bool(set(sync.data_types) & STATS_DATA_TYPES) or "endpoint" in sync.config
        kind = "nba_stats" if stats else "nba_live"
    module, _, name = _CLASSES[kind].partition(":")
    return getattr(importlib.import_module(module), name)


def build_source(sync: DataSync) -> Source:
    """The adapter of a sync, configured; ConfigError names bad or missing settings."""
    cls = source_class(sync)
    options = {k: v for k, v in sync.config.items() if k not in SCHEDULER_KEYS}
    params = inspect.signature(cls.__init__).parameters
    if "data_types" in params:
        options.setdefault("data_types", list(sync.data_types) or None)
    accepted = [p for p in params if p not in ("self", "name")]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ConfigError(f"sync {sync.name!r}: unknown setting(s) {unknown} for a "
                          f"{sync.source_type.value} source; accepted: "
                          f"{accepted + sorted(SCHEDULER_KEYS)}")
    required = [p.name for p in params.values() if p.name not in ("self", "name")
                and p.default is inspect.Parameter.empty and p.kind is not p.VAR_KEYWORD]
    missing = [p for p in required if p not in options]
    if missing:
        raise ConfigError(f"sync {sync.name!r}: a {sync.source_type.value} source needs "
                          f"{', '.join(missing)} in its config")
    try:
        return cls(sync.name, **options)
    except TypeError as exc:
        raise ConfigError(f"sync {sync.name!r}: bad settings: {exc}") from exc


def describe(sync: DataSync) -> dict[str, Any]:
    """A short JSON-ready description of a sync for listings."""
    return {"id": sync.sync_id, "name": sync.name, "type": sync.source_type.value,
            "frequency": sync.frequency.value, "data_types": sync.data_types,
            "auto_start": sync.auto_start, "enabled": sync.enabled,
            "state": sync.health.state.value,
            "last_run_at": sync.last_run_at.isoformat() if sync.last_run_at else None}
