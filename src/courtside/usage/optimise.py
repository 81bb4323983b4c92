"""Optimisation: concrete actions derived from usage, applied to a target, effect measured.

The service implements ``OptimisationTarget``; ``apply`` measures it before and after the
actions (optionally running the same workload both times) and reports the difference.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from courtside.model import ConfigError, _JSONShape, utcnow
from courtside.storage.db import Database
from courtside.storage.usage import insert_many, optimisations
from courtside.usage.patterns import Patterns

ACTION_KINDS = ("warm_cache", "set_cache_ttl", "set_batch_size", "set_sync_interval")


@runtime_checkable
class OptimisationTarget(Protocol):
    """What ``apply`` tunes: the running service, or anything with the same knobs."""

    def warm_cache(self, formula_ids: list[str]) -> Any:
        """Compute and cache these formulas now."""

    def set_cache_ttl(self, seconds: float) -> Any:
        """Change the result cache's time to live."""

    def set_batch_size(self, n: int) -> Any:
        """Change the rows per chunk of batch jobs."""

    def set_sync_interval(self, sync_id: str, seconds: float) -> Any:
        """Change how often one sync runs."""

    def measure(self) -> dict[str, Any]:
        """Current performance figures (numbers are compared before/after)."""


@dataclass(slots=True)
class Action(_JSONShape):
    """One recommended change.

    Attributes:
        kind: warm_cache, set_cache_ttl, set_batch_size or set_sync_interval (the target's method).
        params: the method's keyword arguments.
        reason: why, in one sentence built from the evidence.
        evidence: the usage figures the action was derived from.
    """

    kind: str
    params: dict[str, Any]
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Policy(_JSONShape):
    """How recommendations are derived; every figure can be changed.

    Attributes:
        warm_top_n: how many of the most used formulas to warm.
        min_calls: calls a formula, a batch history or a resource needs before it drives an action.
        target_cache_hit_rate: below this, cache actions are recommended.
        (TTL: an entry lives from its computation, so to be reused k times between
        computations, as a hit rate of k/(k+1) >= target needs, it must outlive k gaps:
        TTL = (k + 0.5) times the longest p75 reuse gap among the most used formulas.)
        ttl_min_seconds, ttl_max_seconds: TTL bounds.
        target_chunk_seconds: batch size = measured items per second times this.
        batch_min, batch_max: batch size bounds.
        reads_per_sync: syncs per typical gap between reads (2: data refreshed twice per read).
        sync_min_seconds, sync_max_seconds: sync interval bounds.
        min_change: relative change below which a setting is left alone.
    """

    warm_top_n: int = 5
    min_calls: int = 10
    target_cache_hit_rate: float = 0.8
    ttl_min_seconds: float = 5.0
    ttl_max_seconds: float = 3600.0
    target_chunk_seconds: float = 2.0
    batch_min: int = 100
    batch_max: int = 1_000_000
    reads_per_sync: float = 2.0
    sync_min_seconds: float = 1.0
    sync_max_seconds: float = 3600.0
    min_change: float = 0.2


def _clamp(x: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, x))


def _round2(x: float) -> int:
    """Round to two significant figures: a batch size of 13_333 becomes 13_000."""
    if x < 10:
        return max(1, round(x))
    mag = 10 ** (int(math.log10(x)) - 1)
    return int(round(x / mag) * mag)


def _changed(new: float, old: float | None, p: Policy) -> bool:
    return old is None or old == 0 or abs(new - old) / old >= p.min_change


def _warm(pt: Patterns, p: Policy) -> tuple[list[Action], list[dict[str, Any]]]:
    cands = [f for f in pt.top_formulas if f["calls"] >= p.min_calls and f["cache_lookups"]][
        :p.warm_top_n]
    cold = [f for f in cands if (f["cache_hit_rate"] or 0.0) < p.target_cache_hit_rate]
    if not cold:
        return [], cands
    ids = [f["formula"] for f in cold]
    ev = {"formulas": [{k: f[k] for k in ("formula", "calls", "share", "cache_hits",
                                          "cache_lookups", "cache_hit_rate")} for f in cold],
          "target_cache_hit_rate": p.target_cache_hit_rate}
    calls = sum(f["calls"] for f in cold)
    return [Action("warm_cache", {"formula_ids": ids},
                   f"The {len(ids)} most used formulas below a {p.target_cache_hit_rate:.0%} hit "
                   f"rate ({', '.join(ids)}) made {calls} of {pt.totals['calls']} calls.", ev)], cands


