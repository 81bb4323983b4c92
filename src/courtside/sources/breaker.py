"""A circuit breaker: after repeated failures, stop calling a host for a while.

closed (calls go through) -> open after ``failure_threshold`` consecutive failures (calls fail
fast with :class:`CircuitOpenError`) -> half-open once ``reset_timeout`` has passed (one trial
call) -> closed again on its success, open again on its failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

from courtside.sources.errors import CircuitOpenError

__all__ = ["BreakerState", "CircuitBreaker"]


class BreakerState(StrEnum):
    """Where a breaker is."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Counts consecutive failures of one target and fails fast while it is open."""

    def __init__(self, name: str = "", failure_threshold: int = 5, reset_timeout: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> BreakerState:
        """The current state (open turns half-open by itself once the timeout passed)."""
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at >= self.reset_timeout:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    @property
    def failures(self) -> int:
        """Consecutive failures counted so far."""
        return self._failures

    def before_call(self) -> None:
        """Raise :class:`CircuitOpenError` unless a call may go through now."""
        state = self.state
        if state is BreakerState.CLOSED:
            return
        if state is BreakerState.HALF_OPEN and not self._trial_running:
            self._trial_running = True
            return
        assert self._opened_at is not None
        wait = max(0.0, self.reset_timeout - (self._clock() - self._opened_at))
        raise CircuitOpenError(
            f"circuit breaker {self.name or ''} is open after {self._failures} consecutive "
            f"failures; no request sent, next trial in {wait:.1f}s",
            retry_after=wait)

    def record_success(self) -> None:
        """A call succeeded: close the breaker."""
        self._failures = 0
        self._opened_at = None
        self._trial_running = False

    def record_abandoned(self) -> None:
        """A call ended without an outcome (cancelled): free the half-open trial slot.

        Without this a trial cancelled by a caller's timeout would keep the breaker
        half-open with its one slot taken, refusing every call from then on.
        """
        self._trial_running = False

    def record_failure(self) -> None:
        """A call failed: count it, and open (or re-open) when the threshold is reached."""
        self._failures += 1
        was_trial = self._trial_running
        self._trial_running = False
        if was_trial or self._failures >= self.failure_threshold:
            self._opened_at = self._clock()
