"""The tool-shaped functions the MCP server and REST handlers call."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from courtside.model import ConfigError
from courtside.storage.usage import insert_events
from courtside.usage import tools
from courtside.usage.events import make_event
from courtside.usage.patterns import analyze_usage_patterns
from courtside.usage.tracker import UsageTracker

from .known import T0
from .small_service import SmallService

SPAN = {"since": T0.isoformat(), "until": (T0 + timedelta(hours=4)).isoformat()}


def test_track_then_analyze_through_the_tools(db):
    tracker = UsageTracker(db, migrate=False)
    out = tools.track_usage_event(tracker, tool="calculate_formula_realtime", client="agent",
                                  formula="PER", duration_ms=4.5, cache_hit=False,
                                  started_at="2026-01-01T00:30:00Z")
    assert out["stored"] and out["event_id"] >= 1
    d = tools.analyze_usage_patterns(db, **SPAN, formula="PER")
    assert d["totals"]["calls"] == 1 and d["top_clients"][0]["client"] == "agent"
    assert json.dumps(d)  # JSON-ready
    with pytest.raises(ConfigError, match="outcome 'fine'"):
        tools.track_usage_event(tracker, tool="x", outcome="fine")
    with pytest.raises(ConfigError, match="top must be a whole number"):
        tools.analyze_usage_patterns(db, top=0)


def test_insights_report_and_thresholds(known_db):
    found = tools.generate_usage_insights(known_db, **SPAN, thresholds={"min_calls": 2},
                                          known_formulas=["PER", "USG_PCT"])
    assert {(i["kind"], i["subject"]) for i in found} >= {
        ("high_error_rate", "formula:TS_PCT"), ("unused_feature", "formula:USG_PCT")}
    with pytest.raises(ConfigError, match="unknown field"):
        tools.generate_usage_insights(known_db, thresholds={"min_cals": 2})
    with pytest.raises(ConfigError, match="thresholds: expected int"):
        tools.generate_usage_insights(known_db, thresholds={"min_calls": "two"})
    rep = tools.generate_usage_report(known_db, **SPAN, format="md")
    assert rep["format"] == "markdown" and "| PER | 10 | 62.5% |" in rep["content"]


def test_alert_setup_is_all_or_nothing(db):
    ok = {"name": "errs", "metric": "error_rate", "comparison": ">", "threshold": 0.1}
    out = tools.setup_usage_alerts(db, rules=[ok])
    assert [r["name"] for r in out["rules"]] == ["errs"]
    with pytest.raises(ConfigError, match="alert rule 'c': metric 'p90' is not one of"):
        tools.setup_usage_alerts(db, rules=[{**ok, "name": "b"}, {**ok, "name": "c",
                                                                    "metric": "p90"}])
    assert [r["name"] for r in tools.setup_usage_alerts(db)["rules"]] == ["errs"]  # no "b"
    with pytest.raises(ConfigError, match="already exist"):
        tools.setup_usage_alerts(db, rules=[ok])
    out = tools.setup_usage_alerts(db, rules=[{**ok, "threshold": 0.2}], remove=["errs"])
    assert [(r["name"], r["threshold"]) for r in out["rules"]] == [("errs", 0.2)]


def test_optimize_recommends_and_applies(db):
    ev = [make_event(tool="calculate", formula="PER", cache_hit=False, duration_ms=3,
                     started_at=T0 + timedelta(seconds=60 * k)) for k in range(12)]
    insert_events(db, [e.to_row() for e in ev])
    pats = analyze_usage_patterns(db, since=T0, until=T0 + timedelta(hours=1))
    assert pats.reuse[0]["p75_gap_s"] == 60
    svc = SmallService(ttl=30)
    out = tools.optimize_usage_based_performance(
        db, svc, period="all", apply_actions=True, current={"cache_ttl_seconds": 30})
    kinds = [a["kind"] for a in out["actions"]]
    assert kinds == ["warm_cache", "set_cache_ttl"]
    assert svc.ttl == 270 and "PER" in svc.cache
    assert out["applied"]["effect"]["cache_ttl_seconds"] == {"before": 30, "after": 270,
                                                             "delta": 240}
    with pytest.raises(ConfigError, match="needs a running service"):
        tools.optimize_usage_based_performance(db, None, apply_actions=True)


def test_sync_resources_are_kept_beyond_the_top_list(db):
    ev = [make_event(tool="get_box_score", resource=f"game:{g}", duration_ms=1,
                     started_at=T0 + timedelta(seconds=g * 10 + k)) for g in range(12)
          for k in range(3)]
    ev += [make_event(tool="sync_live_data", resource="sync:s1", duration_ms=1,
                      started_at=T0 + timedelta(seconds=5 * k)) for k in range(2)]
    insert_events(db, [e.to_row() for e in ev])
    pats = analyze_usage_patterns(db, since=T0, until=T0 + timedelta(hours=1), top=3)
    assert [r["resource"] for r in pats.resources][-1] == "sync:s1" and len(pats.resources) == 4


def test_dashboard_tool(db):
    out = tools.create_usage_dashboard("/v1/usage/dashboard.json", refresh_seconds=5)
    assert (out["data_url"], out["refresh_seconds"]) == ("/v1/usage/dashboard.json", 5)
    # the page's own configuration: where to read and how often (5 s in milliseconds)
    assert 'const CONFIG = {"dataUrl": "/v1/usage/dashboard.json", "refreshMs": 5000};' in out["html"]
    with pytest.raises(ConfigError, match="data_url is required"):
        tools.create_usage_dashboard("")
