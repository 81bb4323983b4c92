"""``run_batch``: a batch job in one blocking call, without a running service.

(``courtside.process_batch_calculations`` is the mission's async function that submits to
the running service.) It runs a batch job and returns its results in one call, for notebooks and scripts. Pass a
``JobManager`` (or ``data_dir``) to keep the job and its results like any other job; without
one, the job runs in a temporary directory that is removed afterwards.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from courtside.batch.jobs import JobManager
from courtside.batch.progress import ProgressCallback
from courtside.model import BatchJob, BatchStatus, DataError


@dataclass(slots=True)
class BatchResult:
    """A finished job with its results.

    Attributes:
        job: the job (status, counts, timings, error).
        results: ``row_index`` (position in the input), the kept input columns, one Float64
            column per formula; every input row, unless the job was cancelled, timed out or
            failed, when it holds the finished chunks' rows.
        errors: one row per null result: row_index, formula, reason.
    """

    job: BatchJob
    results: pl.DataFrame
    errors: pl.DataFrame

    @property
    def complete(self) -> bool:
        """True when every row was processed."""
        return self.job.status is BatchStatus.COMPLETED


def run_batch(
    data: Any,
    formulas: str | Sequence[str],
    *,
    executor: str = "sequential",
    batch_size: int | None = None,
    timeout_seconds: float | None = None,
    progress_callback: ProgressCallback | None = None,
    preset: str | None = None,
    define: Any = None,
    mapping: Any = None,
    context: Any = None,
    cluster: Any = None,
    workers: int | None = None,
    manager: JobManager | None = None,
    data_dir: str | Path | None = None,
) -> BatchResult:
    """Compute ``formulas`` over ``data`` in chunks and return every row's values.

    Args:
        data: a Polars or pandas DataFrame, a file, folder or glob (CSV, Parquet, JSON,
            NDJSON), a list of them, a ``QuerySource(url, "SELECT ...")`` or a
            ``ConfiguredSource("sync-name")`` (a stored sync, read once).
        formulas: formula ids (``["TS_PCT", "PER"]`` or ``"TS_PCT,PER"``).
        executor: ``sequential`` (one chunk at a time, bounded memory), ``parallel`` (all
            local cores) or ``dask`` (``cluster``: a scheduler address, a Client, a cluster;
            None starts a LocalCluster).
        batch_size: rows per chunk; chosen from the data and the free memory when None.
        timeout_seconds: the job fails with the reason once this is exceeded (checked between
            chunks); the finished chunks' results are still returned.
        progress_callback: called with a ``ProgressEvent`` after each chunk.
        preset, define, mapping, context: as for ``courtside.compute``; the context is
            derived once over the whole input, so chunked values equal a single ``compute``.
        manager, data_dir: keep the job (listed by ``courtside batch list``); by default the
            job is temporary.

    Returns:
        A ``BatchResult``. Raises ``DataError`` when the job failed before computing any row
        (an unreadable input, an unknown formula), since there is nothing to return.
    """
    options = dict(executor=executor, batch_size=batch_size, timeout_seconds=timeout_seconds,
                   progress_callback=progress_callback, preset=preset, define=define,
                   mapping=mapping, context=context, cluster=cluster, workers=workers)
    if manager is None and data_dir is None:
        with tempfile.TemporaryDirectory(prefix="courtside-batch-") as tmp:
            temp = JobManager(f"sqlite:///{Path(tmp) / 'jobs.db'}", tmp, recover=False)
            try:
                return _run(temp, data, formulas, **options)
            finally:
                temp.close()
    owned = manager is None
    manager = manager or JobManager(data_dir=data_dir)
    try:
        return _run(manager, data, formulas, **options)
    finally:
        if owned:
            manager.close()


def _run(manager: JobManager, data: Any, formulas: str | Sequence[str], **kwargs: Any
         ) -> BatchResult:
    job = manager.submit(data, formulas, wait=True, **kwargs)
    if job.status is BatchStatus.FAILED and job.processed_rows == 0:
        raise DataError(job.error or "the batch job failed")
    results = manager.results(job.job_id)
    errors = manager.errors(job.job_id)
    assert isinstance(results, pl.DataFrame) and isinstance(errors, pl.DataFrame)
    return BatchResult(job, results, errors)


async def arun_batch(data: Any, formulas: str | Sequence[str], **kwargs: Any) -> BatchResult:
    """``run_batch`` for async code: the job runs in a worker thread, so the
    event loop stays free (progress callbacks are called from that thread)."""
    return await asyncio.to_thread(run_batch, data, formulas, **kwargs)
