"""A small real implementation of ``OptimisationTarget`` whose measured figures really change.

It keeps a TTL result cache in front of a computation that costs real CPU time, processes
batches in chunks that each carry a fixed real overhead, and runs syncs on intervals. The
clock is the time of the calls it is given, so a workload can replay recorded usage.
"""

from __future__ import annotations

import math
import time


def _work(n: int) -> int:
    return sum(i * i for i in range(n))


class SmallService:
    def __init__(self, *, ttl: float = 30.0, batch_size: int = 500,
                 sync_intervals: dict[str, float] | None = None, max_batch: int = 1_000_000) -> None:
        self.ttl = ttl
        self.batch_size = batch_size
        self.max_batch = max_batch
        self.sync_intervals = dict(sync_intervals or {})
        self.now = 0.0
        self.cache: dict[str, float] = {}
        self._reset()

    def _reset(self) -> None:
        self.hits = self.misses = self.chunks = self.rows = 0
        self.latencies: list[float] = []

    # -- what the service does
    def calculate(self, formula: str, at: float) -> None:
        self.now = at
        t0 = time.perf_counter()
        stored = self.cache.get(formula)
        if stored is not None and at - stored < self.ttl:
            self.hits += 1
        else:
            self.misses += 1
            _work(30_000)  # the formula's real cost
            self.cache[formula] = at
        self.latencies.append((time.perf_counter() - t0) * 1000)

    def run_batch(self, rows: int) -> None:
        for _ in range(math.ceil(rows / self.batch_size)):
            _work(2_000)  # per-chunk overhead
            self.chunks += 1
        self.rows += rows

    # -- OptimisationTarget
    def warm_cache(self, formula_ids: list[str]) -> None:
        for f in formula_ids:
            _work(30_000)
            self.cache[f] = self.now

    def set_cache_ttl(self, seconds: float) -> None:
        self.ttl = seconds

    def set_batch_size(self, n: int) -> None:
        if n > self.max_batch:
            raise ValueError(f"batch size {n} is above this service's limit of {self.max_batch}")
        self.batch_size = n

    def set_sync_interval(self, sync_id: str, seconds: float) -> None:
        if sync_id not in self.sync_intervals:
            raise KeyError(f"no sync {sync_id!r}")
        self.sync_intervals[sync_id] = seconds

    def measure(self) -> dict[str, float]:
        """Figures of the work done since the previous measure, then start counting afresh."""
        lookups = self.hits + self.misses
        out = {
            "cache_hit_rate": self.hits / lookups if lookups else 0.0,
            "mean_latency_ms": sum(self.latencies) / len(self.latencies) if self.latencies else 0.0,
            "cache_ttl_seconds": self.ttl,
            "batch_size": self.batch_size,
            "batch_chunks": self.chunks,
            "sync_runs_per_hour": sum(3600 / s for s in self.sync_intervals.values()),
        }
        self._reset()
        return out
