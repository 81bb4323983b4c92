"""One call to read any source once, validated: the Python twin of ``courtside sync run``.

    from courtside.sources.quick import read_source
    update = read_source("file_system", path="data/*.csv", mapping={"Points": "PTS"})
    update.frame()                        # rows as a Polars DataFrame
    read_source("nba_api").snapshots      # today's live games from cdn.nba.com
    read_source("replay", seeds=[42], speed=0).snapshots[0]
"""

from __future__ import annotations

import asyncio
from typing import Any

from courtside.model import DataSourceType, SyncFrequency
from courtside.sources.pipeline import SyncUpdate
from courtside.sources.scheduler import SyncScheduler, new_sync

__all__ = ["aread_source", "read_source"]


async def aread_source(source_type: DataSourceType | str, *,
                       data_types: list[str] | None = None, **config: Any) -> SyncUpdate:
    """Fetch once from a source defined by its settings; validated records, issues, health."""
    sync = new_sync("read", source_type, SyncFrequency.REAL_TIME, config, data_types)
    async with SyncScheduler() as sched:
        return await sched.run_once(sync)


def read_source(source_type: DataSourceType | str, *, data_types: list[str] | None = None,
                **config: Any) -> SyncUpdate:
    """:func:`aread_source` for code without an event loop."""
    return asyncio.run(aread_source(source_type, data_types=data_types, **config))
