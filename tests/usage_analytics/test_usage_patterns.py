"""Patterns computed with Polars, checked against hand-computed values of ``known_events``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from courtside.model import ConfigError
from courtside.storage.db import Database
from courtside.usage.patterns import analyze_usage_patterns
from courtside.usage.period import resolve_period
from courtside.usage.tracker import UsageTracker

from .known import T0

UNTIL = T0 + timedelta(hours=4)


@pytest.fixture
def pats(known_db):
    return analyze_usage_patterns(known_db, since=T0, until=UNTIL)


def test_totals(pats):
    t = pats.totals
    assert (t["calls"], t["errors"], t["timeouts"], t["clients"], t["formulas"], t["tools"]) == (
        16, 2, 1, 2, 2, 2)
    assert t["error_rate"] == pytest.approx(2 / 16)
    assert t["cache_hit_rate"] == pytest.approx(5 / 10)  # only PER consulted the cache


def test_top_formulas_tools_clients_and_interfaces(pats):
    assert [(f["formula"], f["calls"]) for f in pats.top_formulas] == [("PER", 10), ("TS_PCT", 4)]
    assert pats.top_formulas[0]["share"] == pytest.approx(10 / 16)
    assert [(t["tool"], t["calls"]) for t in pats.top_tools] == [("calculate", 14), ("batch", 2)]
    assert [(c["client"], c["calls"]) for c in pats.top_clients] == [("alice", 10), ("bob", 6)]
    assert [(i["interface"], i["calls"]) for i in pats.interfaces] == [
        ("rest", 10), ("mcp", 4), ("cli", 2)]
    assert pats.clients == ["alice", "bob"]


def test_latency_percentiles_per_tool(pats):
    by_tool = {row["tool"]: row for row in pats.latency}
    # calculate: 5,5,5,10,20,...,100,205 (14 values); linear interpolation between ranks.
    calc = by_tool["calculate"]
    assert calc["p50_ms"] == pytest.approx(45.0)            # rank 6.5: 40..50
    assert calc["p95_ms"] == pytest.approx(100 + 0.35 * 105)  # rank 12.35: 100..205
    assert calc["p99_ms"] == pytest.approx(100 + 0.87 * 105)  # rank 12.87
    assert calc["max_ms"] == 205
    batch = by_tool["batch"]
    assert batch["p50_ms"] == pytest.approx(1500.0)
    assert batch["p95_ms"] == pytest.approx(1000 + 0.95 * 1000)
    assert [r["tool"] for r in pats.latency] == ["batch", "calculate"]  # slowest p95 first


def test_error_rates(pats):
    assert pats.errors["by_formula"] == [
        {"formula": "TS_PCT", "calls": 4, "errors": 2, "timeouts": 1, "error_rate": 0.5}]
    assert pats.errors["by_tool"][0]["error_rate"] == pytest.approx(2 / 14)
    assert pats.errors["by_code"] == [{"error_code": "invalid_data", "calls": 1},
                                      {"error_code": "timeout", "calls": 1}]


def test_volume_buckets_start_at_the_period_start(pats):
    assert pats.bucket == "5m"  # 4 hours in at most 60 bars
    assert len(pats.volume) == 48
    nonzero = {i: (v["calls"], v["errors"]) for i, v in enumerate(pats.volume) if v["calls"]}
    # 00:10-00:14 and 00:15-00:19: 5 PER calls each; 02:30: 4 TS_PCT (2 failed); 03:00; 03:50.
    assert nonzero == {2: (5, 0), 3: (5, 0), 30: (4, 2), 36: (1, 0), 46: (1, 0)}
    assert pats.volume[30]["start"] == T0 + timedelta(hours=2, minutes=30)
    assert sum(v["calls"] for v in pats.volume) == 16


def test_trend_between_halves(pats):
    tr = pats.trend
    assert tr["split_at"] == T0 + timedelta(hours=2)
    assert tr["first_half"]["calls"] == 10 and tr["second_half"]["calls"] == 6
    assert tr["change"]["calls"] == {"delta": -4, "pct": pytest.approx(-40.0)}
    assert tr["first_half"]["error_rate"] == 0 and tr["second_half"]["error_rate"] == pytest.approx(2 / 6)
    assert tr["formulas"] == [{"formula": "PER", "first": 10, "second": 0, "delta": -10},
                              {"formula": "TS_PCT", "first": 0, "second": 4, "delta": 4}]


def test_time_of_day_reuse_and_batch(pats):
    tod = {h["hour"]: h["calls"] for h in pats.time_of_day}
    assert len(tod) == 24 and tod[0] == 10 and tod[2] == 4 and tod[3] == 2
    assert sum(tod.values()) == 16
    reuse = {r["formula"]: r for r in pats.reuse}
    assert reuse["PER"]["median_gap_s"] == 60 and reuse["TS_PCT"]["p75_gap_s"] == 60
    assert pats.resources == [{"resource": "game:0022000001", "calls": 4, "median_gap_s": 60.0,
                               "p75_gap_s": 60.0}]
    b = pats.batch
    assert (b["calls"], b["items"], b["duration_ms"]) == (2, 4000, 3000)
    assert b["items_per_second"] == pytest.approx(4000 / 3)


def test_filters_and_subperiods(known_db):
    bob = analyze_usage_patterns(known_db, since=T0, until=UNTIL, filters={"client": "bob"})
    assert bob.totals["calls"] == 6 and bob.filters == {"client": "bob"}
    first_hour = analyze_usage_patterns(known_db, "hour", until=T0 + timedelta(hours=1))
    assert first_hour.totals["calls"] == 10 and first_hour.bucket == "1m"
    everything = analyze_usage_patterns(known_db, "all")
    assert everything.totals["calls"] == 16 and everything.period.since == T0 + timedelta(minutes=10)
    with pytest.raises(ConfigError, match="usage filter 'team'"):
        analyze_usage_patterns(known_db, since=T0, until=UNTIL, filters={"team": "x"})


def test_empty_period_gives_zeros_not_errors(db):
    p = analyze_usage_patterns(db, "hour")
    assert p.totals["calls"] == 0 and p.totals["error_rate"] is None
    assert p.top_formulas == [] and sum(v["calls"] for v in p.volume) == 0
    assert p.to_dict()["totals"]["p95_ms"] is None


def test_period_names_and_errors():
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert resolve_period("6h", now=now).since == now - timedelta(hours=6)
    assert resolve_period("week", now=now).since == now - timedelta(days=7)
    assert resolve_period(since="2026-03-01T00:00:00Z", until=now).seconds == 12 * 3600
    with pytest.raises(ConfigError, match="period 'fortnight' is not known"):
        resolve_period("fortnight")
    with pytest.raises(ConfigError, match="must be before until"):
        resolve_period(since=now, until=now)


@pytest.mark.postgres
def test_tracker_and_patterns_on_postgresql(postgres_url):
    db = Database(postgres_url)
    client = f"pg-{uuid.uuid4().hex[:8]}"  # the shared test database may hold other events
    start = datetime.now(UTC) - timedelta(seconds=1)
    with UsageTracker(db, flush_interval=60) as tracker:
        for ms in (1, 2, 3, 4):
            with tracker.track("calculate", client=client, formula="PER") as call:
                call.cache_hit = ms % 2 == 0
        tracker.track_usage_event(tool="batch", client=client, duration_ms=50, outcome="error",
                                  error_code="invalid_data")
    p = analyze_usage_patterns(db, since=start, until=datetime.now(UTC) + timedelta(seconds=1),
                               filters={"client": client})
    assert p.totals["calls"] == 5 and p.totals["errors"] == 1
    assert p.totals["cache_hit_rate"] == 0.5
    assert [(t["tool"], t["calls"]) for t in p.top_tools] == [("calculate", 4), ("batch", 1)]
    db.dispose()


@pytest.mark.parametrize(("name", "message"), [
    ("100000000d", "reaches before the year 1"), ("9999999999w", "reaches before the year 1"),
    ("0h", "period '0h' is empty")])
def test_span_edge_cases_are_config_errors(name, message):
    # A REST or MCP caller's period: a ConfigError (400) saying why, never an OverflowError (500).
    with pytest.raises(ConfigError, match=message):
        resolve_period(name)
