"""Distributed: a Dask cluster by address, a Client or cluster object, or a LocalCluster.

Workers read their own chunks, so input files and the data directory must be at the same
paths on every worker (a shared filesystem) when the cluster spans machines. Chunks of an
in-memory frame are sent to the workers with the task.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import polars as pl

from courtside.batch.chunks import ChunkResult, ChunkSpec, ChunkTask
from courtside.batch.executors.base import RunControl, drive_futures
from courtside.batch.executors.parallel import files_only
from courtside.model import ConfigError


def _run_chunk(task: ChunkTask, spec: ChunkSpec, frame: pl.DataFrame | None) -> ChunkResult:
    if frame is None:
        return task.read_and_run(spec)
    return task.run(spec, frame)


class DaskExecutor:
    """Runs chunks as Dask tasks."""

    name = "dask"

    def __init__(self, cluster: Any = None, workers: int | None = None) -> None:
        self.cluster = cluster
        self.workers = workers

    @contextmanager
    def client(self) -> Iterator[Any]:
        """A Client for the configured cluster; a LocalCluster made here is closed after."""
        from distributed import Client, LocalCluster

        if isinstance(self.cluster, Client):
            yield self.cluster
            return
        if isinstance(self.cluster, str):
            try:
                client = Client(self.cluster, timeout="10s")
            except OSError as exc:
                raise ConfigError(f"cannot reach the Dask scheduler at {self.cluster}: {exc}; "
                                  "check the address (tcp://host:8786) and that it runs") from exc
            with client:
                yield client
            return
        if self.cluster is not None:
            with Client(self.cluster) as client:
                yield client
            return
        n = max(1, self.workers or os.cpu_count() or 1)
        with LocalCluster(n_workers=n, threads_per_worker=1, dashboard_address=":0") as local, \
                Client(local) as client:
            yield client

    def run(self, task: ChunkTask, chunks: Sequence[ChunkSpec], batch_size: int,
            control: RunControl) -> None:
        """Run the pending chunks on the cluster's workers."""
        if not chunks:
            return
        with self.client() as client:
            shipped = files_only(task)
            [task_future] = client.scatter([shipped], broadcast=True, hash=False)
            slots = max(1, sum(client.nthreads().values()))
            executor = client.get_executor(pure=False)

            def submit(spec: ChunkSpec) -> Any:
                part = task.partitions[spec.partition]
                frame = part.frame.slice(spec.offset, spec.length) if part.frame is not None else None
                return executor.submit(_run_chunk, task_future, spec, frame)

            drive_futures(task, chunks, control, submit, max_in_flight=slots * 2)
