"""Batch inputs: frames, files and globs, database queries, resolved into partitions.

A partition is one file (CSV, Parquet, JSON, NDJSON) or one in-memory frame, with its row
count. Chunks never cross partitions, so a chunk is always (partition, offset, length) and can
be read again after a restart. Query results are spilled to Parquet part files in the job's
directory while they stream in, so a query is read once, in bounded memory, and a resumed job
reads the same rows.
"""

from __future__ import annotations

import functools
import glob as globlib
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from courtside.batch.frames import from_pandas, is_pandas_frame
from courtside.model import ConfigError, DataError

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".json": "json",
           ".ndjson": "ndjson", ".jsonl": "ndjson"}

# Schema inference looks this far into a CSV; a bad value further on fails its own chunk.
CSV_INFER_ROWS = 10_000


@dataclass(frozen=True, slots=True)
class QuerySource:
    """A read-only SELECT against a SQLAlchemy URL (``sqlite:///x.db``, ``postgresql+psycopg://...``)."""

    url: str
    query: str


@dataclass(slots=True)
class Partition:
    """One file or one in-memory frame of the input.

    ``frame`` is only set while the frame is in this process (it is never persisted); ``path``
    is set for files and for frames spilled to the job directory.
    """

    fmt: str
    rows: int
    path: str | None = None
    frame: pl.DataFrame | None = field(default=None, repr=False)

    def spec(self) -> dict[str, Any]:
        """JSON-ready description, enough to read the partition again."""
        if self.path is None:
            raise ConfigError("an in-memory frame that was not spilled cannot be persisted")
        return {"fmt": self.fmt, "rows": self.rows, "path": self.path}


@dataclass(slots=True)
class BatchInput:
    """The resolved input of a job: what it is (for humans) and its partitions."""

    description: str
    partitions: list[Partition]

    @property
    def total_rows(self) -> int:
        """Rows over every partition."""
        return sum(p.rows for p in self.partitions)

    def spec(self) -> dict[str, Any]:
        """JSON-ready form stored with the job (``from_spec`` reads it back)."""
        return {"description": self.description, "partitions": [p.spec() for p in self.partitions]}

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> BatchInput:
        """Rebuild a stored input; every file must still be there."""
        parts = [Partition(fmt=p["fmt"], rows=int(p["rows"]), path=p["path"])
                 for p in spec["partitions"]]
        for p in parts:
            if p.path is not None and not Path(p.path).exists():
                raise DataError(f"input file {p.path} of this job is gone; "
                                "restore it, or run the job again on the new input")
        return cls(spec["description"], parts)


# --------------------------------------------------------------------------- resolving


def _fmt_of(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DataError(f"{path}: unknown file type {path.suffix!r}; use one of "
                        f"{', '.join(sorted(FORMATS))} (the format comes from the extension)")
    return fmt


def expand_paths(pattern: str | Path) -> list[Path]:
    """Files named by a path, a folder (every supported file in it) or a glob, sorted."""
    text = str(pattern)
    path = Path(text).expanduser()
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in FORMATS and p.is_file())
        if not files:
            raise DataError(f"folder {path} holds no CSV, Parquet, JSON or NDJSON file")
        return files
    if any(ch in text for ch in "*?["):
        files = sorted(Path(p) for p in globlib.glob(str(path), recursive=True)
                       if Path(p).is_file())
        if not files:
            raise DataError(f"no file matches {text!r}; check the pattern and the folder")
        return files
    if not path.exists():
        raise DataError(f"input file {path} does not exist")
    return [path]


def count_rows(path: Path, fmt: str) -> int:
    """Rows in a file, read from metadata (Parquet) or a streaming scan; DataError if unreadable."""
    try:
        if fmt == "json":
            return pl.read_json(path).height
        return int(scan(path, fmt).select(pl.len()).collect().item())
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise DataError(f"cannot read {path} as {fmt.upper()}: {_first_line(exc)}. Check that "
                        "the file is complete and its extension matches its content") from exc


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def scan(path: Path | str, fmt: str) -> pl.LazyFrame:
    """A lazy scan of one file (JSON arrays have no lazy reader and are read whole)."""
    if fmt == "parquet":
        return pl.scan_parquet(path)
    if fmt == "csv":
        return pl.scan_csv(path, infer_schema_length=CSV_INFER_ROWS)
    if fmt == "ndjson":
        return pl.scan_ndjson(path, infer_schema_length=CSV_INFER_ROWS)
    if fmt == "json":
        return pl.read_json(path).lazy()
    raise DataError(f"unknown input format {fmt!r}")


