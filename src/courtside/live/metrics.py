"""Prometheus metrics of one service instance, in its own ``CollectorRegistry``.

No global registry: two services in one process (tests, benchmarks) never share counters.
The API exposes ``LiveMetrics.registry`` at ``/metrics`` with
``prometheus_client.generate_latest(registry)``.

Who updates what:

- the service and its calculator (``courtside.live.calculator``): ``calculations``
  (formula, status), ``calculation_seconds`` (path ``computed``/``cached``),
  ``cache_hits``/``cache_misses``, ``updates_published`` (topic kind), ``sync_runs`` (source,
  outcome: updates the syncs delivered), ``games_tracked``, ``cache_entries``; and, read from
  the scheduler at scrape time, ``source_up`` (1 ok, 0.5 degraded, 0 down),
  ``source_stale_seconds`` and ``source_consecutive_failures`` per source, and
  ``recomputations`` (formula evaluations by the live engine, from its count) and
  ``recompute_seconds`` (the engine's latency from a change to its updates published);
- the WebSocket/MCP layer: ``subscribers`` (interface), ``queue_depth`` (deepest client queue),
  ``messages_dropped`` (reason: ``coalesced``, ``closed_slow``...), ``messages_sent``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

__all__ = ["LATENCY_BUCKETS", "LiveMetrics"]

LATENCY_BUCKETS = (0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                   0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Seconds: calculations take microseconds when cached, up to the timeout when waiting on data."""


class LiveMetrics:
    """The metric objects, created in a fresh registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.calculations = Counter(
            "courtside_calculations", "Real-time calculations by formula and final status.",
            ["formula", "status"], registry=r)
        self.calculation_seconds = Histogram(
            "courtside_calculation_seconds", "Real-time calculation latency.",
            ["path"], buckets=LATENCY_BUCKETS, registry=r)
        self.recompute_seconds = Histogram(
            "courtside_recompute_seconds", "Live engine: from a change (snapshot or "
            "play-by-play action) to its updates published, per game.",
            buckets=LATENCY_BUCKETS, registry=r)
        self.cache_hits = Counter("courtside_cache_hits", "Result cache hits.", registry=r)
        self.cache_misses = Counter("courtside_cache_misses", "Result cache misses.", registry=r)
        self.cache_entries = Gauge("courtside_cache_entries", "Entries in the result cache.",
                                   registry=r)
        self.updates_published = Counter(
            "courtside_updates_published", "Entity updates published on the bus.",
            ["kind"], registry=r)
        self.games_tracked = Gauge("courtside_games_tracked", "Games the live engine tracks.",
                                   registry=r)
        self.sync_runs = Counter("courtside_sync_runs", "Sync runs by source and outcome.",
                                 ["source", "outcome"], registry=r)
        self.subscribers = Gauge("courtside_subscribers", "Connected subscribers.",
                                 ["interface"], registry=r)
        self.queue_depth = Gauge("courtside_queue_depth",
                                 "Messages waiting in the deepest subscriber queue.", registry=r)
        self.messages_sent = Counter("courtside_messages_sent",
                                     "Messages sent to subscribers.", registry=r)
        self.messages_dropped = Counter(
            "courtside_messages_dropped", "Messages coalesced away or lost to slow clients.",
            ["reason"], registry=r)

    def watch_sources(self, sources: Callable[[], list[dict[str, Any]]]) -> None:
        """Expose the sources' health (``sources()`` as ``service.sources``) at scrape time."""
        self.registry.register(_SourceHealth(sources))

    def watch_engine(self, evaluations: Callable[[], int]) -> None:
        """Expose the live engine's formula evaluations (read at scrape time)."""
        self.registry.register(_Evaluations(evaluations))


class _Evaluations:
    def __init__(self, evaluations: Callable[[], int]) -> None:
        self.evaluations = evaluations

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily("courtside_recomputations",
                                  "Formula evaluations by the live engine.",
                                  value=float(self.evaluations()))


_UP = {"ok": 1.0, "degraded": 0.5, "down": 0.0}


class _SourceHealth:
    """A collector reading source health when scraped, so it is never out of date."""

    def __init__(self, sources: Callable[[], list[dict[str, Any]]]) -> None:
        self.sources = sources

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("courtside_source_up",
                               "1 when the source is healthy, 0.5 degraded, 0 down.",
                               labels=["source"])
        stale = GaugeMetricFamily("courtside_source_stale_seconds",
                                  "Age of the data served while the source fails.",
                                  labels=["source"])
        failures = GaugeMetricFamily("courtside_source_consecutive_failures",
                                     "Failed runs since the last success.", labels=["source"])
        for source in self.sources():
            health = source.get("health") or {}
            name = str(source.get("name"))
            up.add_metric([name], _UP.get(health.get("state", "ok"), 0.0))
            stale.add_metric([name], float(health.get("stale_seconds") or 0.0))
            failures.add_metric([name], float(health.get("consecutive_failures") or 0))
        yield up
        yield stale
        yield failures
