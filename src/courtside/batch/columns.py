"""Before a job is made: do the input's columns hold what the formulas read?

The job would find out after it was created (and fail); this runs the same mapping and
checks on zero rows of the input's columns, so a missing column is refused up front, with
the message the job would have failed with.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from courtside.batch.frames import from_pandas, is_pandas_frame
from courtside.batch.inputs import _fmt_of, csv_schema, expand_paths, scan


def input_columns(data: Any) -> pl.DataFrame | None:
    """Zero rows with every column of a frame or of files (the union, as the job reads
    several files); None when finding them would mean reading the data (a query, a JSON
    array file) or the input is of another kind."""
    if isinstance(data, pl.DataFrame):
        return data.clear()
    if isinstance(data, pl.LazyFrame):
        return pl.DataFrame(schema=data.collect_schema())
    if is_pandas_frame(data):
        return from_pandas(data.head(0))  # the job converts the whole frame once, later
    items = list(data) if isinstance(data, list | tuple) else [data]
    if not items or not all(isinstance(i, str | Path) for i in items):
        return None
    schema: dict[str, pl.DataType] = {}
    for item in items:
        for path in expand_paths(item):
            fmt = _fmt_of(path)
            if fmt == "json":
                return None  # no lazy reader: the schema costs the whole file
            try:
                found = (csv_schema(str(path.resolve())) if fmt == "csv"
                         else scan(path, fmt).collect_schema())
            except (pl.exceptions.PolarsError, OSError, ValueError):
                return None  # unreadable content: the job reports it with the reason
            for name, dtype in found.items():
                schema.setdefault(name, dtype)
    return pl.DataFrame(schema=schema)


def check_columns(data: Any, formulas: Sequence[str], *, preset: str | None = None,
                  define: Any = None, mapping: Any = None, context: Any = None) -> None:
    """DataError (the job's own message) when the input lacks a column the formulas need
    and the context does not supply; nothing when its columns cannot be known cheaply."""
    from courtside.batch.compute import compute

    empty = input_columns(data)
    if empty is None:
        return
    compute(empty, list(formulas), preset=preset, define=define, mapping=mapping,
            context=context)
