"""RealTimeCalculationService and the standalone functions, on a real database and real data."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from pathlib import Path

import pytest

from courtside import service as svc
from courtside.model import CalculationStatus, CourtsideError, ServiceStatus
from courtside.sources.livedata import parse_boxscore
from courtside.sources.playbyplay import builder_for

GAME = "0022000001"
CURRY = "201939"  # Stephen Curry, GSW


@pytest.fixture(scope="module")
def docs(shared_data: Path) -> tuple[dict, dict]:
    folder = shared_data / "nba-live"
    return (json.loads((folder / f"playbyplay_{GAME}.json").read_text()),
            json.loads((folder / f"boxscore_{GAME}.json").read_text()))


@pytest.fixture
async def service(tmp_path: Path):
    service = svc.RealTimeCalculationService(data_dir=tmp_path)
    await service.start()
    yield service
    await service.stop()


def _box_at(docs: tuple[dict, dict], n: int):
    builder, actions = builder_for(*docs)
    for action in actions[:n]:
        builder.apply(action)
    return builder.snapshot(source="test")


def _own_threads() -> set[threading.Thread]:
    # the loop's default executor (asyncio.to_thread) keeps its idle workers
    return {t for t in threading.enumerate() if not t.name.startswith("asyncio_")}


def _own_tasks() -> set[asyncio.Task]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


async def test_start_stop_are_idempotent_and_leave_no_task(tmp_path: Path, redis_url: str) -> None:
    before = _own_tasks()
    for config in ({}, {"redis_url": redis_url}):  # the Redis bus runs a reader task
        service = svc.RealTimeCalculationService(data_dir=tmp_path, **config)
        assert (await service.status()).running is False
        assert await service.start() is service
        await service.start()
        assert service.running and (tmp_path / "courtside.db").exists()
        service.spawn(asyncio.sleep(3600), name="long-work")
        assert len(service.background_tasks()) == 1
        status = await service.status()
        assert status.running and status.uptime_seconds >= 0
        await service.stop()
        await service.stop()
        assert not service.running and service.background_tasks() == []
        assert _own_tasks() == before


async def test_explicit_inputs_are_computed_and_then_cached(service) -> None:
    line = {"PTS": 30, "FGA": 20, "FTA": 10}
    first = await service.calculate("TS_PCT", line)
    assert first.status == CalculationStatus.COMPLETED
    assert first.result == 30 / (2 * (20 + 0.44 * 10))  # the published definition
    assert first.cache_hit is False and first.formula_version == 1
    second = await service.calculate("ts%", dict(reversed(list(line.items()))))
    assert second.result == first.result and second.cache_hit is True
    fresh = await service.calculate("TS_PCT", line, cache_result=False)
    assert fresh.cache_hit is False
    assert service.cache.stats.hits == 1 and service.cache.stats.misses == 1


async def test_bad_requests_fail_with_a_clear_error_and_do_not_stop_others(service) -> None:
    unknown = await service.calculate("TS_PTC", {"PTS": 1})
    assert unknown.status == CalculationStatus.FAILED and "did you mean TS_PCT" in unknown.error
    missing = await service.calculate("TS_PCT", {"PTS": 10})
    assert missing.status == CalculationStatus.FAILED and "needs FGA, FTA" in missing.error
    wrong = await service.calculate("TS_PCT", {"PTS": "ten", "FGA": 1, "FTA": 1})
    assert wrong.status == CalculationStatus.FAILED and "'PTS' must be a number" in wrong.error
    nothing = await service.calculate("TS_PCT")
    assert nothing.status == CalculationStatus.FAILED and "give input_data" in nothing.error
    ok = await service.calculate("FT_PCT", {"FTM": 3, "FTA": 4})
    assert ok.result == 0.75
    assert service.tasks.count_by_status()["failed"] == 4


async def test_unknown_formula_names_share_one_metrics_series(service) -> None:
    # every distinct name a client tries must not add a Prometheus series of its own
    for i in range(30):
        task = await service.calculate(f"NO_SUCH_{i}", {"PTS": 1})
        assert task.status == CalculationStatus.FAILED
    await service.calculate("FT_PCT", {"FTM": 3, "FTA": 4})
    labels = {s.labels["formula"] for m in service.metrics.calculations.collect()
              for s in m.samples}
    assert labels == {"_unknown", "FT_PCT"}
    assert len(service.calculator._calc_counters) == 1


async def test_live_entity_values_follow_the_game_and_invalidate_by_version(service,
                                                                            docs) -> None:
    await service.ingest_snapshot(_box_at(docs, 200))
    entity = f"player:{CURRY}@{GAME}"
    early = await service.calculate("TS_PCT", entity=entity)
    assert early.status == CalculationStatus.COMPLETED and early.entity == entity
    values = (await service.entity_values(entity))["values"]
    assert early.result == values["TS_PCT"]
    again = await service.calculate("TS_PCT", entity=f"player:{CURRY}")  # latest game
    assert again.cache_hit is True and again.data_version == early.data_version

    await service.ingest_snapshot(parse_boxscore(docs[1]))  # the final box score
    late = await service.calculate("TS_PCT", entity=entity)
    assert late.cache_hit is False and late.data_version > early.data_version
    curry = next(p for p in parse_boxscore(docs[1]).players if p.id == CURRY)
    s = curry.stats
    assert late.result == s["PTS"] / (2 * (s["FGA"] + 0.44 * s["FTA"]))
    # the older version's entry was freed by the update, not left to expire
    assert all(k.data_version == late.data_version
               for k in service.cache._by_entity.get(entity, ()))

    # both: the live line with one stat overridden
    what_if = await service.calculate("TS_PCT", {"PTS": s["PTS"] + 10}, entity=entity)
    assert what_if.result == (s["PTS"] + 10) / (2 * (s["FGA"] + 0.44 * s["FTA"]))
    # usage needs the team context, which the live entity brings
    usg = await service.calculate("USG_PCT", entity=entity)
    assert usg.result is not None and 10 < usg.result < 50


async def test_waiting_for_a_game_without_data_times_out(service) -> None:
    task = await service.calculate("TS_PCT", entity="player:1@0099999999", timeout_seconds=0.05)
    assert task.status == CalculationStatus.TIMEOUT
    assert "no result within 0.05 s" in task.error
    assert service.tasks.count_by_status()["timeout"] == 1
    assert (await service.calculate("FT_PCT", {"FTM": 1, "FTA": 2})).result == 0.5


async def test_custom_formula_is_computed_live_and_versioned(service, docs) -> None:
    await service.ingest_snapshot(_box_at(docs, 300))
    sub = service.bus.subscribe(f"player:{CURRY}")
    await service.define_formulas("MY_PTS2=2*PTS")
    _seq, payload = sub.get_nowait()
    assert payload["values"]["MY_PTS2"] == 2 * (await service.entity_values(
        f"player:{CURRY}"))["values"]["PTS"]
    first = await service.calculate("MY_PTS2", {"PTS": 5})
    assert first.result == 10 and first.formula_version == 1
    await service.define_formulas("MY_PTS2=3*PTS")
    second = await service.calculate("MY_PTS2", {"PTS": 5})
    assert second.result == 15 and second.formula_version == 2 and not second.cache_hit
    assert sub.get_nowait()[1]["values"]["MY_PTS2"] == 3 * payload["values"]["MY_PTS2"] / 2


async def test_status_and_metrics_report_what_happened(service, docs) -> None:
    from prometheus_client import generate_latest

    await service.ingest_snapshot(_box_at(docs, 100))
    await service.calculate("TS_PCT", {"PTS": 1, "FGA": 1, "FTA": 0})
    await service.calculate("TS_PCT", {"PTS": 1, "FGA": 1, "FTA": 0})
    status = await service.status()
    assert isinstance(status, ServiceStatus)
    assert [g["game_id"] for g in status.games] == [GAME]
    assert status.games[0]["status"] == 2 and status.games[0]["period"] >= 1
    assert status.cache["hits"] == 1 and status.cache["misses"] == 1
    assert status.tasks["completed"] == 2
    assert status.metrics.calculations_total == 2 and status.metrics.cache_hits == 1
    assert status.metrics.updates_published > 20
    assert ServiceStatus.from_json(status.to_json()).to_dict() == status.to_dict()
    text = generate_latest(service.metrics.registry).decode()
    assert 'courtside_calculations_total{formula="TS_PCT",status="completed"} 2.0' in text
    assert "courtside_cache_hits_total 1.0" in text
    assert 'courtside_calculation_seconds_count{path="cached"} 1.0' in text
    evaluations = service.engine.evaluations
    assert evaluations > 100 and f"courtside_recomputations_total {float(evaluations)}" in text
    # the engine's latency: one observation per change it took in (one snapshot here)
    assert service.engine.snapshots_applied == 1
    assert "courtside_recompute_seconds_count 1.0" in text
    seconds = float(re.search(r"courtside_recompute_seconds_sum (\S+)", text).group(1))
    assert 0 < seconds < 5


async def test_standalone_functions_use_one_default_service(tmp_path: Path) -> None:
    assert (await svc.get_realtime_service_status()).running is False
    started = await svc.start_realtime_service(data_dir=tmp_path)
    try:
        assert await svc.start_realtime_service() is started
        task = await svc.calculate_formula_realtime("EFG_PCT", {"FGM": 5, "FG3M": 2, "FGA": 10})
        assert task.result == (5 + 0.5 * 2) / 10
        status = await svc.get_realtime_service_status()
        assert status.running and status.metrics.calculations_total == 1
        import polars as pl

        rows = pl.DataFrame({"PTS": [30, 0], "FGA": [20, 0], "FTA": [5, 0]})
        events: list = []
        job = await svc.process_batch_calculations(rows, ["TS_PCT"], wait=True,
                                                   progress_callback=events.append)
        assert job.status.value == "completed" and job.processed_rows == 2
        assert job.failed_rows == 1  # the 0/0 row: null plus an error entry, not dropped
        assert events and events[-1].processed_rows == 2
        results = await started.batch_results(job.job_id)
        values = [r["TS_PCT"] for r in results["rows"]]
        assert values[0] == pytest.approx(30 / (2 * (20 + 0.44 * 5))) and values[1] is None
    finally:
        await svc.stop_realtime_service()
        await svc.stop_realtime_service()
    assert (await svc.get_realtime_service_status()).running is False


async def test_usage_events_are_recorded_per_calculation(service) -> None:
    from courtside.usage.patterns import analyze_usage_patterns

    await service.calculate("TS_PCT", {"PTS": 10, "FGA": 8, "FTA": 2}, interface="rest",
                            client="app-1")
    await service.calculate("TS_PCT", {"PTS": 10, "FGA": 8, "FTA": 2}, interface="rest",
                            client="app-1")
    await service.calculate("NOPE", {"PTS": 1})
    service.usage.flush()
    patterns = analyze_usage_patterns(service.database, "hour")
    assert patterns.totals["calls"] == 3
    top = {f["formula"]: f for f in patterns.top_formulas}
    assert top["TS_PCT"]["calls"] == 2 and top["TS_PCT"]["cache_hits"] == 1
    assert {c["client"] for c in patterns.top_clients} == {"app-1", "anonymous"}
    with pytest.raises(Exception, match="interface 'carrier-pigeon'"):
        await service.calculate("TS_PCT", {"PTS": 1, "FGA": 1, "FTA": 1},
                                interface="carrier-pigeon")


async def test_batch_jobs_go_through_the_job_manager_and_publish_progress(service) -> None:
    import polars as pl

    from courtside.model import BatchStatus

    frame = pl.DataFrame({"PTS": [30.0, 10.0, 0.0], "FGA": [20.0, 8.0, 0.0],
                          "FTA": [10.0, 2.0, 0.0]})
    job = await service.process_batch(["TS_PCT"], frame, wait=True)
    assert job.status == BatchStatus.COMPLETED and job.processed_rows == 3
    results = service.jobs.results(job.job_id)
    assert results["TS_PCT"].to_list()[:2] == [30 / (2 * (20 + 4.4)), 10 / (2 * (8 + 0.88))]
    assert results["TS_PCT"].to_list()[2] is None
    for _ in range(50):  # progress crosses from the job's thread to the loop
        state = await service.bus.latest(f"jobs:{job.job_id}")
        if state.seq:
            break
        await asyncio.sleep(0.02)
    assert state.seq >= 1 and state.last is not None


async def test_optimize_applies_safe_actions_and_measures_their_effect(tmp_path: Path,
                                                                       docs) -> None:
    service = svc.RealTimeCalculationService(data_dir=tmp_path, cache_size=8)
    await service.start()
    try:
        await service.ingest_snapshot(parse_boxscore(docs[1]))
        players = [ident for (kind, ident) in service.engine.game(GAME).entities
                   if kind == "player"]
        for _ in range(3):  # 2 formulas x 20+ players cycle through a cache of 8: misses
            for pid in players:
                for fid in ("TS_PCT", "USG_PCT"):
                    await service.calculate(fid, entity=f"player:{pid}@{GAME}")
        for _ in range(3):
            await service.calculate("TS_PCT", entity="player:1@0099999999",
                                    timeout_seconds=0.01)
        assert service.cache.stats.evictions > 0
        report = await service.optimize()
        recs = {r["id"]: r for r in report["recommendations"]}
        assert recs["cache_capacity"]["applied"] and recs["cache_capacity"]["params"][
            "capacity"] > 8
        assert service.cache.capacity == recs["cache_capacity"]["params"]["capacity"]
        assert "timeouts" in recs and not recs["timeouts"]["applied"]  # advice only
        warm = recs.get("cache_warm") or recs.get("usage:warm_cache")
        assert warm is not None and warm["applied"]
        # Measured: the same probe workload hits the cache after, not before.
        assert report["before"]["probe_calls"] == report["after"]["probe_calls"] > 0
        assert report["before"]["probe_hit_rate"] < 0.2
        assert report["after"]["probe_hit_rate"] == 1.0
        assert report["effect"]["cache_capacity"]["delta"] > 0
        dry = await service.optimize(apply=False)
        assert dry["applied"] == []
    finally:
        await service.stop()


async def test_optimisers_touch_live_state_only_on_the_event_loop(service, docs) -> None:
    # ingest mutates the engine, cache and task tracker on the loop; the optimisers' probes,
    # warming and knobs must not run beside it on a worker thread
    await service.ingest_snapshot(parse_boxscore(docs[1]))
    players = [ident for (kind, ident) in service.engine.game(GAME).entities
               if kind == "player"][:5]
    for _ in range(3):
        for pid in players:
            await service.calculate("TS_PCT", entity=f"player:{pid}@{GAME}")
    threads: set[int] = set()
    service.tasks.observers.append(lambda task, elapsed: threads.add(threading.get_ident()))
    report = await service.optimize()
    assert report["before"]["probe_calls"] > 0
    usage = await service.optimize_from_usage(period="hour", apply=True)
    assert usage["applied"] is not None
    assert threads == {threading.get_ident()}


async def test_games_survive_a_stop_and_start(tmp_path: Path, docs) -> None:
    first = svc.RealTimeCalculationService(data_dir=tmp_path)
    await first.start()
    await first.ingest_snapshot(_box_at(docs, 300))
    before = first.game_boxscore(GAME)
    await first.stop()

    again = svc.RealTimeCalculationService(data_dir=tmp_path)
    await again.start()
    try:
        after = again.game_boxscore(GAME)
        assert after["game"]["period"] == before["game"]["period"] >= 1
        assert after["game"]["home_pts"] == before["game"]["home_pts"]
        values = {(e["kind"], e["id"]): e["values"] for e in after["entities"]}
        # an unfinished game comes back stale: nothing feeds it until a source does
        assert before["game"]["stale"] is False and after["game"]["stale"] is True
        assert values.pop(("game", GAME))["STALE"] is True
        assert values == {(e["kind"], e["id"]): e["values"] for e in before["entities"]
                          if e["kind"] != "game"}
        await again.ingest_snapshot(_box_at(docs, 320))
        assert again.game_boxscore(GAME)["game"]["stale"] is False
    finally:
        await again.stop()
    fresh = svc.RealTimeCalculationService(data_dir=tmp_path, restore_games_hours=0)
    await fresh.start()
    try:
        assert fresh.games() == []
    finally:
        await fresh.stop()


async def test_two_instances_share_updates_through_redis(tmp_path: Path, redis_url: str,
                                                         docs) -> None:
    import uuid

    from courtside.live.redisbus import RedisBus

    prefix = f"test-{uuid.uuid4().hex[:8]}"
    feeder = svc.RealTimeCalculationService(
        data_dir=tmp_path / "a", bus=RedisBus(redis_url, prefix=prefix))
    watcher = svc.RealTimeCalculationService(
        data_dir=tmp_path / "b", bus=RedisBus(redis_url, prefix=prefix))
    await feeder.start()
    await watcher.start()
    try:
        sub = watcher.bus.subscribe(f"player:{CURRY}")
        await feeder.ingest_snapshot(_box_at(docs, 150))
        await feeder.ingest_snapshot(_box_at(docs, 400))
        got = [await sub.get(timeout=5) for _ in range(2)]
        assert [seq for seq, _ in got] == [1, 2]
        curry = feeder.engine.game(GAME).entity_values("player", CURRY)
        assert got[1][1]["values"]["PTS"] == curry["PTS"]
        # the watcher never saw the data itself, yet its bus holds the merged state
        state = await watcher.bus.latest(f"game:{GAME}")
        assert state.entities[f"player:{CURRY}"]["values"]["TS_PCT"] == curry["TS_PCT"]
        assert watcher.games() == []
    finally:
        await feeder.bus.clear()
        await feeder.stop()
        await watcher.stop()


async def test_bad_entities_are_refused_and_waits_leave_nothing_behind(service) -> None:
    for bad, message in (("player203925", "write kind:id"), ("coach:1", "kind must be"),
                         ("player:" + "9" * 100, "1 to 64"), ("player:1@game 1", "1 to 64")):
        task = await service.calculate("TS_PCT", entity=bad)
        assert task.status == CalculationStatus.FAILED and message in task.error, bad
    for i in range(20):
        await service.calculate("TS_PCT", entity=f"player:1@00{i:08d}", timeout_seconds=0.01)
    assert service.engine._arrivals == {}


async def test_live_values_of_composite_formulas_equal_computing_them(service, docs) -> None:
    await service.ingest_snapshot(parse_boxscore(docs[1]))
    entity = f"player:{CURRY}@{GAME}"
    inputs = service.engine.game(GAME).entity_inputs("player", CURRY)
    for fid in ("ORTG", "WS", "PER", "USG_PCT"):
        held = await service.calculate(fid, entity=entity, cache_result=False)
        # the same formula computed from scratch (inlined) on the entity's box score inputs
        base = {k: v for k, v in inputs.items() if k not in service.engine.formulas.by_id}
        fresh = service.catalog.compile(fid, service.league)({**service.league, **base})
        assert held.status == CalculationStatus.COMPLETED and held.result == fresh, fid
        assert fresh is not None


async def test_custom_formulas_are_kept_across_restarts(tmp_path: Path) -> None:
    first = svc.RealTimeCalculationService(data_dir=tmp_path)
    await first.start()
    defined = await first.define_formulas(["MY_A=2*PTS", "MY_B=MY_A+1"])
    assert [d["id"] for d in defined] == ["MY_A", "MY_B"]
    again = await first.define_formulas("MY_A=3*PTS")
    assert [(d["id"], d["version"]) for d in again] == [("MY_A", 2)]
    await first.stop()

    second = svc.RealTimeCalculationService(data_dir=tmp_path)
    await second.start()
    try:
        task = await second.calculate("MY_B", {"PTS": 10})
        assert task.result == 31 and task.status == CalculationStatus.COMPLETED
        assert second.catalog.get("MY_A").version == 2
        assert "MY_B" in second.engine.formulas
    finally:
        await second.stop()


async def test_a_failed_start_closes_what_it_opened(tmp_path: Path, redis_url: str) -> None:
    before, threads = _own_tasks(), _own_threads()
    failing = [  # the bus is started (its reader task running) before the formulas fail
        {"redis_url": redis_url, "live_formulas": ["NO_SUCH_FORMULA"]},
        {"redis_url": "redis://127.0.0.1:1/0"},  # nothing listens there
    ]
    for config in failing:
        service = svc.RealTimeCalculationService(data_dir=tmp_path, **config)
        with pytest.raises(CourtsideError):
            await service.start()
        assert not service.running and service.database is None
        assert service.usage is None and service.jobs is None and service.scheduler is None
        assert _own_tasks() == before
        assert _own_threads() <= threads  # no usage flusher or job thread left
    again = svc.RealTimeCalculationService(data_dir=tmp_path, redis_url=redis_url)
    await again.start()
    try:
        assert again.running and (await again.calculate("TS_PCT", {"PTS": 10, "FGA": 8,
                                                                    "FTA": 2})).result
    finally:
        await again.stop()
    assert _own_tasks() == before


async def test_usage_flushes_from_async_code_run_off_the_event_loop(service) -> None:
    flushed_on: list[int] = []
    flush = service.usage.flush

    def observed_flush() -> int:
        flushed_on.append(threading.get_ident())
        return flush()

    service.usage.flush = observed_flush
    await service.calculate("TS_PCT", {"PTS": 10, "FGA": 8, "FTA": 2})
    task = service.watch_usage_alerts(0.05)
    async with asyncio.timeout(10):  # the watcher's flushes (polled, not slept)
        while len(flushed_on) < 2:
            await asyncio.sleep(0.01)
    assert not task.done()
    db = await service.ausage_database()
    assert db is service.database
    assert len(flushed_on) >= 3  # and ausage_database's own
    assert threading.get_ident() not in flushed_on  # the loop never waits on the database
    # the synchronous API still flushes where it is called (here: a worker thread)
    assert await asyncio.to_thread(service.usage_database) is service.database
