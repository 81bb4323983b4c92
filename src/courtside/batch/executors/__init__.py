"""Executors: how a job's chunks are run (sequential, parallel, dask).

Every executor runs the same ``ChunkTask`` on the same chunks, so results do not depend on the
executor; they differ only in where the chunks run.
"""

from __future__ import annotations

from typing import Any

from courtside.batch.executors.base import Executor, RunControl
from courtside.model import ConfigError

EXECUTORS = ("sequential", "parallel", "dask")

__all__ = ["EXECUTORS", "Executor", "RunControl", "make_executor", "workers_for"]


def workers_for(name: str, workers: int | None = None) -> int:
    """How many chunks run at once on this machine for an executor."""
    import os

    if name == "sequential":
        return 1
    return max(1, workers or os.cpu_count() or 1)


def make_executor(name: str, *, cluster: Any = None, workers: int | None = None) -> Executor:
    """The executor called ``name``; ``cluster`` (dask only) is an address, a Client or a cluster."""
    if name == "sequential":
        from courtside.batch.executors.sequential import SequentialExecutor

        return SequentialExecutor()
    if name == "parallel":
        from courtside.batch.executors.parallel import ParallelExecutor

        return ParallelExecutor(workers=workers)
    if name == "dask":
        from courtside.batch.executors.distributed import DaskExecutor

        return DaskExecutor(cluster=cluster, workers=workers)
    raise ConfigError(f"unknown executor {name!r}; use one of {', '.join(EXECUTORS)}")