def resolve(data: Any, *, spill_dir: Path | None = None) -> BatchInput:
    """Turn what the caller passed into partitions.

    ``data``: a Polars or pandas DataFrame, a path, folder or glob (or a list of them), or a
    ``QuerySource``. Frames are spilled to ``spill_dir/input.parquet`` when a directory is
    given (so the job can be resumed after a restart); queries always need ``spill_dir``.
    """
    if isinstance(data, QuerySource):
        if spill_dir is None:
            raise ConfigError("a query input needs a directory to spill its rows to")
        return _resolve_query(data, spill_dir)
    frame = _as_frame(data)
    if frame is not None:
        part = Partition(fmt="frame", rows=frame.height, frame=frame)
        if spill_dir is not None:
            spill_dir.mkdir(parents=True, exist_ok=True)
            target = spill_dir / "input.parquet"
            frame.write_parquet(target)
            part.path = str(target)
            part.fmt = "parquet"
        return BatchInput(f"frame ({frame.height} rows, {frame.width} columns)", [part])
    items = list(data) if isinstance(data, list | tuple) else [data]
    if not items:
        raise DataError("no input given: pass a frame, a file, a folder or a glob")
    files: list[Path] = []
    for item in items:
        if not isinstance(item, str | Path):
            raise ConfigError(f"unsupported input {type(item).__name__}; pass a Polars or pandas "
                              "DataFrame, a path, a folder, a glob or a QuerySource")
        files.extend(expand_paths(item))
    parts = [Partition(fmt=_fmt_of(f), rows=0, path=str(f.resolve())) for f in files]
    for part in parts:
        part.rows = count_rows(Path(part.path or ""), part.fmt)
    description = ", ".join(str(i) for i in items)
    return BatchInput(description, parts)


def check(data: Any) -> None:
    """Cheap checks before a job is created: every file exists, has a known type and can be
    opened; a query is one SELECT on a valid URL. Contents are read by the job itself (a
    corrupt file fails the job, with the reason)."""
    if isinstance(data, QuerySource):
        check_read_only(data.query)
        _parse_url(data.url)
        return
    if _is_frame(data):
        return
    items = list(data) if isinstance(data, list | tuple) else [data]
    if not items:
        raise DataError("no input given: pass a frame, a file, a folder or a glob")
    for item in items:
        if not isinstance(item, str | Path):
            raise ConfigError(f"unsupported input {type(item).__name__}; pass a Polars or pandas "
                              "DataFrame, a path, a folder, a glob or a QuerySource")
        for path in expand_paths(item):
            _fmt_of(path)
            if not os.access(path, os.R_OK):
                raise DataError(f"input file {path} is not readable by the server's user; "
                                "check its permissions")


def _is_frame(data: Any) -> bool:
    return isinstance(data, pl.DataFrame | pl.LazyFrame) or is_pandas_frame(data)


def _as_frame(data: Any) -> pl.DataFrame | None:
    if isinstance(data, pl.DataFrame):
        return data
    if isinstance(data, pl.LazyFrame):
        return data.collect()
    if is_pandas_frame(data):
        return from_pandas(data)  # compute's conversion, with its clear error
    return None


# --------------------------------------------------------------------------- queries

_READ_ONLY = re.compile(r"^\s*(select|with)\b", re.IGNORECASE)


def check_read_only(query: str) -> str:
    """The query without a trailing semicolon; ConfigError unless it is one SELECT."""
    text = query.strip().rstrip(";").strip()
    if not _READ_ONLY.match(text) or ";" in text:
        raise ConfigError("a batch query must be a single read-only SELECT (or WITH ... SELECT) "
                          f"statement; got {query[:60]!r}")
    return text


def _parse_url(text: str) -> Any:
    from sqlalchemy import make_url

    try:
        return make_url(text)
    except Exception as exc:  # sqlalchemy raises ArgumentError with a clear message
        raise ConfigError(f"invalid database URL: {exc}; e.g. sqlite:///games.db or "
                          "postgresql+psycopg://user@host/db") from exc


