"""The public shapes round-trip through JSON and keep their meaning."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from courtside.model import (
    BatchJob,
    BatchStatus,
    CalculationStatus,
    ConfigError,
    DataSourceType,
    DataSync,
    FormulaError,
    GameSnapshot,
    HealthState,
    PerformanceMetrics,
    RealtimeTask,
    ServiceStatus,
    SourceHealth,
    StatLine,
    SyncFrequency,
)

T0 = datetime(2020, 12, 22, 23, 0, tzinfo=UTC)


def _examples():
    return [
        RealtimeTask(task_id="t1", formula_id="TS_PCT", entity="player:203925@0022000001",
                     status=CalculationStatus.COMPLETED, created_at=T0, started_at=T0,
                     completed_at=T0 + timedelta(milliseconds=3), result=0.612, data_version=7),
        BatchJob(job_id="j1", formulas=["PER", "TS_PCT"], input="season.parquet",
                 status=BatchStatus.PROCESSING, total_rows=100, processed_rows=40,
                 created_at=T0, options={"preset": "bbr"}),
        DataSync(sync_id="s1", name="live", source_type=DataSourceType.NBA_API,
                 frequency=SyncFrequency.REAL_TIME, config={"base_url": "http://127.0.0.1:1"},
                 data_types=["boxscore"], created_at=T0,
                 health=SourceHealth(state=HealthState.DEGRADED, consecutive_failures=3,
                                     last_error="HTTP 503", last_error_at=T0)),
        PerformanceMetrics(calculations_total=10, cache_hits=3, cache_misses=7,
                           latency_p50_ms=0.2, measured_at=T0),
        ServiceStatus(running=True, version="0.1.0", started_at=T0, uptime_seconds=5.0,
                      games=[{"game_id": "0022000001", "status": 2}],
                      metrics=PerformanceMetrics(measured_at=T0)),
        GameSnapshot(game_id="0022000001", status=2, period=3, clock="PT05M00.00S",
                     home_team_id="1610612751", away_team_id="1610612744",
                     players=[StatLine(kind="player", id="203925", team_id="1610612751",
                                       name="Joe Harris", stats={"PTS": 10.0, "MIN": 20.77})],
                     data_time=T0, fetched_at=T0),
    ]


@pytest.mark.parametrize("obj", _examples(), ids=lambda o: type(o).__name__)
def test_json_round_trip(obj):
    text = obj.to_json()
    json.loads(text)  # plain JSON, no custom types left
    again = type(obj).from_json(text)
    assert again == obj
    assert again.to_dict() == obj.to_dict()


def test_enums_travel_as_values():
    data = _examples()[2].to_dict()
    assert data["source_type"] == "nba_api"
    assert data["frequency"] == "real_time"
    assert data["health"]["state"] == "degraded"
    assert data["created_at"] == "2020-12-22T23:00:00+00:00"


def test_unknown_fields_are_rejected_with_the_expected_names():
    with pytest.raises(ConfigError, match=r"unknown field.*'colour'"):
        BatchJob.from_dict({"job_id": "j", "formulas": [], "input": "x", "colour": "red"})


def test_derived_properties():
    task = _examples()[0]
    assert task.duration_ms == pytest.approx(3.0)
    job = _examples()[1]
    assert job.progress == pytest.approx(0.4)
    assert not job.status.finished and BatchStatus.CANCELLED.finished
    assert PerformanceMetrics(cache_hits=3, cache_misses=1).cache_hit_rate == 0.75
    assert PerformanceMetrics().cache_hit_rate is None
    assert SyncFrequency.MINUTE.interval_seconds == 60.0
    assert SyncFrequency.REAL_TIME.interval_seconds is None


def test_formula_error_says_where():
    err = FormulaError("unknown name", text="PTS + FOO", column=7, token="FOO")
    assert str(err) == "unknown name at column 7 ('FOO')"
