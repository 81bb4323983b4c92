"""CUSTOM_ENDPOINT and NBA_API history (stats.nba.com through nba_api) on loopback servers,
and the REPLAY source."""

from __future__ import annotations

import json
import time

import pytest

from courtside.model import ConfigError
from courtside.sources.custom_endpoint import CustomEndpointSource
from courtside.sources.errors import HTMLPageError, SchemaDriftError
from courtside.sources.livedata import parse_boxscore
from courtside.sources.nba_stats import NbaStatsSource
from courtside.sources.replay_adapter import ReplayAdapter

FAST = {"attempts": 2, "base_delay": 0.001}


async def test_custom_json_endpoint_with_mapping_and_env_auth(scripted, monkeypatch):
    script, base = scripted
    doc = {"data": {"players": [
        {"pid": 1, "game": "g1", "points": 21, "fgm": 8, "fga": 14, "when": "2025-02-05T01:00:00Z"},
        {"pid": 2, "game": "g1", "points": 9, "fgm": 4, "fga": 3},  # impossible: held
    ]}}
    script.push(200, json.dumps(doc).encode())
    monkeypatch.setenv("COURTSIDE_TEST_TOKEN", "s3cret")
    src = CustomEndpointSource(
        "custom", f"{base}/api/box", records_path="data.players",
        mapping={"pid": "PLAYER_ID", "game": "GAME_ID", "points": "PTS", "fgm": "FGM",
                 "fga": "FGA"}, data_time_column="when", auth_header="Authorization",
        auth_env="COURTSIDE_TEST_TOKEN", auth_prefix="Bearer ", retry=FAST)
    batch = await src.fetch()
    await src.aclose()
    assert [(r.key, r.values["PTS"]) for r in batch.rows] == [("g1|1", 21.0)]
    assert batch.rows[0].data_time.isoformat() == "2025-02-05T01:00:00+00:00"
    assert [i.rule for i in src.issues] == ["FGM<=FGA"]
    assert script.requests[0]["headers"]["authorization"] == "Bearer s3cret"
    assert "s3cret" not in json.dumps(src.config.headers)


async def test_custom_csv_endpoint_and_result_set_shape(scripted):
    script, base = scripted
    script.push(200, b"GAME_ID,TEAM_ID,PTS\ng1,10,101\ng1,11,99\n", {"content-type": "text/csv"})
    script.push(200, json.dumps({"headers": ["GAME_ID", "PTS"], "rowSet": [["g2", 88]]}).encode())
    async with CustomEndpointSource("c", f"{base}/box.csv", retry=FAST) as src:
        rows = (await src.fetch()).rows
    assert [(r.key, r.values["PTS"]) for r in rows] == [("g1|10", 101.0), ("g1|11", 99.0)]
    async with CustomEndpointSource("c", f"{base}/rs", retry=FAST) as src:
        assert (await src.fetch()).rows[0].values == {"GAME_ID": "g2", "PTS": 88.0}


async def test_custom_endpoint_errors_are_clear(scripted, monkeypatch):
    script, base = scripted
    script.push(200, json.dumps({"data": {}}).encode())
    async with CustomEndpointSource("c", f"{base}/x", records_path="data.players",
                                    retry=FAST) as src:
        with pytest.raises(SchemaDriftError, match=r"records_path 'data\.players' not found"):
            await src.fetch()
    monkeypatch.delenv("NOPE_TOKEN", raising=False)
    async with CustomEndpointSource("c", f"{base}/x", auth_header="X-Key",
                                    auth_env="NOPE_TOKEN") as src:
        with pytest.raises(ConfigError, match="NOPE_TOKEN"):
            await src.fetch()
    with pytest.raises(ConfigError, match="auth_env"):
        CustomEndpointSource("c", f"{base}/x", headers={"Authorization": "Bearer abc"})


