"""Usage patterns over a period, computed with Polars from the stored events.

Definitions (the tests check them against hand-computed values):
- error rate: (error + timeout) calls over all calls; the timeout rate counts timeouts only;
- cache hit rate: hits over calls where a cache was consulted (``cache_hit`` not null);
- percentiles: linear interpolation between closest ranks (NumPy's default);
- volume buckets start at the period's start and have the width ``Period.bucket`` picks;
- trends compare the first and second halves of the period; the time-of-day profile is by UTC hour;
- reuse gaps: seconds between consecutive calls of one formula (or one resource); resources
  list the ``top`` most read plus every ``sync:<id>`` resource.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from courtside.storage.db import Database
from courtside.usage.frame import load_period
from courtside.usage.period import Period

FAILED = pl.col("outcome") != "ok"


@dataclass(slots=True)
class Patterns:
    """Everything ``analyze_usage_patterns`` reports for one period (see the module docstring)."""

    period: Period
    bucket: str
    filters: dict[str, str]
    totals: dict[str, Any]
    volume: list[dict[str, Any]]
    top_formulas: list[dict[str, Any]]
    top_tools: list[dict[str, Any]]
    top_clients: list[dict[str, Any]]
    interfaces: list[dict[str, Any]]
    latency: list[dict[str, Any]]
    errors: dict[str, list[dict[str, Any]]]
    trend: dict[str, Any]
    time_of_day: list[dict[str, Any]]
    reuse: list[dict[str, Any]]
    resources: list[dict[str, Any]]
    batch: dict[str, Any]
    clients: list[str] = field(default_factory=list)
    used_tools: list[str] = field(default_factory=list)
    used_formulas: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (datetimes as ISO strings)."""
        out: dict[str, Any] = {"period": self.period.to_dict()}
        for name in self.__dataclass_fields__:
            if name != "period":
                out[name] = _jsonable(getattr(self, name))
        return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _rate(num: int, den: int) -> float | None:
    return num / den if den else None


def _stats_exprs() -> list[pl.Expr]:
    d = pl.col("duration_ms")
    return [
        pl.len().cast(pl.Int64).alias("calls"),
        FAILED.sum().cast(pl.Int64).alias("errors"),
        (pl.col("outcome") == "timeout").sum().cast(pl.Int64).alias("timeouts"),
        pl.col("cache_hit").sum().cast(pl.Int64).alias("cache_hits"),
        pl.col("cache_hit").is_not_null().sum().cast(pl.Int64).alias("cache_lookups"),
        d.quantile(0.5, "linear").alias("p50_ms"),
        d.quantile(0.95, "linear").alias("p95_ms"),
        d.quantile(0.99, "linear").alias("p99_ms"),
        d.mean().alias("mean_ms"),
        d.max().alias("max_ms"),
    ]


def _finish(row: dict[str, Any], total: int) -> dict[str, Any]:
    row["share"] = _rate(row["calls"], total)
    row["error_rate"] = _rate(row["errors"], row["calls"])
    row["timeout_rate"] = _rate(row["timeouts"], row["calls"])
    row["cache_hit_rate"] = _rate(row["cache_hits"], row["cache_lookups"])
    return row


def _grouped(df: pl.DataFrame, key: str, total: int) -> list[dict[str, Any]]:
    """Per-value statistics of one column, most called first (ties by name)."""
    sub = df.filter(pl.col(key).is_not_null())
    if sub.is_empty():
        return []
    out = (sub.group_by(key).agg(_stats_exprs())
           .sort([pl.col("calls"), pl.col(key)], descending=[True, False]))
    return [_finish(r, total) for r in out.to_dicts()]


def _totals(df: pl.DataFrame) -> dict[str, Any]:
    if df.is_empty():
        return {"calls": 0, "errors": 0, "timeouts": 0, "cache_hits": 0, "cache_lookups": 0,
                "p50_ms": None, "p95_ms": None, "p99_ms": None, "mean_ms": None, "max_ms": None,
                "share": None, "error_rate": None, "timeout_rate": None, "cache_hit_rate": None,
                "clients": 0, "formulas": 0, "tools": 0}
    row = df.select(_stats_exprs()).to_dicts()[0]
    row = _finish(row, row["calls"])
    row["clients"] = df["client"].n_unique()
    row["formulas"] = df["formula"].drop_nulls().n_unique()
    row["tools"] = df["tool"].n_unique()
    return row


