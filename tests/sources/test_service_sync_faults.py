"""A failing NBA feed, end to end through the service: stale games, status and metrics.

Lives with the source tests to share their fake cdn.nba.com (a subprocess on loopback).
"""

from __future__ import annotations

from pathlib import Path

from prometheus_client import generate_latest

from courtside.model import HealthState
from courtside.service import RealTimeCalculationService
from courtside.sources.scheduler import new_sync

GAME = "0022000001"


async def test_a_failing_source_marks_its_game_stale_and_shows_in_status_and_metrics(
        fake_nba, tmp_path: Path) -> None:
    service = RealTimeCalculationService(data_dir=tmp_path)
    await service.start()
    try:
        sync = new_sync("live", "nba_api", "minute", {
            "base_url": fake_nba.url, "game_ids": [GAME], "retry": {"attempts": 1}})
        await service.scheduler.add(sync, start=False)
        games = service.bus.subscribe("scoreboard")

        [run] = await service.sync_live_data("live")
        assert run["games"] == [GAME] and run["error"] is None
        state = service.engine.game(GAME)
        assert state.status == 2 and not state.stale
        ts = state.entity_values("team", "1610612744")["TS_PCT"]  # GSW
        assert 0.3 < ts < 0.8
        first = [p for _, p in iter(games.get_nowait, None)]
        assert first[-1]["values"]["STALE"] is False

        fake_nba.fault("5xx", count=50, path="boxscore")
        [run] = await service.sync_live_data("live")
        assert run["error"] and "503" in run["error"]
        assert service.engine.game(GAME).stale
        stale = [p for _, p in iter(games.get_nowait, None)]
        assert [p["values"] for p in stale] == [{"STALE": True}]
        # the last good values are still served
        assert service.engine.game(GAME).entity_values("team", "1610612744")["TS_PCT"] == ts

        status = await service.status()
        [source] = status.sources
        assert source["name"] == "live"
        assert source["health"]["state"] == HealthState.DEGRADED.value
        assert source["health"]["consecutive_failures"] >= 1 or source["health"]["last_error"]
        assert status.games[0]["stale"] is True
        metrics = generate_latest(service.metrics.registry).decode()
        assert 'courtside_source_up{source="live"} 0.5' in metrics
        assert 'courtside_sync_runs_total{outcome="failure",source="live"} 1.0' in metrics

        fake_nba.admin("DELETE", "/_faults")
        [run] = await service.sync_live_data("live")
        assert run["error"] is None and not service.engine.game(GAME).stale
        assert [p for _, p in iter(games.get_nowait, None)][-1]["values"]["STALE"] is False
        metrics = generate_latest(service.metrics.registry).decode()
        assert 'courtside_source_up{source="live"} 1.0' in metrics
    finally:
        await service.stop()
