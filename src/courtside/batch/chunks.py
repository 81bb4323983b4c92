"""Chunks: planning them, and computing one chunk into its Parquet result and error files.

A ``ChunkTask`` is what every executor runs, in this process, in a pool process or on a Dask
worker, so it holds only picklable things. It writes its files under a temporary name and
renames them, so a chunk file either is complete or does not exist; the job records the chunk
as finished only after that.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from courtside.batch.inputs import Partition, read_slice
from courtside.batch.rowerrors import Explainer, row_errors
from courtside.model import DataError

ROW_INDEX = "row_index"
RESULTS_DIR = "results"
ERRORS_DIR = "errors"

ComputeFn = Callable[..., pl.DataFrame]


@dataclass(frozen=True, slots=True)
class ChunkSpec:
    """Rows ``offset`` to ``offset + length`` of partition ``partition``; ``row_start`` is the
    index of its first row in the whole input."""

    index: int
    partition: int
    offset: int
    length: int
    row_start: int

    def describe(self, part: Partition | None = None) -> str:
        """Human words for error messages."""
        where = f" of {part.path}" if part is not None and part.path else ""
        return (f"chunk {self.index} (input rows {self.row_start} to "
                f"{self.row_start + self.length - 1}{where})")


@dataclass(frozen=True, slots=True)
class ChunkResult:
    """What a finished chunk reports back."""

    index: int
    row_start: int
    rows: int
    failed_rows: int
    seconds: float


class ChunkFailed(Exception):
    """A chunk raised: the job fails with this message, keeping the chunks already finished."""

    def __init__(self, spec: ChunkSpec, message: str) -> None:
        self.spec = spec
        super().__init__(message)


def plan_chunks(partitions: Sequence[Partition], batch_size: int) -> list[ChunkSpec]:
    """Cut every partition into chunks of ``batch_size`` rows."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    chunks: list[ChunkSpec] = []
    row_start = 0
    for p_index, part in enumerate(partitions):
        for offset in range(0, part.rows, batch_size):
            length = min(batch_size, part.rows - offset)
            chunks.append(ChunkSpec(len(chunks), p_index, offset, length, row_start + offset))
        row_start += part.rows
    return chunks


def chunk_file(out_dir: Path | str, kind: str, index: int) -> Path:
    """Where chunk ``index``'s results (kind ``results``) or errors (``errors``) live."""
    return Path(out_dir) / kind / f"{index:06d}.parquet"


def _write_atomic(frame: pl.DataFrame, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    frame.write_parquet(tmp)
    os.replace(tmp, target)


def default_compute() -> ComputeFn:
    """``courtside.compute``, looked up when first needed (it may live in another process)."""
    import courtside

    return courtside.compute


@dataclass(slots=True)
class ChunkTask:
    """Computes the job's formulas on one chunk and writes its files.

    Attributes:
        formulas: formula ids (or custom names), as ``compute`` names its output columns.
        out_dir: the job's directory; files go to ``results/`` and ``errors/`` in it.
        preset, define, mapping: passed to ``compute``.
        context: derived once over the whole input (team and league totals), passed to every
            chunk so that a chunk's values equal those of one ``compute`` over everything.
        partitions: the input's partitions, for executors that read their own chunk.
        compute: the compute function (``courtside.compute`` when None).
        explainer: turns null results into reasons (``rowerrors.Explainer``).
    """

    formulas: list[str]
    out_dir: str
    preset: str | None = None
    define: Any = None
    mapping: Any = None
    context: Any = None
    partitions: list[Partition] = field(default_factory=list)
    compute: ComputeFn | None = None
    explainer: Explainer | None = None

    def read(self, spec: ChunkSpec) -> pl.DataFrame:
        """The chunk's input rows."""
        return read_slice(self.partitions[spec.partition], spec.offset, spec.length)

    def read_and_run(self, spec: ChunkSpec) -> ChunkResult:
        """Read the chunk, then ``run`` it (what pool processes and Dask workers call)."""
        try:
            frame = self.read(spec)
        except (pl.exceptions.PolarsError, OSError) as exc:
            part = self.partitions[spec.partition]
            raise DataError(f"{spec.describe(part)} could not be read: "
                            f"{_first_line(exc)}") from exc
        return self.run(spec, frame)

    def run(self, spec: ChunkSpec, frame: pl.DataFrame) -> ChunkResult:
        """Compute the chunk and write its result and error files."""
        started = time.perf_counter()
        if frame.height != spec.length:
            raise DataError(f"{spec.describe()} has {frame.height} rows, expected {spec.length}; "
                            "the input changed since the job was planned")
        compute = self.compute or default_compute()
        kwargs = {"mapping": self.mapping} if self.mapping else {}
        out = compute(frame, self.formulas, preset=self.preset, context=self.context,
                      define=self.define, **kwargs)
        if out.height != frame.height:
            raise DataError(f"compute returned {out.height} rows for {frame.height}: results "
                            "would not stay aligned with the input")
        out = out.with_columns(pl.int_range(spec.row_start, spec.row_start + out.height,
                                            dtype=pl.Int64).alias(ROW_INDEX)
                               ).select(ROW_INDEX, pl.exclude(ROW_INDEX))
        formula_columns = [c for c in self.formulas if c in out.columns]
        errors = row_errors(frame, out, formula_columns, self.explainer, context=self.context)
        failed = int(out.select(pl.any_horizontal(pl.col(formula_columns).is_null()).sum()
                                ).item()) if formula_columns and out.height else 0
        _write_atomic(out, chunk_file(self.out_dir, RESULTS_DIR, spec.index))
        err_path = chunk_file(self.out_dir, ERRORS_DIR, spec.index)
        if errors.height:
            _write_atomic(errors, err_path)
        elif err_path.exists():  # left over from an earlier attempt at this chunk
            err_path.unlink()
        return ChunkResult(spec.index, spec.row_start, out.height, failed,
                           time.perf_counter() - started)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
