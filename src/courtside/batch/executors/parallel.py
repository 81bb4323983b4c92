"""Parallel: every local core.

One in-memory frame: a thread pool over its chunks (Polars releases the GIL, so threads run
on all cores without copying the frame). Files: a pool of spawned processes, each reading its
own chunk (a slice of a file), so nothing large crosses a process boundary.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
from collections.abc import Sequence
from dataclasses import replace

from courtside.batch.chunks import ChunkResult, ChunkSpec, ChunkTask
from courtside.batch.executors.base import RunControl, drive_futures
from courtside.batch.inputs import Partition


def _run_chunk(task: ChunkTask, spec: ChunkSpec) -> ChunkResult:
    return task.read_and_run(spec)


# The task of the job a pool process serves, installed once by the pool's initializer: the
# context (team totals of a whole history) is pickled once per process, not once per chunk.
_worker_task: ChunkTask | None = None


def _install(task: ChunkTask) -> None:
    global _worker_task
    _worker_task = task


def _run_installed(spec: ChunkSpec) -> ChunkResult:
    assert _worker_task is not None, "pool process started without its task"
    return _worker_task.read_and_run(spec)


def files_only(task: ChunkTask) -> ChunkTask:
    """The task without in-memory frames (it is pickled to other processes)."""
    parts = [Partition(fmt=p.fmt, rows=p.rows, path=p.path) for p in task.partitions]
    return replace(task, partitions=parts)


class ParallelExecutor:
    """Runs chunks on all local cores."""

    name = "parallel"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)

    def run(self, task: ChunkTask, chunks: Sequence[ChunkSpec], batch_size: int,
            control: RunControl) -> None:
        """Run the pending chunks, ``workers`` at a time."""
        if not chunks:
            return
        in_memory = any(task.partitions[c.partition].frame is not None for c in chunks)
        if in_memory:
            with cf.ThreadPoolExecutor(self.workers, thread_name_prefix="courtside-batch") as pool:
                drive_futures(task, chunks, control, lambda s: pool.submit(_run_chunk, task, s),
                              max_in_flight=self.workers * 2)
            return
        shipped = files_only(task)
        # spawn, not fork: Polars' thread pool does not survive a fork.
        context = multiprocessing.get_context("spawn")
        workers = min(self.workers, len(chunks))
        with cf.ProcessPoolExecutor(workers, mp_context=context, initializer=_install,
                                    initargs=(shipped,)) as pool:
            drive_futures(task, chunks, control, lambda s: pool.submit(_run_installed, s),
                          max_in_flight=workers * 2)
