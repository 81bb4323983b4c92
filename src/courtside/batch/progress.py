"""Progress of a running job: one event per finished chunk, with rows per second and an ETA.

Events go to the caller's callback and to a publish hook (``publish(topic, message)``) that the
service connects to the job's pub/sub topic ``jobs:<id>``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from courtside.model import BatchStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """Where a job is, sent after each finished chunk and when the job ends.

    Attributes:
        job_id: the job.
        status: the job's status (PROCESSING until the final event).
        processed_rows, failed_rows, total_rows: row counts over the whole job (a resumed job
            starts from the rows its earlier runs finished).
        chunks_done, chunks_total: chunk counts.
        elapsed_seconds: time since this run started.
        rows_per_second: rows finished by this run per second of this run.
        eta_seconds: the time left at that rate (None until a chunk has finished).
        message: the reason on the final event of a failed or cancelled job.
    """

    job_id: str
    status: BatchStatus
    processed_rows: int
    failed_rows: int
    total_rows: int
    chunks_done: int
    chunks_total: int
    elapsed_seconds: float
    rows_per_second: float | None
    eta_seconds: float | None
    message: str | None = None

    @property
    def fraction(self) -> float:
        """0.0 to 1.0."""
        return self.processed_rows / self.total_rows if self.total_rows else 1.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with ``type: "job_progress"`` for pub/sub consumers."""
        data = asdict(self)
        data["status"] = self.status.value
        data["type"] = "job_progress"
        return data


ProgressCallback = Callable[[ProgressEvent], None]
Publish = Callable[[str, dict[str, Any]], None]


def topic(job_id: str) -> str:
    """The pub/sub topic of a job."""
    return f"jobs:{job_id}"


class ProgressTracker:
    """Accumulates chunk results of one run and emits events."""

    def __init__(self, job_id: str, *, total_rows: int, chunks_total: int, processed_rows: int,
                 failed_rows: int, chunks_done: int,
                 callbacks: list[ProgressCallback] | None = None,
                 publish: Publish | None = None) -> None:
        self.job_id = job_id
        self.total_rows = total_rows
        self.chunks_total = chunks_total
        self.processed_rows = processed_rows
        self.failed_rows = failed_rows
        self.chunks_done = chunks_done
        self._start_rows = processed_rows
        self._started = time.monotonic()
        self._callbacks = callbacks or []
        self._publish = publish

    @property
    def elapsed(self) -> float:
        """Seconds since this run started."""
        return time.monotonic() - self._started

    def chunk_done(self, rows: int, failed_rows: int) -> ProgressEvent:
        """Count a finished chunk and emit an event."""
        self.processed_rows += rows
        self.failed_rows += failed_rows
        self.chunks_done += 1
        return self.emit(BatchStatus.PROCESSING)

    def event(self, status: BatchStatus, message: str | None = None) -> ProgressEvent:
        """The current state as an event (not emitted)."""
        elapsed = self.elapsed
        done_here = self.processed_rows - self._start_rows
        rate = done_here / elapsed if done_here and elapsed > 0 else None
        eta = (self.total_rows - self.processed_rows) / rate if rate else None
        return ProgressEvent(self.job_id, status, self.processed_rows, self.failed_rows,
                             self.total_rows, self.chunks_done, self.chunks_total, elapsed,
                             rate, eta, message)

    def emit(self, status: BatchStatus, message: str | None = None) -> ProgressEvent:
        """Send the current state to every callback and to the job's topic.

        A failing callback must not fail the job: its error is logged, because progress is
        advisory and the job's state is what matters.
        """
        event = self.event(status, message)
        for callback in self._callbacks:
            try:
                callback(event)
            except Exception:
                log.exception("progress callback of job %s failed", self.job_id)
        if self._publish is not None:
            try:
                self._publish(topic(self.job_id), event.to_dict())
            except Exception:
                log.exception("publishing progress of job %s failed", self.job_id)
        return event
