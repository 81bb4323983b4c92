"""Tuning a running service from what it measured: recommendations, the safe ones applied.

Two sources of recommendations:

- the service's own figures (cache counts, task statuses, bus drops, source health):
  ``cache_capacity`` (evictions while the hit rate is low -> a larger cache, applied),
  ``cache_ttl`` (entries expiring while still asked for -> a longer TTL, applied: a data change
  already invalidates by version, so a longer TTL never serves stale data), ``cache_warm``
  (the most used formulas computed ahead for every live entity, applied), and advice only for
  ``timeouts``, ``slow_subscribers`` and ``failing_source`` (changing them would hide a
  problem rather than fix it);
- the usage analytics (``courtside.usage.optimise.recommend_actions`` over the last hour):
  warm_cache, set_cache_ttl, set_batch_size, set_sync_interval; applied through
  ``courtside.usage.optimise.apply`` on :class:`ServiceTarget`, which stores the outcome.

Applied actions are measured: the service's figures before and after, each side after the same
probe workload (the recent live-entity calculations replayed).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from courtside.model import CalculationStatus, ConfigError, utcnow

if TYPE_CHECKING:
    from courtside.service import RealTimeCalculationService

__all__ = ["Recommendation", "ServiceTarget", "optimize", "optimize_from_usage"]

MAX_CACHE = 1_000_000
MAX_TTL = 3600.0
WARM_TOP = 5
PROBE_CALLS = 200


@dataclass(slots=True)
class Recommendation:
    """One recommendation: why (with the figures), what, whether safe and applied."""

    id: str
    reason: str
    evidence: dict[str, Any]
    action: str
    safe: bool
    params: dict[str, Any] = field(default_factory=dict)
    applied: bool = False
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"id": self.id, "reason": self.reason, "evidence": self.evidence,
                "action": self.action, "safe": self.safe, "params": self.params,
                "applied": self.applied, "error": self.error}


class ServiceTarget:
    """The service's knobs as ``courtside.usage.optimise.OptimisationTarget``."""

    def __init__(self, service: RealTimeCalculationService) -> None:
        self.service = service
        self.probe: dict[str, Any] = {}
        self.workload: list[tuple[str, str]] = []

    def warm_cache(self, formula_ids: list[str]) -> int:
        """Compute these formulas for every live player and team; returns values computed."""
        warmed = 0
        for state in list(self.service.engine.games.values()):
            for kind, ident in list(state.entities):
                if kind == "game":
                    continue
                for fid in formula_ids:
                    task = self.service.calculate_now(
                        fid, entity=f"{kind}:{ident}@{state.game_id}")
                    warmed += task.status == CalculationStatus.COMPLETED and not task.cache_hit
        return warmed

    def set_cache_ttl(self, seconds: float) -> None:
        """Change the result cache's TTL."""
        self.service.cache.configure(ttl_seconds=float(seconds))

    def set_cache_capacity(self, capacity: int) -> None:
        """Change the result cache's size bound."""
        self.service.cache.configure(capacity=int(capacity))

    def set_batch_size(self, n: int) -> None:
        """Rows per chunk for batch jobs submitted without one."""
        if n < 1:
            raise ConfigError(f"batch size must be at least 1, got {n}")
        self.service.batch_size = int(n)

    def set_sync_interval(self, sync_id: str, seconds: float) -> None:
        """How often one sync runs (the scheduler's knob)."""
        scheduler = self.service.scheduler
        if scheduler is None or not hasattr(scheduler, "set_interval"):
            raise ConfigError("this service's scheduler cannot change a sync's interval")
        scheduler.set_interval(sync_id, seconds)

    def choose_workload(self) -> None:
        """Fix the probe workload: the recent live-entity calculations (read-only)."""
        self.workload = [(t.formula_id, t.entity) for t in self.service.tasks.recent(PROBE_CALLS)
                         if t.status == CalculationStatus.COMPLETED and t.entity
                         and "@" in t.entity]

    def run_probe(self) -> None:
        """Replay the chosen workload and time it."""
        service = self.service
        hits, durations = 0, []
        for formula_id, entity in self.workload:
            started = time.perf_counter()
            probe = service.calculate_now(formula_id, entity=entity)
            durations.append((time.perf_counter() - started) * 1000.0)
            hits += probe.cache_hit
        durations.sort()
        self.probe = ({"probe_calls": len(durations), "probe_hit_rate": hits / len(durations),
                       "probe_p50_ms": durations[len(durations) // 2]} if durations
                      else {"probe_calls": 0})

    def measure(self) -> dict[str, Any]:
        """The figures compared before and after."""
        cache = self.service.cache
        return {**self.probe, "cache_size": len(cache), "cache_capacity": cache.capacity,
                "cache_ttl_seconds": cache.ttl_seconds, "cache_hit_rate": cache.stats.hit_rate,
                "batch_size": self.service.batch_size}


def _own(service: RealTimeCalculationService) -> list[Recommendation]:
    recs: list[Recommendation] = []
    cache, stats = service.cache, service.cache.stats
    lookups = stats.hits + stats.misses
    if stats.evictions and lookups >= 20 and (stats.hit_rate or 0.0) < 0.8:
        proposed = min(MAX_CACHE, max(cache.capacity * 2, cache.capacity + stats.evictions))
        recs.append(Recommendation(
            "cache_capacity", f"{stats.evictions} evictions while the hit rate is "
            f"{stats.hit_rate:.0%} over {lookups} lookups",
            {"evictions": stats.evictions, "hit_rate": stats.hit_rate, "lookups": lookups,
             "capacity": cache.capacity},
            f"raise the cache capacity from {cache.capacity} to {proposed}", True,
            {"capacity": proposed}))
    if stats.expirations and cache.ttl_seconds is not None \
            and stats.expirations >= 0.1 * max(1, stats.hits):
        proposed_ttl = min(MAX_TTL, cache.ttl_seconds * 4)
        if proposed_ttl > cache.ttl_seconds:
            recs.append(Recommendation(
                "cache_ttl", f"{stats.expirations} entries expired while still asked for "
                f"({stats.hits} hits); data changes already invalidate by version",
                {"expirations": stats.expirations, "hits": stats.hits,
                 "ttl_seconds": cache.ttl_seconds},
                f"raise the TTL from {cache.ttl_seconds:g} s to {proposed_ttl:g} s", True,
                {"seconds": proposed_ttl}))
    usage = service.usage_by_formula()
    top = [fid for fid, calls in list(usage.items())[:WARM_TOP] if calls >= 2]
    entities = sum(1 for g in service.engine.games.values() for k in g.entities if k[0] != "game")
    if top and entities:
        recs.append(Recommendation(
            "cache_warm", f"the most used formulas ({', '.join(top)}) can be ready for every "
            f"live entity ({entities}) before they are asked for",
            {"calls": {f: usage[f] for f in top}, "live_entities": entities},
            f"compute {', '.join(top)} ahead for the live entities", True,
            {"formula_ids": top}))
    counts = service.tasks.count_by_status()
    total = sum(v for k, v in counts.items() if k != CalculationStatus.IN_PROGRESS.value)
    timeouts = counts[CalculationStatus.TIMEOUT.value]
    if total and timeouts / total > 0.01:
        recs.append(Recommendation(
            "timeouts", f"{timeouts} of {total} calculations timed out",
            {"timeouts": timeouts, "total": total,
             "default_timeout_seconds": service.config.default_timeout_seconds},
            "check the sources of the games asked for (status); raising timeout_seconds "
            "would only hide a slow source", False))
    dropped = service.performance().messages_dropped
    if dropped:
        recs.append(Recommendation(
            "slow_subscribers", f"{dropped} messages were dropped for slow subscribers",
            {"messages_dropped": dropped},
            "subscribe to fewer formulas per client, or give clients a larger queue", False))
    for source in service.sources():
        failures = (source.get("health") or {}).get("consecutive_failures", 0)
        if failures >= 3:
            recs.append(Recommendation(
                "failing_source", f"source {source.get('name')} failed {failures} times in a "
                "row", {"source": source.get("name"), "consecutive_failures": failures},
                "check the source (its breaker already backs off); its games show as stale",
                False))
    return recs


def _from_usage(service: RealTimeCalculationService,
                current: dict[str, Any]) -> list[Recommendation]:
    """The last hour's usage recommendations (database reads: run on a worker thread)."""
    if service.usage is None:
        return []
    from courtside.usage.optimise import recommend_actions
    from courtside.usage.patterns import analyze_usage_patterns

    service.usage.flush()
    patterns = analyze_usage_patterns(service.database, "hour")
    return [Recommendation(f"usage:{a.kind}", a.reason, a.evidence, a.kind, True, a.params)
            for a in recommend_actions(patterns, current=current)]


def _settings(service: RealTimeCalculationService) -> dict[str, Any]:
    """The knobs' current values, as the usage recommendations compare them."""
    return {"cache_ttl_seconds": service.cache.ttl_seconds, "batch_size": service.batch_size,
            "sync_intervals": service.sync_intervals()}


async def optimize(service: RealTimeCalculationService, *,
                   apply: bool = True) -> dict[str, Any]:
    """Recommendations from measured figures and usage; the safe ones applied if ``apply``.

    Returns ``recommendations`` (each with its evidence and whether it was applied),
    ``before``/``after`` (the figures around the applied actions, each after the same probe
    workload) and ``effect`` (before, after and delta of each number).
    """
    # The engine, cache and task tracker belong to the event loop (ingest changes them
    # there), so they are read and tuned here; only the database work goes to a thread.
    target = ServiceTarget(service)
    recs = _own(service)
    usage_recs = await asyncio.to_thread(_from_usage, service, _settings(service))
    if any(r.action == "warm_cache" for r in usage_recs):  # the usage view wins: per-formula
        recs = [r for r in recs if r.id != "cache_warm"]
    recs += usage_recs
    target.choose_workload()
    target.run_probe()
    before = target.measure()
    if apply:
        knobs: dict[str, Callable[..., Any]] = {
            "cache_capacity": target.set_cache_capacity, "cache_ttl": target.set_cache_ttl,
            "cache_warm": target.warm_cache, "warm_cache": target.warm_cache,
            "set_cache_ttl": target.set_cache_ttl, "set_batch_size": target.set_batch_size,
            "set_sync_interval": target.set_sync_interval}
        for rec in recs:
            if not rec.safe:
                continue
            knob = knobs[rec.action if rec.id.startswith("usage:") else rec.id]
            try:
                knob(**rec.params)
                rec.applied = True
            except Exception as exc:  # one bad knob must not stop the others
                rec.error = f"{type(exc).__name__}: {exc}"
    target.run_probe()
    after = target.measure()
    if apply:
        await asyncio.to_thread(_store, service, [r for r in recs if r.applied or r.error],
                                before, after)
    effect = {k: {"before": v, "after": after[k], "delta": after[k] - v}
              for k, v in before.items() if isinstance(v, int | float)
              and not isinstance(v, bool) and isinstance(after.get(k), int | float)}
    return {"recommendations": [r.to_dict() for r in recs],
            "applied": [r.id for r in recs if r.applied], "before": before, "after": after,
            "effect": effect}


def _store(service: RealTimeCalculationService, recs: list[Recommendation],
           before: dict[str, Any], after: dict[str, Any]) -> None:
    """Log the applied actions in the usage analytics' optimisation table."""
    if not recs or service.database is None:
        return
    from courtside.storage.usage import insert_many, optimisations

    def plain(value: Any) -> Any:
        return json.loads(json.dumps(value, default=str))

    now = utcnow()
    insert_many(service.database, optimisations, [
        {"applied_at": now, "kind": r.action if r.id.startswith("usage:") else r.id,
         "params": plain(r.params), "reason": r.reason[:2000], "evidence": plain(r.evidence),
         "ok": r.applied, "error": r.error, "before": plain(before), "after": plain(after)}
        for r in recs])


async def optimize_from_usage(service: RealTimeCalculationService, *, period: str = "hour",
                              apply: bool = False) -> dict[str, Any]:
    """Actions derived from the period's usage alone (cache warming, TTL, batch size, sync
    intervals); with ``apply`` they are applied and measured around the same probe workload
    (the recent live calculations), and logged."""
    from courtside.usage.optimise import apply as apply_actions
    from courtside.usage.optimise import recommend_actions
    from courtside.usage.patterns import analyze_usage_patterns

    target = ServiceTarget(service)
    target.choose_workload()
    current = _settings(service)
    # apply_actions runs on the worker thread (it writes the database); the knobs, the probe
    # and the measures it calls touch loop-owned state, so they run on the loop
    on_loop = _OnLoop(target, asyncio.get_running_loop())

    def run() -> dict[str, Any]:
        db = service.usage_database()
        patterns = analyze_usage_patterns(db, period)
        actions = recommend_actions(patterns, current=current)
        out: dict[str, Any] = {"period": patterns.period.to_dict(),
                               "calls": patterns.totals["calls"],
                               "actions": [a.to_dict() for a in actions], "applied": None}
        if apply and actions:
            out["applied"] = apply_actions(actions, on_loop, workload=on_loop.run_probe,
                                           db=db).to_dict()
        return out

    return await asyncio.to_thread(run)


class _OnLoop:
    """A :class:`ServiceTarget` for a worker thread: each method call runs on the event loop
    (which waits for the thread meanwhile, so it is free) and returns its result."""

    def __init__(self, target: ServiceTarget, loop: asyncio.AbstractEventLoop) -> None:
        self._target = target
        self._loop = loop

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._target, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            async def on_loop() -> Any:
                return method(*args, **kwargs)

            return asyncio.run_coroutine_threadsafe(on_loop(), self._loop).result()

        return call
