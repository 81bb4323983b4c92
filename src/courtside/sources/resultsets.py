"""stats.nba.com responses as frames: the ``resultSets`` JSON shape.

Every stats.nba.com endpoint (and ``nba_api``'s ``get_dict()``) answers with
``{"resource": ..., "parameters": ..., "resultSets": [{"name", "headers", "rowSet"}, ...]}``
(a few endpoints say ``resultSet`` with a single object). These functions turn one result set
into a Polars frame with the response's own column names, which are already courtside's
canonical stat names (``FGM``, ``FG3M``, ``OREB``, ``TOV``...).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from courtside.model import DataError

__all__ = ["is_result_sets", "read_result_set", "result_set_frame"]


def is_result_sets(payload: object) -> bool:
    """True when a decoded JSON document has the stats.nba.com ``resultSets`` shape."""
    return isinstance(payload, Mapping) and ("resultSets" in payload or "resultSet" in payload)


def _sets(payload: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    sets = payload.get("resultSets", payload.get("resultSet"))
    if isinstance(sets, Mapping):
        sets = [sets]
    if not isinstance(sets, list) or not sets:
        raise DataError("the response has no result sets (resultSets is empty or not a list)")
    return sets


def result_set_frame(payload: Mapping[str, Any], name: str | None = None) -> pl.DataFrame:
    """One result set of a stats.nba.com response as a frame.

    ``name`` picks the set (``LeagueGameLog``, ``PlayerStats``...); without it the first one
    is used. Column types are inferred from all rows (ids stay text when they are text).
    """
    if not is_result_sets(payload):
        raise DataError("not a stats.nba.com response: no 'resultSets' key (expected "
                        '{"resultSets": [{"name", "headers", "rowSet"}]})')
    sets = _sets(payload)
    chosen = sets[0]
    if name is not None:
        named = [s for s in sets if isinstance(s, Mapping) and s.get("name") == name]
        if not named:
            have = ", ".join(str(s.get("name")) for s in sets if isinstance(s, Mapping))
            raise DataError(f"the response has no result set {name!r}; it has: {have}")
        chosen = named[0]
    headers, rows = chosen.get("headers"), chosen.get("rowSet")
    if not isinstance(headers, list) or not isinstance(rows, list):
        raise DataError(f"result set {chosen.get('name')!r} lacks 'headers' or 'rowSet' lists")
    if len(set(headers)) != len(headers):
        raise DataError(f"result set {chosen.get('name')!r} repeats a column name")
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != len(headers):
            raise DataError(f"result set {chosen.get('name')!r}: row {i} has "
                            f"{len(row) if isinstance(row, list) else 'no'} values for "
                            f"{len(headers)} headers")
    if not rows:
        return pl.DataFrame({h: [] for h in headers})
    return pl.DataFrame(rows, schema=[str(h) for h in headers], orient="row",
                        infer_schema_length=None)


def read_result_set(path: str | Path, name: str | None = None) -> pl.DataFrame:
    """Read a saved stats.nba.com JSON response and return one result set as a frame."""
    path = Path(path)
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: not a JSON document ({exc})") from None
    try:
        return result_set_frame(payload, name)
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from None
