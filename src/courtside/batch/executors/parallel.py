"""Parallel: every local core.

One in-memory frame: a thread pool over its chunks (Polars releases the GIL, so threads run
on all cores without copying the frame). Files: a pool of spawned processes, each reading its
own chunk (a slice of a file), so nothing large crosses a process boundary.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import sys
from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace

from courtside.batch.chunks import ChunkFailed, ChunkResult, ChunkSpec, ChunkTask
from courtside.batch.executors.base import RunControl, drive_futures
from courtside.batch.inputs import Partition
from courtside.model import ConfigError

GUARD = ('put the code that runs the batch under `if __name__ == "__main__":`. The parallel '
         "executor's worker processes are started with multiprocessing's 'spawn' method, "
         "which imports the main script again in each of them, so an unguarded call starts "
         "the job again inside every worker instead of computing its chunks")


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
        if getattr(multiprocessing.current_process(), "_inheriting", False):
            # A worker importing an unguarded script (multiprocessing's own flag for it).
            raise ConfigError(f"a parallel batch job was started while a worker process "
                              f"imported the main script: {GUARD}")
        shipped = files_only(task)
        # spawn, not fork: Polars' thread pool does not survive a fork.
        context = multiprocessing.get_context("spawn")
        workers = min(self.workers, len(chunks))
        try:
            with cf.ProcessPoolExecutor(workers, mp_context=context, initializer=_install,
                                        initargs=(shipped,)) as pool:
                drive_futures(task, chunks, control, lambda s: pool.submit(_run_installed, s),
                              max_in_flight=workers * 2)
        except BrokenProcessPool as exc:  # raised by a submit once the pool broke
            raise ConfigError(broken_pool_message()) from exc
        except ChunkFailed as exc:  # a chunk's future failed because the pool broke
            if isinstance(exc.__cause__, BrokenProcessPool):
                raise ConfigError(broken_pool_message()) from exc
            raise


def _main_is_a_script() -> bool:
    """Whether spawned workers import the main module again (a script or ``python -m
    module``; not an interactive session, ``-c``, nor a package's ``__main__``)."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name.endswith("__main__"):
        return False
    return getattr(main, "__file__", None) is not None


def broken_pool_message() -> str:
    """Why the worker processes of a parallel job ended abruptly, and what to do."""
    other = ("a worker process was killed (out of memory?): try fewer workers "
             "(--workers) or smaller chunks (--batch-size)")
    if _main_is_a_script():
        script = getattr(sys.modules["__main__"], "__file__", "the script")
        return (f"the parallel executor's worker processes ended abruptly (BrokenProcessPool)."
                f" When running it from a script ({script}), {GUARD}. Otherwise {other}")
    return (f"the parallel executor's worker processes ended abruptly (BrokenProcessPool): "
            f"{other}")
