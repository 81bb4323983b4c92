"""Reading a job's persisted results and errors back as one table, and writing them out."""

from __future__ import annotations

import io
import math
import sys
from pathlib import Path
from typing import Any

import polars as pl

from courtside.batch.chunks import ERRORS_DIR, RESULTS_DIR, ROW_INDEX
from courtside.batch.rowerrors import ERROR_SCHEMA
from courtside.model import ConfigError
from courtside.sources.tables import FORMATS


def _files(job_dir: Path | str, kind: str) -> list[Path]:
    # Chunk files are named by zero-padded chunk index: name order is row order.
    folder = Path(job_dir) / kind
    return sorted(folder.glob("[0-9]*.parquet")) if folder.is_dir() else []


def scan_results(job_dir: Path | str) -> pl.LazyFrame:
    """Every finished chunk's rows, in input order, with ``row_index`` first."""
    files = _files(job_dir, RESULTS_DIR)
    if not files:
        return pl.LazyFrame(schema={ROW_INDEX: pl.Int64})
    return pl.concat([pl.scan_parquet(f) for f in files], how="diagonal_relaxed")


def scan_errors(job_dir: Path | str) -> pl.LazyFrame:
    """Every per-row error entry (row_index, formula, reason), in row order."""
    files = _files(job_dir, ERRORS_DIR)
    if not files:
        return pl.LazyFrame(schema=ERROR_SCHEMA)
    return pl.concat([pl.scan_parquet(f) for f in files])


def page(results: pl.LazyFrame, errors: pl.LazyFrame, *, offset: int,
         limit: int) -> dict[str, Any]:
    """Rows ``offset`` to ``offset + limit`` of the results, the errors of those rows, and
    the totals; JSON-ready (NaN and infinities become None)."""
    total = int(results.select(pl.len()).collect().item())
    rows = results.slice(offset, limit).collect().to_dicts()
    first, last = offset, offset + len(rows)
    in_page = errors.filter(pl.col(ROW_INDEX).is_between(first, last, closed="left"))
    return {"total_rows": total, "offset": offset, "limit": limit,
            "next_offset": last if last < total else None,
            "rows": [{k: _finite(v) for k, v in r.items()} for r in rows],
            "errors": in_page.collect().to_dicts() if rows else [],
            "error_count": int(errors.select(pl.len()).collect().item())}


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def check_target(target: str | Path) -> None:
    """ConfigError unless ``write_frame`` can write to ``target``: a known extension, and a
    folder that exists or can be created (it is created here). For a check before a long job."""
    if str(target) == "-":
        return
    path = Path(target)
    if path.suffix.lower() not in FORMATS:
        raise ConfigError(f"cannot write {path}: unknown extension {path.suffix.lower()!r}; "
                          "use .csv, .parquet, .json or .ndjson (or - for stdout)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: its folder cannot be created "
                          f"({exc.strerror or exc})") from exc
    if path.is_dir():
        raise ConfigError(f"cannot write {path}: it is a folder; give a file name")


def write_frame(frame: pl.LazyFrame | pl.DataFrame, target: str | Path) -> None:
    """Write by extension: .csv, .parquet, .json, .ndjson/.jsonl; ``-`` is CSV on stdout.

    Lazy frames are streamed to CSV, Parquet and NDJSON without being held in memory. The
    folder is created when missing.
    """
    lazy = frame.lazy()
    if str(target) == "-":
        _stdout_csv(lazy)
        return
    check_target(target)
    path = Path(target)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        lazy.sink_csv(path)
    elif suffix in (".parquet", ".pq"):
        lazy.sink_parquet(path)
    elif suffix in (".ndjson", ".jsonl"):
        lazy.sink_ndjson(path)
    else:
        lazy.collect().write_json(path)


def _stdout_csv(lazy: pl.LazyFrame, batch_rows: int = 50_000) -> None:
    """CSV on stdout in batches: bounded memory, and a reader that stops early (``| head``)
    raises BrokenPipeError here, from Python's own write, for the caller to end quietly."""
    sys.stdout.flush()  # anything printed before goes first
    out = sys.stdout.buffer
    header = True
    for batch in lazy.collect_batches(chunk_size=batch_rows):
        buf = io.BytesIO()
        batch.write_csv(buf, include_header=header)
        header = False
        _write_all(out, buf.getvalue())
    if header:  # no rows: the header alone
        buf = io.BytesIO()
        lazy.limit(0).collect().write_csv(buf)
        _write_all(out, buf.getvalue())
    out.flush()


def _write_all(out: Any, data: bytes) -> None:
    # A pipe whose reader left takes part of a large write without an error (the count
    # says so); writing the rest is what raises BrokenPipeError.
    view = memoryview(data)
    while view:
        view = view[out.write(view):]
