"""Insights from ``known_events``: each finding and the numbers behind it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from courtside.usage.insights import Thresholds, generate_insights
from courtside.usage.patterns import analyze_usage_patterns

from .known import T0


@pytest.fixture
def pats(known_db):
    return analyze_usage_patterns(known_db, since=T0, until=T0 + timedelta(hours=4))


def test_every_kind_of_finding_with_its_numbers(pats):
    t = Thresholds(min_calls=2, error_rate=0.25, slow_p95_ms=1000, cache_hit_rate=0.6,
                   spike_factor=3, spike_min_calls=5, trend_pct=30)
    found = generate_insights(pats, thresholds=t, known_tools=["calculate", "batch", "sync_live_data"],
                              known_formulas=["PER", "TS_PCT", "USG_PCT"])
    by = {(i.kind, i.subject): i for i in found}
    err = by[("high_error_rate", "formula:TS_PCT")]
    assert err.severity == "critical"  # 50% is at least twice the 25% threshold
    assert (err.evidence["errors"], err.evidence["calls"], err.evidence["error_rate"]) == (2, 4, 0.5)
    assert "failed 2 of 4 calls (50.0%, threshold 25.0%); 1 timed out" in err.message
    slow = by[("slow_tool", "tool:batch")]
    assert slow.evidence["p95_ms"] == pytest.approx(1950.0) and "1950.0 ms" in slow.message
    assert ("slow_tool", "tool:calculate") not in by  # p95 136.75 ms
    cache = by[("low_cache_hit_rate", "cache")]
    assert (cache.evidence["cache_hits"], cache.evidence["cache_lookups"]) == (5, 10)
    assert by[("low_cache_hit_rate", "formula:PER")].evidence["cache_hit_rate"] == 0.5
    spikes = sorted(i.evidence["bucket_start"] for i in found if i.kind == "volume_spike")
    assert spikes == [(T0 + timedelta(minutes=10)).isoformat(), (T0 + timedelta(minutes=15)).isoformat()]
    trend = by[("volume_trend", "volume")]
    assert (trend.evidence["first_half"], trend.evidence["second_half"]) == (10, 6)
    assert trend.evidence["pct"] == pytest.approx(-40.0) and "fell from 10" in trend.message
    unused = sorted(i.subject for i in found if i.kind == "unused_feature")
    assert unused == ["formula:USG_PCT", "tool:sync_live_data"]
    assert found[0].severity == "critical"


def test_default_thresholds_need_enough_calls(pats):
    kinds = {(i.kind, i.subject) for i in generate_insights(pats)}
    # TS_PCT's 2 failures in 4 calls are below the default 10-call minimum; batch has 2 calls.
    assert ("high_error_rate", "formula:TS_PCT") not in kinds
    assert ("slow_tool", "tool:batch") not in kinds
    assert ("low_cache_hit_rate", "cache") not in kinds  # 5 of 10 is not below 50%
    lower = generate_insights(pats, thresholds=Thresholds(cache_hit_rate=0.51))
    assert ("low_cache_hit_rate", "cache") in {(i.kind, i.subject) for i in lower}


def test_spike_factor_is_stated_against_what_it_divides(pats):
    # Most 5-minute buckets of the 4 hours are empty: the median is 0, the floor of 1 is used.
    t = Thresholds(spike_factor=3, spike_min_calls=5)
    spike = next(i for i in generate_insights(pats, thresholds=t) if i.kind == "volume_spike")
    assert spike.evidence["calls"] == 5 and spike.evidence["median_calls"] == 0
    assert spike.evidence["factor"] == spike.evidence["calls"] / spike.evidence["baseline_calls"]
    assert "5.0 times one call per 5m (the median is 0)" in spike.message


def test_traffic_starting_in_the_second_half_is_a_trend(known_db):
    # 01:00-04:00: nothing before 02:30, bob's 6 calls after.
    p = analyze_usage_patterns(known_db, since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=4))
    assert p.trend["change"]["calls"]["pct"] is None
    trend = [i for i in generate_insights(p, thresholds=Thresholds(min_calls=5))
             if i.kind == "volume_trend"]
    assert [(i.evidence["first_half"], i.evidence["second_half"], i.evidence["pct"])
            for i in trend] == [(0, 6, None)]
    assert trend[0].message == "Calls rose from 0 in the first half of the period to 6 in the second."
