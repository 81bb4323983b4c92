"""Health of one source: ok, degraded (failing or partial, serving the last good data) or
down (no data to serve, or failing for long)."""

from __future__ import annotations

from datetime import datetime

from courtside.model import HealthState, SourceHealth

__all__ = ["HealthTracker"]


class HealthTracker:
    """Updates a :class:`SourceHealth` from the outcome of each run."""

    def __init__(self, health: SourceHealth | None = None, down_after: int = 10) -> None:
        self.health = health or SourceHealth()
        self.down_after = down_after

    def success(self, now: datetime, problem: str | None = None,
                stale_since: datetime | None = None) -> SourceHealth:
        """A run delivered data; ``problem`` names parts that failed or were held."""
        h = self.health
        h.last_success_at = now
        h.consecutive_failures = 0
        if problem:
            h.state = HealthState.DEGRADED
            h.last_error, h.last_error_at = problem, now
            h.stale_seconds = (now - stale_since).total_seconds() if stale_since else None
        else:
            h.state = HealthState.OK
            h.stale_seconds = None
        return h

    def failure(self, now: datetime, error: str, last_good_at: datetime | None) -> SourceHealth:
        """A run delivered nothing; the last good data (if any) is served, aged."""
        h = self.health
        h.consecutive_failures += 1
        h.last_error, h.last_error_at = error, now
        if last_good_at is None or h.consecutive_failures >= self.down_after:
            h.state = HealthState.DOWN
        else:
            h.state = HealthState.DEGRADED
        h.stale_seconds = (now - last_good_at).total_seconds() if last_good_at else None
        return h
