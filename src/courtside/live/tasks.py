"""Every real-time calculation as a :class:`~courtside.model.RealtimeTask`.

``TaskTracker.run`` creates the task (PENDING), marks it IN_PROGRESS, awaits the work under
the task's timeout and ends it COMPLETED, FAILED (the error's message kept) or TIMEOUT. Work that
is synchronous cannot be interrupted, so it is also checked after the fact: a calculation
that finished past its budget still ends as TIMEOUT (its value is dropped). The tracker keeps
the most recent tasks (bounded), counts by status and recent durations for percentiles.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from courtside.model import CalculationStatus, ConfigError, CourtsideError, RealtimeTask, utcnow

__all__ = ["TaskTracker", "percentile"]


def percentile(sorted_values: list[float], q: float) -> float | None:
    """The q-quantile (0..1) of already sorted values by nearest rank, or None when empty."""
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


class TaskTracker:
    """Runs and remembers real-time tasks.

    Args:
        keep: how many finished tasks to keep for ``recent``/``get``.
        latency_window: how many recent durations to keep for percentiles.
    """

    def __init__(self, *, keep: int = 1000, latency_window: int = 10_000) -> None:
        self._ids = itertools.count(1)
        self._recent: deque[RealtimeTask] = deque(maxlen=keep)
        self._active: dict[str, RealtimeTask] = {}
        self.counts: Counter[CalculationStatus] = Counter()
        self.durations_ms: deque[float] = deque(maxlen=latency_window)
        self.observers: list[Callable[[RealtimeTask, float], None]] = []
        # the exception class of each recent FAILED task, so interfaces pick a status by type
        self._error_types: dict[str, type[Exception]] = {}
        self._keep = keep

    def new(self, formula_id: str, *, entity: str | None, timeout_seconds: float) -> RealtimeTask:
        """A PENDING task (not yet counted)."""
        if not timeout_seconds or timeout_seconds <= 0:
            raise ConfigError(f"timeout_seconds must be positive, got {timeout_seconds!r}")
        return RealtimeTask(task_id=f"rt-{next(self._ids)}", formula_id=formula_id,
                            entity=entity, timeout_seconds=float(timeout_seconds))

    async def run(self, task: RealtimeTask,
                  work: Callable[[RealtimeTask], Awaitable[float | None]]) -> RealtimeTask:
        """Run ``work(task)`` within the task's timeout and record the outcome.

        ``work`` returns the value and may set ``cache_hit``, ``data_version`` and
        ``formula_version`` on the task. Never raises for a failing calculation: the task
        carries the status and error. Cancellation of the caller propagates.
        """
        started = self._begin(task)
        try:
            async with asyncio.timeout(task.timeout_seconds):
                value = await work(task)
        except TimeoutError:
            self._timeout(task, time.perf_counter() - started, task.error)
        except Exception as exc:
            self._failed(task, exc)
        else:
            self._completed(task, value, started)
        return self._end(task, started)

    def run_sync(self, task: RealtimeTask,
                 work: Callable[[RealtimeTask], float | None]) -> RealtimeTask:
        """``run`` for work that never waits (no timer needed: it cannot be interrupted, so
        only an overrun is checked, after the fact)."""
        started = self._begin(task)
        try:
            value = work(task)
        except Exception as exc:
            self._failed(task, exc)
        else:
            self._completed(task, value, started)
        return self._end(task, started)

    def _begin(self, task: RealtimeTask) -> float:
        task.started_at = utcnow()
        task.status = CalculationStatus.IN_PROGRESS
        self._active[task.task_id] = task
        return time.perf_counter()

    def _completed(self, task: RealtimeTask, value: float | None, started: float) -> None:
        elapsed = time.perf_counter() - started
        if elapsed > task.timeout_seconds:
            self._timeout(task, elapsed)
        else:
            task.result = value
            task.status = CalculationStatus.COMPLETED

    def _failed(self, task: RealtimeTask, exc: Exception) -> None:
        task.status = CalculationStatus.FAILED
        # One broken calculation must not take the service down: every error ends the task.
        task.error = str(exc) if isinstance(exc, CourtsideError) else \
            f"{type(exc).__name__}: {exc}"
        self.note_error(task, type(exc))

    def note_error(self, task: RealtimeTask, kind: type[Exception]) -> None:
        """Remember the exception class a task failed with (the latest ``keep`` tasks)."""
        self._error_types[task.task_id] = kind
        while len(self._error_types) > self._keep:
            del self._error_types[next(iter(self._error_types))]

    def error_type(self, task: RealtimeTask) -> type[Exception] | None:
        """The exception class a recent FAILED task failed with (None when unknown)."""
        return self._error_types.get(task.task_id)

    def _end(self, task: RealtimeTask, started: float) -> RealtimeTask:
        self._active.pop(task.task_id, None)
        elapsed = time.perf_counter() - started
        # completed_at from the monotonic clock, so duration_ms is exact
        task.completed_at = task.started_at + timedelta(seconds=elapsed)
        self._finish(task, elapsed)
        return task

    def record(self, task: RealtimeTask, elapsed: float) -> RealtimeTask:
        """Record a task finished by the caller (the fast path for cache hits)."""
        self._finish(task, elapsed)
        return task

    def _timeout(self, task: RealtimeTask, elapsed: float, reason: str | None = None) -> None:
        task.status = CalculationStatus.TIMEOUT
        task.result = None
        task.error = (f"{task.formula_id}: no result within {task.timeout_seconds:g} s "
                      f"(took {elapsed:.3f} s)" + (f": {reason}" if reason else "")
                      + "; raise timeout_seconds or check the data source")

    def _finish(self, task: RealtimeTask, elapsed: float) -> None:
        self.counts[task.status] += 1
        self.durations_ms.append(elapsed * 1000.0)
        self._recent.append(task)
        for observe in self.observers:
            observe(task, elapsed)

    def get(self, task_id: str) -> RealtimeTask | None:
        """A recent or running task by id."""
        if task_id in self._active:
            return self._active[task_id]
        return next((t for t in reversed(self._recent) if t.task_id == task_id), None)

    def recent(self, limit: int = 50) -> list[RealtimeTask]:
        """The most recent finished tasks, newest first."""
        return list(itertools.islice(reversed(self._recent), limit))

    def active(self) -> list[RealtimeTask]:
        """Tasks in progress."""
        return list(self._active.values())

    def count_by_status(self) -> dict[str, int]:
        """Counts of finished tasks by status (every status present), plus ``in_progress``."""
        out = {s.value: self.counts.get(s, 0) for s in CalculationStatus}
        out[CalculationStatus.IN_PROGRESS.value] = len(self._active)
        return out

    def latency_percentiles(self) -> dict[str, float | None]:
        """p50/p95/p99 of recent durations in milliseconds."""
        values = sorted(self.durations_ms)
        return {"p50": percentile(values, 0.50), "p95": percentile(values, 0.95),
                "p99": percentile(values, 0.99)}

    def snapshot(self) -> dict[str, Any]:
        """Counts and percentiles, JSON-ready."""
        return {"counts": self.count_by_status(), "latency_ms": self.latency_percentiles()}