def _ttl(pt: Patterns, p: Policy, cands: list[dict[str, Any]],
         current: Mapping[str, Any]) -> list[Action]:
    rate = pt.totals["cache_hit_rate"]
    if rate is None or rate >= p.target_cache_hit_rate:
        return []
    names = {f["formula"] for f in cands}
    gaps = [r for r in pt.reuse if r["formula"] in names and r["p75_gap_s"] is not None]
    if not gaps:
        return []
    longest = max(r["p75_gap_s"] for r in gaps)
    target = min(p.target_cache_hit_rate, 0.99)
    reuses = max(1, math.ceil(round(target / (1 - target), 9)))
    ttl = round(_clamp(longest * (reuses + 0.5), p.ttl_min_seconds, p.ttl_max_seconds))
    old = current.get("cache_ttl_seconds")
    if not _changed(ttl, old, p):
        return []
    # What the TTL serves once clamped to the policy's bounds, not what the target asked for.
    served = int(ttl // longest) if longest > 0 else reuses
    return [Action("set_cache_ttl", {"seconds": ttl},
                   f"Cache hit rate is {rate:.1%}; the most used formulas are called again after "
                   f"up to {longest:.0f} s (p75); entries living {ttl} s serve {served} reuses "
                   f"per computation ({served / (served + 1):.0%} hits)"
                   + (f" instead of {old:g} s." if old else "."),
                   {"cache_hit_rate": rate, "reuse_gaps": gaps, "current_ttl_seconds": old,
                    "reuses_per_entry": served})]


def _batch(pt: Patterns, p: Policy, current: Mapping[str, Any]) -> list[Action]:
    b = pt.batch
    if b["calls"] == 0 or b["items"] < p.min_calls or not b["items_per_second"]:
        return []
    size = int(_clamp(_round2(b["items_per_second"] * p.target_chunk_seconds),
                      p.batch_min, p.batch_max))
    old = current.get("batch_size")
    if not _changed(size, old, p):
        return []
    return [Action("set_batch_size", {"n": size},
                   f"Batch calls processed {b['items']} items in {b['duration_ms'] / 1000:.1f} s "
                   f"({b['items_per_second']:.0f} items/s); {size} items make a chunk of about "
                   f"{p.target_chunk_seconds:g} s" + (f" (now {old})." if old else "."),
                   {**b, "current_batch_size": old,
                    "target_chunk_seconds": p.target_chunk_seconds})]


def _syncs(pt: Patterns, p: Policy, current: Mapping[str, Any]) -> list[Action]:
    out = []
    intervals: Mapping[str, float] = current.get("sync_intervals") or {}
    for r in pt.resources:
        res = r["resource"]
        if not res.startswith("sync:") or r["calls"] < p.min_calls or not r["median_gap_s"]:
            continue
        sync_id = res.removeprefix("sync:")
        secs = round(_clamp(r["median_gap_s"] / p.reads_per_sync, p.sync_min_seconds,
                            p.sync_max_seconds), 1)
        old = intervals.get(sync_id)
        if not _changed(secs, old, p):
            continue
        out.append(Action(
            "set_sync_interval", {"sync_id": sync_id, "seconds": secs},
            f"Clients read {sync_id}'s data every {r['median_gap_s']:.1f} s (median of "
            f"{r['calls']} reads); syncing every {secs:g} s refreshes it "
            f"{p.reads_per_sync:g} times per read" + (f" (now every {old:g} s)." if old else "."),
            {**r, "current_interval_seconds": old, "reads_per_sync": p.reads_per_sync}))
    return out


def recommend_actions(patterns: Patterns, *, policy: Policy | None = None,
                      current: Mapping[str, Any] | None = None) -> list[Action]:
    """Actions derived from a period's usage.

    ``current`` holds the target's present settings when known (``cache_ttl_seconds``,
    ``batch_size``, ``sync_intervals`` {sync_id: seconds}); settings already within
    ``policy.min_change`` of the recommendation are left alone.
    """
    p = policy or Policy()
    cur = current or {}
    warm, cands = _warm(patterns, p)
    return [*warm, *_ttl(patterns, p, cands, cur), *_batch(patterns, p, cur),
            *_syncs(patterns, p, cur)]


@dataclass(slots=True)
class ApplyReport(_JSONShape):
    """What ``apply`` did and what changed.

    Attributes:
        results: one entry per action: the action, ok, and the error when it failed.
        before, after: the target's measurements around the actions.
        effect: for each numeric figure in both: before, after, delta.
    """

    results: list[dict[str, Any]]
    before: dict[str, Any]
    after: dict[str, Any]
    effect: dict[str, dict[str, float]]


def _effect(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    out = {}
    for k, a in before.items():
        b = after.get(k)
        if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
            out[k] = {"before": a, "after": b, "delta": b - a}
    return out


def apply(actions: Sequence[Action], target: OptimisationTarget, *,
          workload: Callable[[], Any] | None = None, db: Database | None = None) -> ApplyReport:
    """Apply ``actions`` to ``target`` and measure the effect.

    When ``workload`` is given it runs before each measurement, so both sides measure the same
    traffic. One failing action does not stop the others. With ``db`` the outcome is stored.
    """
    for a in actions:
        if a.kind not in ACTION_KINDS:
            raise ConfigError(f"action kind {a.kind!r} is not one of {list(ACTION_KINDS)}")
    if workload is not None:
        workload()
    before = dict(target.measure())
    results = []
    for a in actions:
        try:
            getattr(target, a.kind)(**a.params)
            results.append({"action": a.to_dict(), "ok": True, "error": None})
        except Exception as exc:  # one bad knob must not stop the rest
            results.append({"action": a.to_dict(), "ok": False,
                            "error": f"{type(exc).__name__}: {exc}"})
    if workload is not None:
        workload()
    after = dict(target.measure())
    report = ApplyReport(results, before, after, _effect(before, after))
    if db is not None:
        now = utcnow()
        insert_many(db, optimisations, [
            {"applied_at": now, "kind": r["action"]["kind"], "params": r["action"]["params"],
             "reason": r["action"]["reason"], "evidence": _jsonsafe(r["action"]["evidence"]),
             "ok": r["ok"], "error": r["error"], "before": _jsonsafe(before),
             "after": _jsonsafe(after)} for r in results])
    return report


def _jsonsafe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))