async def test_stats_history_through_nba_api(scripted, shared_data):
    script, base = scripted
    body = (shared_data / "nba-stats" / "leaguegamelog_2018-19_team.json").read_bytes()
    script.push(200, body)
    script.push(200, body)
    src = NbaStatsSource("history", params={"season": "2018-19",
                                            "player_or_team_abbreviation": "T"},
                         base_url=f"{base}/stats", rate_per_second=4, retry=FAST,
                         headers={"User-Agent": "courtside-test"})
    started = time.monotonic()
    batch = await src.fetch()
    await src.fetch()
    took = time.monotonic() - started
    await src.aclose()
    sent = script.requests[0]
    assert sent["path"] == "/stats/leaguegamelog"
    assert sent["query"]["Season"] == "2018-19" and sent["query"]["PlayerOrTeam"] == "T"
    assert sent["headers"]["referer"] == "https://www.nba.com/"  # nba_api's stats headers
    assert sent["headers"]["user-agent"] == "courtside-test"
    assert len(batch.rows) == 2460
    first = batch.rows[0]
    # The first row of the file, as published: MIN @ DEN, 2019-04-10.
    assert first.key == "0021801228|1610612750"
    assert (first.values["PTS"], first.values["FGM"], first.values["FGA"]) == (95.0, 39.0, 91.0)
    assert first.data_time.date().isoformat() == "2019-04-10"
    assert took >= 0.24  # the second request waited for the host's token bucket (4/s)


async def test_stats_block_page_is_reported(scripted):
    script, base = scripted
    script.push(403, b"<html><head><title>Access Denied</title></head></html>",
                {"content-type": "text/html"})
    async with NbaStatsSource("h", base_url=f"{base}/stats", retry=FAST) as src:
        with pytest.raises(HTMLPageError, match="Access Denied"):
            await src.fetch()


async def test_replay_source_plays_to_the_final_box_score(shared_data):
    pbp = shared_data / "nba-live" / "playbyplay_0022000001.json"
    final = parse_boxscore(json.loads(pbp.with_name("boxscore_0022000001.json").read_text()))
    async with ReplayAdapter("replay", str(pbp), seeds=[3], speed=0) as src:
        batch = await src.fetch()
    real, simulated = batch.snapshots
    assert real.status == 3 and simulated.status == 3 and real.source == "replay"
    assert {t.id: t.stats["PTS"] for t in real.teams} == {t.id: t.stats["PTS"]
                                                         for t in final.teams}


async def test_replay_source_moves_with_the_clock(shared_data):
    pbp = shared_data / "nba-live" / "playbyplay_0022000001.json"
    async with ReplayAdapter("replay", str(pbp), speed=2000, max_gap=30) as src:
        first = (await src.fetch()).snapshots[0]
        import asyncio

        points = sum(t.stats["PTS"] for t in first.teams)
        later = first
        async with asyncio.timeout(10):  # poll: at 2000x, points come within a fraction of a second
            while sum(t.stats["PTS"] for t in later.teams) <= points:
                await asyncio.sleep(0.02)
                later = (await src.fetch()).snapshots[0]
    assert first.status == 2 and first.period == 1
    assert sum(t.stats["PTS"] for t in later.teams) > points


def test_read_source_is_one_call(tmp_path, shared_data):
    import courtside

    (tmp_path / "a.csv").write_text("GAME_ID,PLAYER_ID,Points,FGM,FGA\ng1,1,20,8,15\n")
    update = courtside.read_source("file_system", path=str(tmp_path / "*.csv"),
                                   mapping={"Points": "PTS"})
    frame = update.frame()
    assert frame["PTS"].to_list() == [20.0] and frame["_source"].to_list() == ["read"]
    assert update.health.state.value == "ok"
    pbp = shared_data / "nba-live" / "playbyplay_0022000001.json"
    [final] = courtside.read_source("replay", playbyplay=str(pbp), speed=0).snapshots
    assert final.status == 3 and sorted(t.stats["PTS"] for t in final.teams) == [99.0, 125.0]
