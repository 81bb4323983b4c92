"""Insights: findings computed from a period's patterns, each with the numbers behind it."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from courtside.model import _JSONShape
from courtside.usage.patterns import Patterns


@dataclass(slots=True)
class Thresholds(_JSONShape):
    """When a figure becomes an insight; every one can be changed by the caller.

    Attributes:
        min_calls: calls a formula or tool needs before its rates are judged.
        error_rate: a formula's error rate at or above this is reported.
        slow_p95_ms: a tool whose p95 latency is at or above this is reported.
        cache_hit_rate: an overall or per-formula cache hit rate below this is reported.
        spike_factor: a volume bucket at least this many times the median bucket is a spike.
        spike_min_calls: a spike needs at least this many calls in its bucket.
        trend_pct: a change of call volume between the halves at least this large is reported.
    """

    min_calls: int = 10
    error_rate: float = 0.05
    slow_p95_ms: float = 500.0
    cache_hit_rate: float = 0.5
    spike_factor: float = 3.0
    spike_min_calls: int = 10
    trend_pct: float = 50.0


@dataclass(slots=True)
class Insight(_JSONShape):
    """One finding.

    Attributes:
        kind: high_error_rate, slow_tool, low_cache_hit_rate, volume_spike, unused_feature or
            volume_trend.
        severity: info, warning or critical.
        subject: what it is about (``formula:PER``, ``tool:batch``, ``cache``, ``volume``).
        message: the finding in one sentence, built from the numbers.
        evidence: the numbers themselves, including the threshold crossed.
    """

    kind: str
    severity: str
    subject: str
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def _error_rates(p: Patterns, t: Thresholds) -> list[Insight]:
    out = []
    for f in p.errors["by_formula"]:
        if f["calls"] >= t.min_calls and f["error_rate"] >= t.error_rate:
            sev = "critical" if f["error_rate"] >= 2 * t.error_rate else "warning"
            out.append(Insight(
                "high_error_rate", sev, f"formula:{f['formula']}",
                f"{f['formula']} failed {f['errors']} of {f['calls']} calls "
                f"({_pct(f['error_rate'])}, threshold {_pct(t.error_rate)}); "
                f"{f['timeouts']} timed out.",
                {**f, "threshold": t.error_rate}))
    return out


def _slow_tools(p: Patterns, t: Thresholds) -> list[Insight]:
    out = []
    for row in p.latency:
        if row["calls"] >= t.min_calls and row["p95_ms"] >= t.slow_p95_ms:
            out.append(Insight(
                "slow_tool", "warning", f"tool:{row['tool']}",
                f"{row['tool']} has a p95 latency of {row['p95_ms']:.1f} ms over {row['calls']} "
                f"calls (p50 {row['p50_ms']:.1f} ms, threshold {t.slow_p95_ms:.0f} ms).",
                {**row, "threshold_ms": t.slow_p95_ms}))
    return out


def _cache(p: Patterns, t: Thresholds) -> list[Insight]:
    out = []
    tot = p.totals
    if tot["cache_lookups"] >= t.min_calls and tot["cache_hit_rate"] < t.cache_hit_rate:
        out.append(Insight(
            "low_cache_hit_rate", "warning", "cache",
            f"The result cache answered {tot['cache_hits']} of {tot['cache_lookups']} lookups "
            f"({_pct(tot['cache_hit_rate'])}, threshold {_pct(t.cache_hit_rate)}).",
            {"cache_hits": tot["cache_hits"], "cache_lookups": tot["cache_lookups"],
             "cache_hit_rate": tot["cache_hit_rate"], "threshold": t.cache_hit_rate}))
    for f in p.top_formulas:
        rate = f["cache_hit_rate"]
        if f["cache_lookups"] >= t.min_calls and rate is not None and rate < t.cache_hit_rate:
            out.append(Insight(
                "low_cache_hit_rate", "info", f"formula:{f['formula']}",
                f"{f['formula']} hit the cache on {f['cache_hits']} of {f['cache_lookups']} "
                f"lookups ({_pct(rate)}, threshold {_pct(t.cache_hit_rate)}).",
                {"formula": f["formula"], "cache_hits": f["cache_hits"],
                 "cache_lookups": f["cache_lookups"], "cache_hit_rate": rate,
                 "threshold": t.cache_hit_rate}))
    return out


def _spikes(p: Patterns, t: Thresholds) -> list[Insight]:
    counts = [v["calls"] for v in p.volume]
    if len(counts) < 3:
        return []
    median = statistics.median(counts)
    base = max(median, 1.0)  # a quiet period's median is 0; one call per bucket is the floor
    # The factor is over ``base``: say so when the floor, not the median, is what it divides.
    against = (f"the median of {median:g} per {p.bucket}" if median >= 1 else
               f"one call per {p.bucket} (the median is {median:g})")
    out = []
    for v in p.volume:
        if v["calls"] >= t.spike_min_calls and v["calls"] >= t.spike_factor * base:
            out.append(Insight(
                "volume_spike", "info", "volume",
                f"{v['calls']} calls in the {p.bucket} from {v['start'].isoformat()}, "
                f"{v['calls'] / base:.1f} times {against}.",
                {"bucket_start": v["start"].isoformat(), "bucket": p.bucket, "calls": v["calls"],
                 "median_calls": median, "baseline_calls": base, "factor": v["calls"] / base,
                 "threshold_factor": t.spike_factor}))
    return out


def _trend(p: Patterns, t: Thresholds) -> list[Insight]:
    ch = p.trend["change"]["calls"]
    a, b = p.trend["first_half"]["calls"], p.trend["second_half"]["calls"]
    # From none at all the change has no percentage, and is the largest there is.
    if max(a, b) < t.min_calls or (ch["pct"] is not None and abs(ch["pct"]) < t.trend_pct):
        return []
    word = "rose" if ch["delta"] > 0 else "fell"
    return [Insight(
        "volume_trend", "info", "volume",
        f"Calls {word} from {a} in the first half of the period to {b} in the second"
        + (f" ({ch['pct']:+.1f}%)." if ch["pct"] is not None else "."),
        {"first_half": a, "second_half": b, "pct": ch["pct"], "threshold_pct": t.trend_pct})]


def _unused(p: Patterns, known_tools: Iterable[str], known_formulas: Iterable[str]) -> list[Insight]:
    out = []
    seen_tools, seen_formulas = set(p.used_tools), set(p.used_formulas)
    for kind, names, seen in (("tool", known_tools, seen_tools),
                              ("formula", known_formulas, seen_formulas)):
        for name in sorted(set(names) - seen):
            out.append(Insight(
                "unused_feature", "info", f"{kind}:{name}",
                f"The {kind} {name} had no calls between {p.period.since.isoformat()} and "
                f"{p.period.until.isoformat()} ({p.totals['calls']} calls in all).",
                {"kind": kind, "name": name, "calls": 0, "period_calls": p.totals["calls"]}))
    return out


def generate_insights(patterns: Patterns, *, thresholds: Thresholds | None = None,
                      known_tools: Iterable[str] = (),
                      known_formulas: Iterable[str] = ()) -> list[Insight]:
    """Findings from ``patterns``, most severe first.

    ``known_tools`` and ``known_formulas`` list what exists, for the unused-feature finding.
    """
    t = thresholds or Thresholds()
    p = patterns
    found = [*_error_rates(p, t), *_slow_tools(p, t), *_cache(p, t), *_spikes(p, t),
             *_trend(p, t)]
    unused = _unused(p, known_tools, known_formulas)
    order = {"critical": 0, "warning": 1, "info": 2}
    return sorted([*found, *unused], key=lambda i: order[i.severity])
