"""Running one job's pending chunks: status, counters, cancellation, timeout, heartbeat.

The runner is the only place that moves a job between PROCESSING and its final status. Every
finished chunk is recorded in the database as it finishes, so whatever stops the run (cancel,
timeout, a failing chunk, a killed process) the finished chunks stay, and ``resume`` redoes
only the others.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from courtside.batch.chunks import ChunkFailed, ChunkResult, ChunkSpec, ChunkTask
from courtside.batch.executors import Executor
from courtside.batch.progress import ProgressCallback, ProgressTracker, Publish
from courtside.model import BatchJob, BatchStatus, CourtsideError, utcnow
from courtside.storage.jobs import JobStore

CANCELLED = "cancelled"
TIMEOUT = "timeout"
# How often the database is asked whether another process requested a cancel.
CANCEL_POLL_SECONDS = 0.5
HEARTBEAT_SECONDS = 10.0


@dataclass(slots=True)
class _Control:
    store: JobStore
    job_id: str
    tracker: ProgressTracker
    cancel_event: threading.Event
    timeout_seconds: float | None
    started: float = field(default_factory=time.monotonic)
    reason: str | None = None
    _last_poll: float = 0.0

    def stop_reason(self) -> str | None:
        if self.reason is not None:
            return self.reason
        now = time.monotonic()
        if self.cancel_event.is_set():
            self.reason = CANCELLED
        elif self.timeout_seconds is not None and now - self.started > self.timeout_seconds:
            self.reason = TIMEOUT
        elif now - self._last_poll >= CANCEL_POLL_SECONDS:
            self._last_poll = now
            if self.store.is_cancel_requested(self.job_id):
                self.reason = CANCELLED
        return self.reason

    def chunk_done(self, result: ChunkResult) -> None:
        self.store.record_chunk(self.job_id, result.index, result.row_start, result.rows,
                                result.failed_rows)
        self.tracker.chunk_done(result.rows, result.failed_rows)


def _heartbeat(store: JobStore, job_id: str, stop: threading.Event) -> None:
    # A separate thread, so a long chunk does not make the job look dead to other processes.
    while not stop.wait(HEARTBEAT_SECONDS):
        try:
            store.heartbeat(job_id)
        except Exception:  # a missed heartbeat is retried on the next tick
            continue


def run_chunks(store: JobStore, job_id: str, task: ChunkTask, chunks: Sequence[ChunkSpec],
               executor: Executor, *, batch_size: int, cancel_event: threading.Event,
               timeout_seconds: float | None, callbacks: list[ProgressCallback],
               publish: Publish | None, started: float | None = None) -> BatchJob:
    """Run the chunks not finished yet and leave the job in its final status.

    ``chunks`` is the whole plan; ``started`` (monotonic) is when the job's run began, so the
    timeout also covers reading the input and deriving the context.
    """
    store.recount(job_id)
    finished = store.finished_chunks(job_id)
    pending = [c for c in chunks if c.index not in finished]
    job = store.get(job_id).job
    total_rows = sum(c.length for c in chunks)
    store.update(job_id, status=BatchStatus.PROCESSING, batch_size=batch_size,
                 chunks_total=len(chunks), total_rows=total_rows, error=None,
                 completed_at=None, started_at=job.started_at or utcnow())
    tracker = ProgressTracker(job_id, total_rows=total_rows, chunks_total=len(chunks),
                              processed_rows=job.processed_rows, failed_rows=job.failed_rows,
                              chunks_done=job.chunks_done, callbacks=callbacks, publish=publish)
    control = _Control(store, job_id, tracker, cancel_event, timeout_seconds)
    if started is not None:
        control.started = started
    tracker.emit(BatchStatus.PROCESSING)
    stop_beat = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(store, job_id, stop_beat), daemon=True,
                            name=f"courtside-batch-heartbeat-{job_id}")
    beat.start()
    failure: str | None = None
    try:
        executor.run(task, pending, batch_size, control)
    except KeyboardInterrupt:
        # Ctrl-C can surface here rather than in the main thread: Polars raises it in
        # whichever thread runs a query. It is the cancel the main thread asks for too.
        cancel_event.set()
        control.reason = CANCELLED
    except (ChunkFailed, CourtsideError) as exc:  # messages that say what to fix
        failure = str(exc)
    except Exception as exc:
        failure = f"{type(exc).__name__}: {exc}"
    finally:
        stop_beat.set()
        beat.join()
    return finish(store, job_id, tracker, failure=failure, reason=control.reason,
                  timeout_seconds=timeout_seconds)


def finish(store: JobStore, job_id: str, tracker: ProgressTracker | None, *,
           failure: str | None, reason: str | None = None,
           timeout_seconds: float | None = None) -> BatchJob:
    """Set the final status and say what was kept."""
    store.recount(job_id)
    job = store.get(job_id).job
    kept = (f"{job.chunks_done} of {job.chunks_total} chunks ({job.processed_rows} of "
            f"{job.total_rows} rows) finished; their results are kept "
            f"(`courtside batch results {job_id}`) and `courtside batch resume {job_id}` "
            "continues from there")
    if failure is not None and job.chunks_total == 0:
        status, error = BatchStatus.FAILED, failure  # failed before any chunk was planned
    elif failure is not None:
        status, error = BatchStatus.FAILED, f"{failure}; {kept}"
    elif job.chunks_done >= job.chunks_total and (job.chunks_total or reason is None):
        # No chunk planned counts as all done only for a run that planned an empty input,
        # not for a job stopped before it planned any (a cancelled job of a dead process).
        status, error = BatchStatus.COMPLETED, None
    elif reason == TIMEOUT:
        status, error = BatchStatus.FAILED, f"timed out after {timeout_seconds:g} s; {kept}"
    elif reason == CANCELLED:
        status, error = BatchStatus.CANCELLED, f"cancelled; {kept}"
    else:
        status, error = BatchStatus.FAILED, f"stopped before every chunk ran; {kept}"
    store.update(job_id, status=status, error=error, completed_at=utcnow(),
                 cancel_requested=False)
    if tracker is not None:
        tracker.emit(status, error)
    return store.get(job_id).job
