"""Recommendations derived from usage, applied to a real small service, effect measured."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from courtside.storage.usage import insert_events, optimisations
from courtside.usage.events import make_event
from courtside.usage.optimise import Action, OptimisationTarget, apply, recommend_actions
from courtside.usage.patterns import analyze_usage_patterns

from .known import T0
from .small_service import SmallService


def seed(db) -> None:
    """PER every 60 s (30 calls), TS_PCT every 60 s (20), USG_PCT 3 calls, all cache misses;
    two batch calls of 10 000 items in 2 s and 3 s; 12 reads of sync live-1, 10 s apart."""
    ev = []
    for k in range(30):
        ev.append(make_event(tool="calculate", formula="PER", cache_hit=False,
                             started_at=T0 + timedelta(seconds=60 * k), duration_ms=3))
    for k in range(20):
        ev.append(make_event(tool="calculate", formula="TS_PCT", cache_hit=False,
                             started_at=T0 + timedelta(seconds=60 * k + 5), duration_ms=3))
    for k in range(3):
        ev.append(make_event(tool="calculate", formula="USG_PCT", cache_hit=False,
                             started_at=T0 + timedelta(seconds=600 * k + 7), duration_ms=3))
    ev.append(make_event(tool="process_batch_calculations", items=10_000, duration_ms=2000,
                         started_at=T0 + timedelta(minutes=3)))
    ev.append(make_event(tool="process_batch_calculations", items=10_000, duration_ms=3000,
                         started_at=T0 + timedelta(minutes=9)))
    for k in range(12):
        ev.append(make_event(tool="get_box_score", resource="sync:live-1",
                             started_at=T0 + timedelta(seconds=10 * k + 2), duration_ms=1))
    insert_events(db, [e.to_row() for e in ev])


@pytest.fixture
def pats(db):
    seed(db)
    return analyze_usage_patterns(db, since=T0, until=T0 + timedelta(hours=1))


CURRENT = {"cache_ttl_seconds": 30, "batch_size": 500, "sync_intervals": {"live-1": 1.0}}


def test_recommendations_follow_from_the_usage(pats):
    actions = {a.kind: a for a in recommend_actions(pats, current=CURRENT)}
    assert actions["warm_cache"].params == {"formula_ids": ["PER", "TS_PCT"]}  # USG_PCT: 3 calls
    assert [f["calls"] for f in actions["warm_cache"].evidence["formulas"]] == [30, 20]
    # p75 gap between calls of the same formula is 60 s; an 80% hit rate needs 4 reuses per
    # computation, so entries must outlive 4 gaps: 60 * 4.5.
    assert actions["set_cache_ttl"].params == {"seconds": 270}
    assert actions["set_cache_ttl"].evidence["reuses_per_entry"] == 4
    # 20 000 items in 5 s = 4000 items/s; 2 s chunks.
    assert actions["set_batch_size"].params == {"n": 8000}
    assert actions["set_batch_size"].evidence["items_per_second"] == pytest.approx(4000)
    # reads every 10 s, two syncs per read.
    assert actions["set_sync_interval"].params == {"sync_id": "live-1", "seconds": 5.0}
    assert "every 10.0 s" in actions["set_sync_interval"].reason


def test_settings_already_right_are_left_alone(pats):
    kinds = {a.kind for a in recommend_actions(pats, current={
        "cache_ttl_seconds": 260, "batch_size": 8100, "sync_intervals": {"live-1": 5}})}
    assert kinds == {"warm_cache"}


def test_apply_to_a_real_service_measures_the_effect(db, pats):
    svc = SmallService(ttl=30, batch_size=500, sync_intervals={"live-1": 1.0})
    assert isinstance(svc, OptimisationTarget)
    clock = {"t": 0.0}

    def workload():  # replay one hour like the recorded one: both formulas every 60 s
        start = clock["t"] + 1
        for k in range(20):
            svc.calculate("PER", start + 60 * k)
            svc.calculate("TS_PCT", start + 60 * k + 5)
        svc.run_batch(20_000)
        clock["t"] = start + 60 * 20

    report = apply(recommend_actions(pats, current=CURRENT), svc, workload=workload, db=db)
    assert all(r["ok"] for r in report.results) and len(report.results) == 4
    e = report.effect
    # Before: TTL 30 s < 60 s gaps, every call computes. After: a 270 s TTL; each formula's
    # entry serves 4 calls, then its 5th call recomputes (calls 5, 10, 15, 20 of 20 miss).
    assert (e["cache_hit_rate"]["before"], e["cache_hit_rate"]["after"]) == (0.0, 0.8)
    assert (e["batch_chunks"]["before"], e["batch_chunks"]["after"]) == (40, 3)
    assert (e["sync_runs_per_hour"]["before"], e["sync_runs_per_hour"]["after"]) == (3600, 720)
    assert e["mean_latency_ms"]["after"] < e["mean_latency_ms"]["before"] / 2  # 20% compute
    with db.begin() as conn:
        stored = conn.execute(select(optimisations).order_by(optimisations.c.id)).mappings().all()
    assert [r["kind"] for r in stored] == ["warm_cache", "set_cache_ttl", "set_batch_size",
                                           "set_sync_interval"]
    assert stored[1]["before"]["cache_hit_rate"] == 0.0 and stored[1]["after"]["cache_hit_rate"] == 0.8


def test_one_failing_action_does_not_stop_the_others():
    svc = SmallService(max_batch=1000, sync_intervals={"live-1": 1.0})
    report = apply([Action("set_batch_size", {"n": 5000}, "r"),
                    Action("set_sync_interval", {"sync_id": "live-1", "seconds": 4.0}, "r")], svc)
    assert [r["ok"] for r in report.results] == [False, True]
    assert "above this service's limit of 1000" in report.results[0]["error"]
    assert report.effect["sync_runs_per_hour"] == {"before": 3600, "after": 900, "delta": -2700}


def test_a_clamped_ttl_claims_only_the_reuses_it_serves(pats):
    from courtside.usage.optimise import Policy

    # 60 s gaps want 270 s for 4 reuses (80%); capped at 150 s an entry outlives 2 gaps.
    ttl = next(a for a in recommend_actions(pats, policy=Policy(ttl_max_seconds=150),
                                            current=CURRENT) if a.kind == "set_cache_ttl")
    assert ttl.params == {"seconds": 150} and ttl.evidence["reuses_per_entry"] == 2
    assert "entries living 150 s serve 2 reuses per computation (67% hits)" in ttl.reason
