"""What every executor implements, and the loop shared by the pool-based ones."""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from courtside.batch.chunks import ChunkFailed, ChunkResult, ChunkSpec, ChunkTask


class RunControl(Protocol):
    """The job's side of a run: asked before each chunk starts, told when one finishes."""

    def stop_reason(self) -> str | None:
        """``cancelled`` or ``timeout`` when the job must stop, else None."""

    def chunk_done(self, result: ChunkResult) -> None:
        """Record a finished chunk (called in the job's thread)."""


class Executor(Protocol):
    """Runs chunks; returns when all are done or the control says stop; raises ChunkFailed."""

    name: str

    def run(self, task: ChunkTask, chunks: Sequence[ChunkSpec], batch_size: int,
            control: RunControl) -> None:
        """Run ``chunks`` (the pending ones, in order)."""


def chunk_error(task: ChunkTask, spec: ChunkSpec, exc: BaseException) -> ChunkFailed:
    """A ChunkFailed naming the chunk, its rows and file, and the cause."""
    part = task.partitions[spec.partition] if spec.partition < len(task.partitions) else None
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if first.startswith(spec.describe(part)):  # already names the chunk (a read error)
        return ChunkFailed(spec, first)
    return ChunkFailed(spec, f"{spec.describe(part)} failed: {type(exc).__name__}: {first}")


def drive_futures(task: ChunkTask, chunks: Sequence[ChunkSpec], control: RunControl,
                  submit: Callable[[ChunkSpec], Any], max_in_flight: int,
                  poll_seconds: float = 0.2) -> None:
    """Keep at most ``max_in_flight`` chunks running; stop submitting when told to.

    Bounding what is in flight bounds memory and makes a cancel take effect within one chunk:
    chunks not yet started are never started, chunks running are allowed to finish and are
    recorded.
    """
    todo: Iterator[ChunkSpec] = iter(chunks)
    running: dict[cf.Future[ChunkResult], ChunkSpec] = {}
    failure: ChunkFailed | None = None
    stopping = False
    while True:
        while not stopping and failure is None and len(running) < max_in_flight:
            if control.stop_reason() is not None:
                stopping = True
                break
            spec = next(todo, None)
            if spec is None:
                break
            running[submit(spec)] = spec
        if not running:
            break
        done, _ = cf.wait(running, timeout=poll_seconds, return_when=cf.FIRST_COMPLETED)
        for future in done:
            spec = running.pop(future)
            try:
                result = future.result()
            except Exception as exc:
                if failure is None:
                    failure = chunk_error(task, spec, exc)
                    failure.__cause__ = exc  # executors tell a broken pool from a bad chunk
                continue
            control.chunk_done(result)
        if failure is not None or (not stopping and control.stop_reason() is not None):
            stopping = True
            for future in list(running):
                if future.cancel():
                    running.pop(future)
    if failure is not None:
        raise failure
