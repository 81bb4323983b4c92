"""What adapters yield: box scores as GameSnapshots, tables as rows of canonical stats.

Every record carries its provenance: the source's name, when courtside fetched it
(``fetched_at``) and when the data describes (``data_time``), plus ``stale`` when it is the
last good data of a source that is failing now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from courtside.model import GameSnapshot

__all__ = ["Batch", "StatRow"]


@dataclass(slots=True)
class StatRow:
    """One row of a tabular source, its columns in canonical names where they have one.

    Attributes:
        key: what the row is about, stable across fetches (``0021800001|1610612737``).
        values: column name to value; canonical stats are floats.
        source, fetched_at, data_time, stale: provenance.
    """

    key: str
    values: dict[str, Any]
    source: str
    fetched_at: datetime
    data_time: datetime | None = None
    stale: bool = False


@dataclass(slots=True)
class Batch:
    """The result of one fetch of one source.

    Attributes:
        source: the source's name.
        fetched_at: when the fetch finished.
        snapshots: box scores, one per game.
        rows: tabular records.
        games: scoreboard summaries (``game_id``, ``status``, ``start_time``...), which
            REAL_TIME syncs use to pick their pace.
        errors: parts that failed while others worked (a game id or file name -> message).
        not_modified: nothing changed at the source since the last fetch.
        state: the source's resumable state after this fetch (a database cursor...).
    """

    source: str
    fetched_at: datetime
    snapshots: list[GameSnapshot] = field(default_factory=list)
    rows: list[StatRow] = field(default_factory=list)
    games: list[dict[str, Any]] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    not_modified: bool = False
    state: dict[str, Any] = field(default_factory=dict)

    def frame(self) -> Any:
        """The rows as a Polars DataFrame, provenance in ``_key``, ``_source``... columns."""
        import polars as pl

        return rows_frame(self.rows, pl)


def rows_frame(rows: list[StatRow], pl: Any = None) -> Any:
    """Rows as a Polars DataFrame (columns: the values, then ``_key`` and provenance)."""
    if pl is None:
        import polars as pl
    records = [{**r.values, "_key": r.key, "_source": r.source, "_fetched_at": r.fetched_at,
                "_data_time": r.data_time, "_stale": r.stale} for r in rows]
    return pl.DataFrame(records, infer_schema_length=None) if records else pl.DataFrame()

