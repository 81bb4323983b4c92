"""Reading and writing tables by file extension: CSV, Parquet, JSON, NDJSON; ``-`` is stdio.

JSON input may be an array of records, an object of columns, or a stats.nba.com / nba_api
response (``resultSets``/``resultSet`` with ``headers`` and ``rowSet``: the first result set
is read, or the one named by ``result_set``).
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from courtside.model import DataError

__all__ = ["FORMATS", "format_of", "frame_from_json", "read_table", "write_table"]

FORMATS: dict[str, str] = {
    ".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".json": "json",
    ".ndjson": "ndjson", ".jsonl": "ndjson",
}


def format_of(path: str | Path, default: str = "csv") -> str:
    """The table format a file name implies (``-`` gives ``default``)."""
    if str(path) == "-":
        return default
    suffix = Path(path).suffix.lower()
    fmt = FORMATS.get(suffix)
    if fmt is None:
        raise DataError(f"{path}: unknown table format {suffix or '(no extension)'!r}; "
                        f"use one of {', '.join(sorted(FORMATS))}")
    return fmt


def _checked(fmt: str | None, path: str | Path) -> str:
    """A given format, checked (an unknown one would be read or written as JSON), else the
    one the file name implies."""
    if fmt is None:
        return format_of(path)
    if fmt.lower() not in FORMATS.values():
        raise DataError(f"unknown table format {fmt!r}; use one of "
                        f"{', '.join(sorted(set(FORMATS.values())))}")
    return fmt.lower()


def read_table(source: str | Path, *, fmt: str | None = None,
               result_set: str | None = None) -> pl.DataFrame:
    """A table from a file (format by extension) or ``-`` (stdin, CSV unless ``fmt``)."""
    fmt = _checked(fmt, source)
    try:
        if str(source) == "-":
            data = sys.stdin.buffer.read()
            return _read_bytes(data, fmt, "<stdin>", result_set)
        path = Path(source)
        if not path.is_file():
            raise DataError(f"{path}: no such file")
        if fmt == "csv":
            return pl.read_csv(path, infer_schema_length=10_000)
        if fmt == "parquet":
            return pl.read_parquet(path)
        if fmt == "ndjson":
            return pl.read_ndjson(path)
        return _read_bytes(path.read_bytes(), fmt, str(path), result_set)
    except DataError:
        raise
    except (OSError, pl.exceptions.PolarsError, ValueError) as exc:
        raise DataError(f"cannot read {source} as {fmt}: {exc}") from None


def _read_bytes(data: bytes, fmt: str, where: str, result_set: str | None) -> pl.DataFrame:
    if fmt == "csv":
        return pl.read_csv(io.BytesIO(data), infer_schema_length=10_000)
    if fmt == "parquet":
        return pl.read_parquet(io.BytesIO(data))
    if fmt == "ndjson":
        return pl.read_ndjson(io.BytesIO(data))
    try:
        doc = json.loads(data)
    except json.JSONDecodeError as exc:
        raise DataError(f"{where}: not JSON: {exc}") from None
    return frame_from_json(doc, where=where, result_set=result_set)


def frame_from_json(doc: Any, *, where: str = "JSON", result_set: str | None = None
                    ) -> pl.DataFrame:
    """A frame from decoded JSON: records, columns or a stats.nba.com response."""
    if isinstance(doc, list):
        return pl.DataFrame(doc, infer_schema_length=10_000)
    if isinstance(doc, Mapping):
        sets = doc.get("resultSets", doc.get("resultSet"))
        if sets is not None:
            sets = [sets] if isinstance(sets, Mapping) else list(sets)
            chosen = sets[0] if sets else None
            if result_set is not None:
                chosen = next((s for s in sets if s.get("name") == result_set), None)
            if not chosen or "headers" not in chosen or "rowSet" not in chosen:
                names = [s.get("name") for s in sets]
                raise DataError(f"{where}: no result set {result_set or ''} with headers and "
                                f"rowSet (result sets: {names})")
            return pl.DataFrame(chosen["rowSet"], schema=list(chosen["headers"]),
                                orient="row", infer_schema_length=10_000)
        if "game" in doc and isinstance(doc["game"], Mapping):
            raise DataError(f"{where} is a cdn.nba.com liveData boxscore: read it with the "
                            "nba-live preset (--preset nba-live)")
        if doc and all(isinstance(v, list) for v in doc.values()):
            return pl.DataFrame(dict(doc))
    raise DataError(f"{where}: expected an array of records, an object of columns or a "
                    "stats.nba.com response (resultSets)")


def write_table(frame: pl.DataFrame, dest: str | Path, *, fmt: str | None = None) -> None:
    """Write a table to a file (format by extension) or ``-`` (stdout, CSV unless ``fmt``)."""
    fmt = _checked(fmt, dest)
    if str(dest) == "-":
        out = sys.stdout.buffer
        buf = io.BytesIO()
        _write(frame, buf, fmt)
        out.write(buf.getvalue())
        out.flush()
        return
    path = Path(dest)
    if path.parent and not path.parent.exists():
        raise DataError(f"{path}: folder {path.parent} does not exist")
    _write(frame, path, fmt)


def _write(frame: pl.DataFrame, target: Any, fmt: str) -> None:
    if fmt == "csv":
        frame.write_csv(target)
    elif fmt == "parquet":
        frame.write_parquet(target)
    elif fmt == "ndjson":
        frame.write_ndjson(target)
    else:
        frame.write_json(target)