def _resolve_query(source: QuerySource, spill_dir: Path, batch_rows: int = 100_000) -> BatchInput:
    from sqlalchemy import create_engine, text

    query = check_read_only(source.query)
    url = _parse_url(source.url)
    shown = url.render_as_string(hide_password=True)
    engine = create_engine(url)
    out = spill_dir / "query"
    out.mkdir(parents=True, exist_ok=True)
    parts: list[Partition] = []
    try:
        with engine.connect() as conn:
            # The database itself enforces read-only, not just our text check.
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA query_only = ON")
            elif engine.dialect.name == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            result = conn.execution_options(stream_results=True).execute(text(query))
            columns = list(result.keys())
            while rows := result.fetchmany(batch_rows):
                frame = pl.DataFrame([tuple(r) for r in rows], schema=columns, orient="row",
                                     infer_schema_length=None)
                target = out / f"part-{len(parts):05d}.parquet"
                frame.write_parquet(target)
                parts.append(Partition(fmt="parquet", rows=frame.height, path=str(target)))
            conn.rollback()
    except Exception as exc:
        if isinstance(exc, ConfigError | DataError):
            raise
        raise DataError(f"query against {shown} failed: {_first_line(exc)}") from exc
    finally:
        engine.dispose()
    return BatchInput(f"query on {shown}: {query[:200]}", parts)


# --------------------------------------------------------------------------- reading chunks


def read_slice(part: Partition, offset: int, length: int) -> pl.DataFrame:
    """Rows ``offset`` to ``offset + length`` of a partition."""
    if part.frame is not None:
        return part.frame.slice(offset, length)
    if part.path is None:
        raise DataError("partition has neither a frame nor a file")
    if part.fmt == "csv":
        # Polars parses CSV blocks ahead of a slice, so a bad value further on would fail
        # this chunk: read these rows as text, then cast them to the file's inferred schema,
        # so a value that does not parse fails the chunk that holds it and no other.
        schema = csv_schema(part.path)
        text = pl.read_csv(part.path, infer_schema=False, skip_rows_after_header=offset,
                           n_rows=length)
        return text.cast(dict(schema), strict=True)
    return scan(part.path, part.fmt).slice(offset, length).collect()


def csv_schema(path: str) -> pl.Schema:
    """The schema Polars infers for a CSV file (the same for every chunk of it)."""
    stat = os.stat(path)
    # Keyed by the file's version too: a file rewritten in place (a long-running service,
    # a user fixing a column) must not be read with its old columns.
    return _csv_schema(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _csv_schema(path: str, mtime_ns: int, size: int) -> pl.Schema:
    return pl.scan_csv(path, infer_schema_length=CSV_INFER_ROWS).collect_schema()


def stream(part: Partition, start: int, batch_size: int) -> Iterator[pl.DataFrame]:
    """Consecutive frames of exactly ``batch_size`` rows (the last may be shorter) from ``start``.

    Files are read with Polars' streaming engine, so memory stays bounded by the batch size
    whatever the file size.
    """
    if part.frame is not None:
        for offset in range(start, part.rows, batch_size):
            yield part.frame.slice(offset, batch_size)
        return
    if part.path is None:
        return
    lazy = scan(part.path, part.fmt)
    if start:
        lazy = lazy.slice(start)
    yield from rebatch(lazy.collect_batches(chunk_size=batch_size), batch_size)


def rebatch(frames: Iterator[pl.DataFrame] | Sequence[pl.DataFrame],
            batch_size: int) -> Iterator[pl.DataFrame]:
    """Regroup frames of any size into frames of exactly ``batch_size`` rows."""
    pending: list[pl.DataFrame] = []
    held = 0
    for frame in frames:
        while frame.height:
            take = min(batch_size - held, frame.height)
            pending.append(frame.slice(0, take))
            held += take
            frame = frame.slice(take)
            if held == batch_size:
                yield pl.concat(pending, rechunk=False) if len(pending) > 1 else pending[0]
                pending, held = [], 0
    if held:
        yield pl.concat(pending, rechunk=False) if len(pending) > 1 else pending[0]