def _volume(df: pl.DataFrame, period: Period) -> tuple[str, list[dict[str, Any]]]:
    label, width = period.bucket()
    width_us = int(width.total_seconds() * 1_000_000)
    n = max(1, math.ceil(period.seconds * 1_000_000 / width_us))
    counts = (
        df.select(
            ((pl.col("started_at") - pl.lit(period.since)).dt.total_microseconds() // width_us)
            .alias("i"), FAILED.alias("failed"))
        .group_by("i").agg(pl.len().alias("calls"), pl.col("failed").sum().alias("errors"))
    )
    full = (pl.DataFrame({"i": pl.int_range(0, n, eager=True)})
            .join(counts, on="i", how="left").fill_null(0).sort("i"))
    rows = [{"start": period.since + width * r["i"], "calls": r["calls"], "errors": r["errors"]}
            for r in full.to_dicts()]
    return label, rows


def _half_stats(df: pl.DataFrame) -> dict[str, Any]:
    t = _totals(df)
    return {k: t[k] for k in ("calls", "error_rate", "p95_ms", "cache_hit_rate")}


def _change(a: float | None, b: float | None) -> dict[str, float | None]:
    if a is None or b is None:
        return {"delta": None, "pct": None}
    return {"delta": b - a, "pct": (b - a) / a * 100.0 if a else None}


def _trend(df: pl.DataFrame, period: Period, top: int) -> dict[str, Any]:
    _, second = period.halves()
    mid = second.since
    a = df.filter(pl.col("started_at") < mid)
    b = df.filter(pl.col("started_at") >= mid)
    sa, sb = _half_stats(a), _half_stats(b)
    changes = {k: _change(sa[k], sb[k]) for k in sa}
    per_formula: list[dict[str, Any]] = []
    sub = df.filter(pl.col("formula").is_not_null())
    if not sub.is_empty():
        f = (sub.group_by("formula")
             .agg((pl.col("started_at") < mid).sum().cast(pl.Int64).alias("first"),
                  (pl.col("started_at") >= mid).sum().cast(pl.Int64).alias("second"))
             .with_columns((pl.col("second") - pl.col("first")).alias("delta"))
             .sort([pl.col("delta").abs(), pl.col("formula")], descending=[True, False])
             .head(top))
        per_formula = f.to_dicts()
    return {"split_at": mid, "first_half": sa, "second_half": sb, "change": changes,
            "formulas": per_formula}


def _time_of_day(df: pl.DataFrame) -> list[dict[str, Any]]:
    counts = (df.select(pl.col("started_at").dt.hour().cast(pl.Int64).alias("hour"),
                        FAILED.alias("failed"), pl.col("duration_ms"))
              .group_by("hour").agg(pl.len().alias("calls"), pl.col("failed").sum().alias("errors"),
                                    pl.col("duration_ms").mean().alias("mean_ms")))
    full = (pl.DataFrame({"hour": pl.int_range(0, 24, eager=True)})
            .join(counts, on="hour", how="left")
            .with_columns(pl.col("calls").fill_null(0), pl.col("errors").fill_null(0))
            .sort("hour"))
    return full.to_dicts()


def _gaps(df: pl.DataFrame, key: str, top: int) -> list[dict[str, Any]]:
    sub = df.filter(pl.col(key).is_not_null())
    if sub.is_empty():
        return []
    gaps = (sub.sort("started_at")
            .with_columns((pl.col("started_at").diff().over(key).dt.total_microseconds()
                           / 1_000_000).alias("gap_s")))
    out = (gaps.group_by(key)
           .agg(pl.len().alias("calls"),
                pl.col("gap_s").drop_nulls().median().alias("median_gap_s"),
                pl.col("gap_s").drop_nulls().quantile(0.75, "linear").alias("p75_gap_s"))
           .sort([pl.col("calls"), pl.col(key)], descending=[True, False]).head(top))
    return out.to_dicts()


def _resources(df: pl.DataFrame, top: int) -> list[dict[str, Any]]:
    # Every sync resource is kept, however many game resources outnumber it: sync interval
    # recommendations are derived from them.
    rows = _gaps(df, "resource", df.height or 1)
    return [r for i, r in enumerate(rows) if i < top or r["resource"].startswith("sync:")]


def _batch(df: pl.DataFrame) -> dict[str, Any]:
    sub = df.filter(pl.col("items").is_not_null())
    if sub.is_empty():
        return {"calls": 0, "items": 0, "duration_ms": 0.0, "items_per_second": None,
                "p95_ms": None, "timeout_rate": None}
    r = sub.select(pl.len().alias("calls"), pl.col("items").sum().alias("items"),
                   pl.col("duration_ms").sum().alias("duration_ms"),
                   pl.col("duration_ms").quantile(0.95, "linear").alias("p95_ms"),
                   (pl.col("outcome") == "timeout").mean().alias("timeout_rate")).to_dicts()[0]
    r["items_per_second"] = (r["items"] / (r["duration_ms"] / 1000.0)
                             if r["duration_ms"] else None)
    return r


def compute_patterns(df: pl.DataFrame, period: Period, *, top: int = 10,
                     filters: Mapping[str, str] | None = None) -> Patterns:
    """Patterns of the events in ``df`` (already limited to ``period``)."""
    total = df.height
    bucket, volume = _volume(df, period)
    failed_codes = df.filter(FAILED).with_columns(pl.col("error_code").fill_null("unknown"))
    by_code = (failed_codes.group_by("error_code").agg(pl.len().alias("calls"))
               .sort([pl.col("calls"), pl.col("error_code")], descending=[True, False]).to_dicts()
               if not failed_codes.is_empty() else [])
    tools = _grouped(df, "tool", total)
    formulas = _grouped(df, "formula", total)
    return Patterns(
        period=period, bucket=bucket, filters=dict(filters or {}),
        totals=_totals(df), volume=volume,
        top_formulas=formulas[:top], top_tools=tools[:top],
        top_clients=_grouped(df, "client", total)[:top],
        interfaces=_grouped(df, "interface", total),
        latency=sorted(({k: t[k] for k in ("tool", "calls", "p50_ms", "p95_ms", "p99_ms",
                                           "mean_ms", "max_ms")} for t in tools),
                       key=lambda t: (-t["p95_ms"], t["tool"])),
        errors={
            "by_tool": sorted(({k: t[k] for k in ("tool", "calls", "errors", "timeouts",
                                                  "error_rate")} for t in tools if t["errors"]),
                              key=lambda t: (-t["error_rate"], t["tool"])),
            "by_formula": sorted(({k: t[k] for k in ("formula", "calls", "errors", "timeouts",
                                                     "error_rate")}
                                  for t in formulas if t["errors"]),
                                 key=lambda t: (-t["error_rate"], t["formula"])),
            "by_code": by_code,
        },
        trend=_trend(df, period, top),
        time_of_day=_time_of_day(df),
        reuse=_gaps(df, "formula", top),
        resources=_resources(df, top),
        batch=_batch(df),
        clients=sorted(df["client"].unique().to_list()) if total else [],
        used_tools=sorted(df["tool"].unique().to_list()) if total else [],
        used_formulas=sorted(df["formula"].drop_nulls().unique().to_list()) if total else [],
    )


def analyze_usage_patterns(db: Database, period: str | Period | None = None, *,
                           since: datetime | str | None = None,
                           until: datetime | str | None = None, filters: Mapping[str, str | None] | None = None,
                           top: int = 10) -> Patterns:
    """Read the period's events from ``db`` and compute their patterns."""
    per, df = load_period(db, period, since=since, until=until, filters=filters)
    return compute_patterns(df, per, top=top,
                            filters={k: v for k, v in (filters or {}).items() if v})
