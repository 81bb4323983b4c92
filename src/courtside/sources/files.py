"""FILE_SYSTEM source: CSV, Parquet, JSON, NDJSON and liveData JSON files, folders and globs.

Each fetch reads only the files that are new or changed since the previous fetch, judged by
modification time and size (cheap) or by a SHA-256 of the content (exact, for folders whose
tools rewrite files with old timestamps). A file that cannot be read is reported in
``Batch.errors`` and the other files still flow.
"""

from __future__ import annotations

import asyncio
import glob
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from courtside.model import ConfigError, DataError, utcnow
from courtside.sources.base import Source
from courtside.sources.records import Batch
from courtside.sources.tables import FORMATS
from courtside.sources.tabular import normalise_rows

__all__ = ["FORMATS", "FileSystemSource", "read_records"]



def _format(path: Path, forced: str | None) -> str:
    if forced:
        return forced
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DataError(f"{path}: unknown file type {path.suffix!r}; use one of "
                        f"{sorted(FORMATS)} or set format in the source config")
    return fmt


def read_records(path: Path, fmt: str) -> tuple[str, Any]:
    """Read one file as ("rows", list of dicts) or ("livedata", decoded document)."""
    import polars as pl

    try:
        if fmt == "csv":
            return "rows", pl.read_csv(path, infer_schema_length=10000).to_dicts()
        if fmt == "parquet":
            return "rows", pl.read_parquet(path).to_dicts()
        if fmt == "ndjson":
            return "rows", pl.read_ndjson(path).to_dicts()
        if fmt == "json":
            with path.open("rb") as fh:
                doc = json.load(fh)
            if isinstance(doc, dict) and ("game" in doc or "scoreboard" in doc):
                return "livedata", doc
            if isinstance(doc, dict) and isinstance(doc.get("rows"), list):
                doc = doc["rows"]
            if not isinstance(doc, list) or not all(isinstance(r, dict) for r in doc):
                raise DataError(f"{path}: JSON must be a list of objects (one per row), an "
                                "object with a 'rows' list, or a cdn.nba.com liveData document")
            return "rows", doc
    except DataError:
        raise
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: "
                        f"{exc.msg}") from exc
    except Exception as exc:  # polars raises many types; name the file and the cause
        raise DataError(f"{path}: cannot read as {fmt}: {type(exc).__name__}: {exc}") from exc
    raise ConfigError(f"unknown file format {fmt!r}; use one of {sorted(set(FORMATS.values()))}")


def _livedata_records(doc: dict[str, Any], *, source: str, fetched_at: datetime) -> Batch:
    from courtside.sources import livedata

    batch = Batch(source=source, fetched_at=fetched_at)
    if "scoreboard" in doc:
        batch.games = livedata.parse_scoreboard(doc)
    elif isinstance(doc.get("game"), dict) and "actions" in doc["game"]:
        from courtside.sources.playbyplay import derive_boxscore

        snap = derive_boxscore(doc)
        snap.source, snap.fetched_at = source, fetched_at
        batch.snapshots.append(snap)
    else:
        batch.snapshots.append(livedata.parse_boxscore(doc, source=source, fetched_at=fetched_at))
    return batch


class FileSystemSource(Source):
    """Reads new and modified files under a path, folder or glob.

    Config keys: ``path`` (a file, a folder, or a glob such as ``data/**/*.csv``),
    ``format`` (force one of csv, parquet, json, ndjson), ``mapping`` (source column ->
    canonical name), ``key`` (identifying columns), ``data_time_column``, ``detect``
    (``mtime`` or ``hash``), ``recursive`` (folders: include sub-folders).
    """

    kind = "file_system"

    def __init__(self, name: str, path: str, *, format: str | None = None,
                 mapping: Mapping[str, str] | None = None, key: Sequence[str] | None = None,
                 data_time_column: str | None = None, detect: str = "mtime",
                 recursive: bool = False) -> None:
        super().__init__(name)
        if detect not in ("mtime", "hash"):
            raise ConfigError(f"detect must be 'mtime' or 'hash', got {detect!r}")
        if format is not None and format not in set(FORMATS.values()):
            raise ConfigError(f"format must be one of {sorted(set(FORMATS.values()))}")
        self.path = path
        self.format = format
        self.mapping = dict(mapping or {})
        self.key = list(key) if key else None
        self.data_time_column = data_time_column
        self.detect = detect
        self.recursive = recursive
        self._seen: dict[str, tuple] = {}

    def files(self) -> list[Path]:
        """The files the path names right now, sorted."""
        p = Path(self.path).expanduser()
        if p.is_file():
            return [p]
        if p.is_dir():
            pattern = "**/*" if self.recursive else "*"
            found = [f for f in p.glob(pattern) if f.is_file()
                     and (self.format or f.suffix.lower() in FORMATS)]
            return sorted(found)
        if glob.has_magic(self.path):
            return sorted(Path(f) for f in glob.glob(os.path.expanduser(self.path),
                                                     recursive=True) if Path(f).is_file())
        raise DataError(f"{self.path}: no such file or folder (and not a glob pattern)")

    def _signature(self, path: Path) -> tuple:
        st = path.stat()
        if self.detect == "mtime":
            return (st.st_mtime_ns, st.st_size)
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        return (digest.hexdigest(),)

    def _read(self) -> Batch:
        batch = Batch(source=self.name, fetched_at=utcnow())
        self.issues = []
        present = set()
        for path in self.files():
            present.add(str(path))
            try:
                sig = self._signature(path)
                if self._seen.get(str(path)) == sig:
                    continue
                kind, content = read_records(path, _format(path, self.format))
                mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                if kind == "livedata":
                    try:
                        part = _livedata_records(content, source=self.name,
                                                 fetched_at=batch.fetched_at)
                    except (KeyError, TypeError, ValueError, AttributeError) as exc:
                        # The parsers name missing keys; a wrong type of value surfaces as
                        # these, and must stay this file's error, not the whole fetch's.
                        raise DataError(f"{path}: a liveData document of an unexpected "
                                        f"shape: {type(exc).__name__}: {exc}") from exc
                    batch.snapshots += part.snapshots
                    batch.games += part.games
                else:
                    rows, issues = normalise_rows(
                        content, source=self.name, mapping=self.mapping, key=self.key,
                        data_time_column=self.data_time_column, fetched_at=batch.fetched_at,
                        key_prefix=f"{path.name}:" if not self.key else "")
                    for row in rows:
                        row.data_time = row.data_time or mtime
                    batch.rows += rows
                    self.issues += issues
                self._seen[str(path)] = sig
            except (DataError, ConfigError, OSError) as exc:
                batch.errors[str(path)] = str(exc)
        # A deleted file that comes back is read again.
        for gone in set(self._seen) - present:
            del self._seen[gone]
        return batch

    async def fetch(self) -> Batch:
        """Read the new and modified files (in a thread: file I/O and parsing block)."""
        return await asyncio.to_thread(self._read)
