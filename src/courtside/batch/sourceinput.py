"""Batch input from a configured source: a DataSync stored in the database, read once.

``source:NAME`` (CLI) or ``ConfiguredSource("NAME")`` (Python, REST ``{"source": "NAME"}``)
names a sync defined with ``courtside sync add`` or ``POST /v1/syncs``. The job reads that
source's current records once (``courtside.read_source`` with the sync's settings, so no
cursor or change state of the running sync is touched) into a frame, which is spilled to the
job's directory like any frame: a resumed job reads the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from courtside.model import ConfigError, DataError, DataSync, NotFoundError
from courtside.storage.db import Database

__all__ = ["PREFIX", "ConfiguredSource", "check_source", "parse_source", "read_source_frame"]

PREFIX = "source:"

# Provenance columns every source row carries that say nothing per row in a batch: _key
# joins the row's id columns (kept as they are) or is its position (row_index says it);
# _data_time is the sync's data-time column (kept as it is) or the fetch's file time or
# feed timestamp, provenance of the read like _fetched_at.
_DROPPED = ("_key", "_source", "_fetched_at", "_data_time", "_stale")


@dataclass(frozen=True, slots=True)
class ConfiguredSource:
    """A sync (by name or id) whose source is the batch input."""

    name: str


def parse_source(text: str) -> ConfiguredSource | None:
    """``source:NAME`` as a ConfiguredSource; None for any other text."""
    if not text.startswith(PREFIX):
        return None
    name = text[len(PREFIX):].strip()
    if not name:
        raise ConfigError("source: needs a sync name after the colon, e.g. source:box-db "
                            "(`courtside sync list` shows them)")
    return ConfiguredSource(name)


def _find(db: Database, ref: ConfiguredSource) -> DataSync:
    from courtside.storage.syncs import SyncStore

    store = SyncStore(db)
    try:
        return store.get(ref.name)
    except NotFoundError:
        names = ", ".join(s.name for s in store.list()) or "none yet"
        raise NotFoundError(
            f"no configured source {ref.name!r}; configured sources: {names}. Define one with "
            "`courtside sync add NAME --type ...` or POST /v1/syncs") from None


def check_source(db: Database, ref: ConfiguredSource) -> DataSync:
    """The sync, with its settings checked (building the source opens nothing)."""
    from courtside.sources.registry import build_source

    sync = _find(db, ref)
    build_source(sync)
    return sync


def read_source_frame(db: Database, ref: ConfiguredSource) -> tuple[pl.DataFrame, str]:
    """The source's current records as a frame, and a description of what was read.

    Tabular rows come as the source gives them (mapped to canonical names by the sync's
    ``mapping``; no provenance columns); box scores (live feeds, replays,
    liveData files) as one row per player. Rows the source's validation held back are not
    in the frame; the description counts them.
    """
    from courtside.sources.quick import read_source
    from courtside.sources.records import rows_frame
    from courtside.sources.snapshots import players_frame

    sync = check_source(db, ref)
    update = read_source(sync.source_type, data_types=list(sync.data_types) or None,
                         **sync.config)
    frames = []
    if update.rows:
        frames.append(rows_frame(update.rows).drop(_DROPPED, strict=False))
    frames += [players_frame(s) for s in update.snapshots if s.players]
    frames = [f for f in frames if f.height]
    if not frames:
        why = f": {update.error}" if update.error else " (no rows and no box scores)"
        raise DataError(f"source {sync.name!r} ({sync.source_type.value}) gave nothing to "
                        f"compute{why}")
    frame = pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]
    held = sum(1 for issue in update.issues if issue.held)
    description = (f"source {sync.name} ({sync.source_type.value}): {frame.height} rows"
                   + (f", {held} held back by validation" if held else "")
                   + (f"; problems: {update.error[:300]}" if update.error else ""))
    return frame, description
