"""Tuning a running service from what it measured: recommendations, the safe ones applied.

Each rule reads the service's own figures (cache counts, task latencies and statuses, usage by
formula, bus drops, source health) and yields a recommendation with its evidence. Safe ones
(they cannot change a computed value, only when and how fast it is served) are applied when
asked:

- ``cache_capacity``: evictions while the hit rate is low -> a larger cache;
- ``cache_ttl``: entries expiring while still being asked for -> a longer TTL (safe because a
  data change invalidates by version, never by time);
- ``cache_warm``: the most used formulas computed ahead for every live entity;
- ``timeouts``: calculations timing out -> advice only (a longer budget hides a slow source);
- ``slow_subscribers``: dropped messages -> advice only (the WebSocket queue is the API's);
- ``sync_interval``: a failing source -> a longer interval, when the scheduler supports it.

Each applied action is measured: the figure it targets before and after a probe workload
replayed from the recent calculations.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from courtside.model import CalculationStatus

if TYPE_CHECKING:
    from courtside.service import RealTimeCalculationService

__all__ = ["Recommendation", "optimize"]

MAX_CACHE = 1_000_000
MAX_TTL = 3600.0
WARM_TOP = 5


@dataclass(slots=True)
class Recommendation:
    """One recommendation and, when applied, its effect."""

    id: str
    reason: str
    evidence: dict[str, Any]
    action: str
    safe: bool
    applied: bool = False
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"id": self.id, "reason": self.reason, "evidence": self.evidence,
                "action": self.action, "safe": self.safe, "applied": self.applied,
                "before": self.before, "after": self.after}


async def _probe(service: RealTimeCalculationService, limit: int = 200) -> dict[str, Any]:
    """Replay recent calculations (read-only) and measure hit rate and latency."""
    recent = [t for t in service.tasks.recent(limit) if t.status == CalculationStatus.COMPLETED]
    if not recent:
        return {"probe_calls": 0}
    hits = 0
    durations = []
    for task in recent:
        started = time.perf_counter()
        key_entity = task.entity
        if key_entity is None:
            continue
        probe = await service.calculate(task.formula_id, entity=key_entity,
                                        timeout_seconds=task.timeout_seconds)
        durations.append((time.perf_counter() - started) * 1000.0)
        hits += probe.cache_hit
    if not durations:
        return {"probe_calls": 0}
    durations.sort()
    return {"probe_calls": len(durations), "probe_hit_rate": hits / len(durations),
            "probe_p50_ms": durations[len(durations) // 2]}


async def optimize(service: RealTimeCalculationService, *, apply: bool = True) -> dict[str, Any]:
    """Recommendations computed from the service's metrics; safe ones applied if ``apply``."""
    perf_before = service.performance()
    cache = service.cache
    stats = cache.stats
    lookups = stats.hits + stats.misses
    recs: list[Recommendation] = []

    if stats.evictions and lookups >= 20 and (stats.hit_rate or 0.0) < 0.8:
        proposed = min(MAX_CACHE, max(cache.capacity * 2, cache.capacity + stats.evictions))
        recs.append(Recommendation(
            "cache_capacity",
            f"{stats.evictions} evictions while the hit rate is {stats.hit_rate:.0%}",
            {"evictions": stats.evictions, "hit_rate": stats.hit_rate,
             "capacity": cache.capacity},
            f"raise the cache capacity from {cache.capacity} to {proposed}", safe=True,
            before={"capacity": cache.capacity}, after={"capacity": proposed}))
    if stats.expirations and cache.ttl_seconds is not None and \
            stats.expirations >= 0.1 * max(1, stats.hits):
        proposed_ttl = min(MAX_TTL, cache.ttl_seconds * 4)
        if proposed_ttl > cache.ttl_seconds:
            recs.append(Recommendation(
                "cache_ttl",
                f"{stats.expirations} entries expired while still asked for; data changes "
                "already invalidate by version",
                {"expirations": stats.expirations, "hits": stats.hits,
                 "ttl_seconds": cache.ttl_seconds},
                f"raise the TTL from {cache.ttl_seconds:g} s to {proposed_ttl:g} s", safe=True,
                before={"ttl_seconds": cache.ttl_seconds},
                after={"ttl_seconds": proposed_ttl}))
    usage = service.usage_by_formula()
    top = [fid for fid, _ in list(usage.items())[:WARM_TOP]]
    entities = sum(len([k for k in g.entities if k[0] != "game"])
                   for g in service.engine.games.values())
    if top and entities:
        recs.append(Recommendation(
            "cache_warm", f"the most used formulas ({', '.join(top)}) can be ready for every "
            f"live entity ({entities}) before they are asked for",
            {"top_formulas": {f: usage[f] for f in top}, "live_entities": entities},
            f"compute {', '.join(top)} ahead for the live entities", safe=True))
    counts = service.tasks.count_by_status()
    total = sum(v for k, v in counts.items() if k != CalculationStatus.IN_PROGRESS.value)
    timeouts = counts[CalculationStatus.TIMEOUT.value]
    if total and timeouts / total > 0.01:
        recs.append(Recommendation(
            "timeouts", f"{timeouts} of {total} calculations timed out",
            {"timeouts": timeouts, "total": total,
             "default_timeout_seconds": service.config.default_timeout_seconds},
            "check the sources of the games asked for (status), or raise timeout_seconds",
            safe=False))
    if perf_before.messages_dropped:
        recs.append(Recommendation(
            "slow_subscribers", f"{perf_before.messages_dropped} messages were dropped for "
            "slow subscribers", {"messages_dropped": perf_before.messages_dropped},
            "subscribe to fewer formulas per client or raise the client queue size",
            safe=False))
    for source in service._sources():
        health = source.get("health") or {}
        failures = health.get("consecutive_failures", 0)
        if failures >= 3:
            recs.append(Recommendation(
                "sync_interval", f"source {source.get('name')} failed {failures} times in a row",
                {"source": source.get("name"), "consecutive_failures": failures},
                "lengthen its interval until it recovers (the breaker already backs off)",
                safe=False))

    applied_any = False
    if apply:
        probe_before = await _probe(service)
        for rec in recs:
            if not rec.safe:
                continue
            if rec.id == "cache_capacity":
                cache.configure(capacity=rec.after["capacity"])
            elif rec.id == "cache_ttl":
                cache.configure(ttl_seconds=rec.after["ttl_seconds"])
            elif rec.id == "cache_warm":
                before_size = len(cache)
                warmed = await warm_cache(service, top)
                rec.before = {"cache_entries": before_size}
                rec.after = {"cache_entries": len(cache), "warmed": warmed}
            rec.applied = True
            applied_any = True
        probe_after = await _probe(service) if applied_any else probe_before
    else:
        probe_before = probe_after = {}
    return {
        "recommendations": [r.to_dict() for r in recs],
        "applied": [r.id for r in recs if r.applied],
        "before": {"metrics": perf_before.to_dict(), **probe_before},
        "after": {"metrics": service.performance().to_dict(), **probe_after},
    }


async def warm_cache(service: RealTimeCalculationService, formula_ids: list[str]) -> int:
    """Compute formulas for every live player and team into the cache; returns how many."""
    warmed = 0
    for state in list(service.engine.games.values()):
        for kind, ident in list(state.entities):
            if kind == "game":
                continue
            for fid in formula_ids:
                task = await service.calculate(fid, entity=f"{kind}:{ident}@{state.game_id}")
                warmed += task.status == CalculationStatus.COMPLETED and not task.cache_hit
    return warmed
