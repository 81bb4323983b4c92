"""Choosing the batch size from the row count, the row width and the available memory."""

from __future__ import annotations

import math

import polars as pl
import psutil

from courtside.batch.inputs import BatchInput, read_slice

MIN_BATCH = 1_000
MAX_BATCH = 1_000_000
# One chunk holds its input, the formula intermediates and its output at once: about this many
# times the input's own size (measured on the catalog's per-game formulas).
WORKING_SET_FACTOR = 4
# Share of the available memory all chunks in flight may use together.
MEMORY_SHARE = 0.10
# Parallel executors want a few chunks per worker so that no worker idles at the end.
CHUNKS_PER_WORKER = 4


def row_bytes(source: BatchInput, sample_rows: int = 1_000) -> float:
    """Bytes per row in memory, measured on a sample of the first partition."""
    for part in source.partitions:
        if part.rows:
            sample: pl.DataFrame = read_slice(part, 0, min(sample_rows, part.rows))
            if sample.height:
                return max(sample.estimated_size() / sample.height, 8.0)
    return 8.0


def choose_batch_size(total_rows: int, bytes_per_row: float, *, workers: int = 1,
                      available_bytes: int | None = None) -> int:
    """Rows per chunk: as large as memory allows (fewer, cheaper chunks), yet small enough
    that ``workers`` chunks in flight stay within a share of the available memory, and that
    parallel executors get several chunks per worker."""
    if available_bytes is None:
        available_bytes = psutil.virtual_memory().available
    budget = available_bytes * MEMORY_SHARE / max(workers, 1)
    size = int(budget // max(bytes_per_row * WORKING_SET_FACTOR, 1.0))
    if workers > 1 and total_rows:
        size = min(size, math.ceil(total_rows / (workers * CHUNKS_PER_WORKER)))
    size = max(MIN_BATCH, min(MAX_BATCH, size))
    return max(1, min(size, total_rows)) if total_rows else size
