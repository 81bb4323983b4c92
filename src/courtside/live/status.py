"""A service's measured figures as the :class:`~courtside.model.PerformanceMetrics` it reports.

Read from where they are kept: the task tracker (counts, latency percentiles), the result
cache, the live engine, the bus and the Prometheus counters (drops, sync runs).
"""

from __future__ import annotations

from typing import Any

from courtside.live.bus import Bus
from courtside.live.cache import ResultCache
from courtside.live.engine import LiveEngine
from courtside.live.metrics import LiveMetrics
from courtside.live.tasks import TaskTracker
from courtside.model import CalculationStatus, PerformanceMetrics

__all__ = ["performance"]


def performance(tasks: TaskTracker, cache: ResultCache, engine: LiveEngine, bus: Bus,
                metrics: LiveMetrics) -> PerformanceMetrics:
    """The figures right now."""
    counts = tasks.count_by_status()
    lat = tasks.latency_percentiles()
    stats = cache.stats
    return PerformanceMetrics(
        calculations_total=sum(v for k, v in counts.items()
                               if k != CalculationStatus.IN_PROGRESS.value),
        calculations_failed=counts[CalculationStatus.FAILED.value],
        calculations_timeout=counts[CalculationStatus.TIMEOUT.value],
        cache_hits=stats.hits, cache_misses=stats.misses,
        latency_p50_ms=lat["p50"], latency_p95_ms=lat["p95"], latency_p99_ms=lat["p99"],
        updates_published=engine.updates_published,
        messages_dropped=int(_sum_counter(metrics.messages_dropped)),
        active_subscribers=bus.subscriber_count(),
        queue_depth=int(metrics.queue_depth._value.get()),
        syncs_total=int(_sum_counter(metrics.sync_runs)),
        sync_failures=int(_sum_counter(metrics.sync_runs, outcome="failure")),
    )


def _sum_counter(counter: Any, **labels: str) -> float:
    """A counter's total over the label values matching ``labels``."""
    total = 0.0
    for metric in counter.collect():
        for sample in metric.samples:
            if not sample.name.endswith("_total"):
                continue
            if all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total
