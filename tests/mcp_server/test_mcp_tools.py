"""The MCP server through the official ``mcp.Client`` in-process: every tool with valid and
invalid arguments, values checked against the NBA's own box score of GSW at BKN
(2020-12-22, final 125-99) and hand-computed numbers."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client
from mcp_types import Implementation

from courtside.mcp import create_mcp_server
from mcp_server.conftest import CURRY, GAME, data, error_text, player_stats

TOOLS = {
    "start_realtime_service", "stop_realtime_service", "calculate_formula_realtime",
    "process_batch_calculations", "get_batch_job", "get_batch_results", "cancel_batch_job",
    "sync_live_data", "get_realtime_service_status", "optimize_realtime_performance",
    "list_formulas", "describe_formula", "define_formula", "list_live_games",
    "get_game_boxscore", "track_usage_event", "analyze_usage_patterns",
    "generate_usage_insights", "optimize_usage_based_performance", "generate_usage_report",
    "setup_usage_alerts", "create_usage_dashboard",
}


def client(service, name: str = "test-agent") -> Client:
    return Client(create_mcp_server(service), client_info=Implementation(name=name, version="1"))


def ts(stats: dict) -> float:
    return stats["points"] / (2 * (stats["fieldGoalsAttempted"]
                                   + 0.44 * stats["freeThrowsAttempted"]))


async def test_every_tool_is_listed_with_a_description_and_schema(service) -> None:
    async with client(service) as c:
        tools = {t.name: t for t in (await c.list_tools()).tools}
        assert set(tools) == TOOLS
        for tool in tools.values():
            assert len(tool.description or "") > 40, tool.name
            assert tool.input_schema["type"] == "object"
        calc = tools["calculate_formula_realtime"].input_schema
        assert calc["required"] == ["formula_id"]
        assert {"input_data", "player", "team", "game_id"} <= set(calc["properties"])
        templates = (await c.list_resource_templates()).resource_templates
        assert [t.uri_template for t in templates] == ["courtside://games/{gameId}"]


async def test_player_and_team_values_by_id_and_by_name_equal_the_nba_box(final_game,
                                                                         nba_box) -> None:
    curry = player_stats(nba_box, CURRY)
    async with client(final_game) as c:
        by_name = data(await c.call_tool("calculate_formula_realtime",
                                         {"formula_id": "TS_PCT", "player": "Stephen Curry"}))
        assert by_name["value"] == pytest.approx(ts(curry), abs=1e-12)
        assert by_name["entity"]["id"] == CURRY and by_name["entity"]["game_id"] == GAME
        assert by_name["entity"]["name"] == "Stephen Curry"
        for query in (CURRY, "curry", "STEPHEN CURRY"):
            again = data(await c.call_tool("calculate_formula_realtime",
                                           {"formula_id": "ts_pct", "player": query,
                                            "game_id": GAME}))
            assert again["value"] == by_name["value"] and again["cache_hit"] is True
        team = data(await c.call_tool("calculate_formula_realtime",
                                      {"formula_id": "TS_PCT", "team": "GSW"}))
        gsw = nba_box["game"]["awayTeam"]["statistics"]
        assert team["value"] == pytest.approx(gsw["trueShootingPercentage"], abs=5e-5)
        # explicit inputs override the live line: hand-computed 30 / (2 * (20 + 0.44 * 10))
        mixed = data(await c.call_tool("calculate_formula_realtime",
                                       {"formula_id": "TS_PCT", "player": "Curry",
                                        "input_data": {"PTS": 30, "FGA": 20, "FTA": 10}}))
        assert mixed["value"] == pytest.approx(30 / 48.8)
        plain = data(await c.call_tool("calculate_formula_realtime",
                                       {"formula_id": "EFG_PCT",
                                        "input_data": {"FGM": 10, "FG3M": 4, "FGA": 20}}))
        assert plain["value"] == pytest.approx((10 + 0.5 * 4) / 20) and plain["entity"] is None


async def test_calculate_rejects_bad_arguments_with_useful_messages(final_game) -> None:
    async with client(final_game) as c:
        async def err(args: dict) -> str:
            return error_text(await c.call_tool("calculate_formula_realtime", args))

        assert "unknown formula 'TS_PTC'" in await err({"formula_id": "TS_PTC", "player": "Curry"})
        assert "did you mean" in await err({"formula_id": "TS_PTC", "player": "Curry"})
        text = await err({"formula_id": "TS_PCT", "player": "Stephen Cury"})
        assert "no player named" in text and "Stephen Curry" in text  # the close name
        assert "not both" in await err({"formula_id": "TS_PCT", "player": "Curry",
                                         "team": "GSW"})
        assert "give input_data" in await err({"formula_id": "TS_PCT"})
        assert "needs" in await err({"formula_id": "TS_PCT", "input_data": {"PTS": 3}})
        assert "is not tracked" in await err({"formula_id": "TS_PCT", "player": "Curry",
                                              "game_id": "0099999999"})
        assert "formula_id" in await err({"player": "Curry"})  # required argument missing
        assert "input_data" in await err({"formula_id": "TS_PCT",
                                          "input_data": {"PTS": "many"}})


async def test_formulas_list_describe_and_define(final_game, nba_box) -> None:
    async with client(final_game) as c:
        formulas = data(await c.call_tool("list_formulas", {}))
        ids = {f["id"] for f in formulas}
        assert {"TS_PCT", "PER", "USG_PCT"} <= ids
        assert data(await c.call_tool("list_formulas", {"kind": "custom"})) == []
        assert "kind" in error_text(await c.call_tool("list_formulas", {"kind": "magic"}))
        info = data(await c.call_tool("describe_formula", {"formula_id": "ts_pct"}))
        assert info["id"] == "TS_PCT" and {"PTS", "FGA", "FTA"} <= set(info["inputs"])
        assert "unknown formula" in error_text(
            await c.call_tool("describe_formula", {"formula_id": "NOPE"}))

        defined = data(await c.call_tool("define_formula", {
            "name": "PTS_PER_SHOT", "expression": "PTS / (FGA + 0.44 * FTA)"}))
        assert defined["id"] == "PTS_PER_SHOT" and defined["version"] == 1
        value = data(await c.call_tool("calculate_formula_realtime",
                                       {"formula_id": "PTS_PER_SHOT", "player": CURRY}))
        assert value["value"] == pytest.approx(2 * ts(player_stats(nba_box, CURRY)))
        # the live box score carries the new formula at once
        box = data(await c.call_tool("get_game_boxscore", {"game_id": GAME,
                                                           "formulas": ["PTS_PER_SHOT"]}))
        curry = next(e for e in box["entities"] if e["id"] == CURRY)
        assert curry["values"]["PTS_PER_SHOT"] == pytest.approx(value["value"])
        bad = error_text(await c.call_tool("define_formula", {"name": "BAD",
                                                              "expression": "PTS +* 2"}))
        assert "column" in bad
        assert "built-in" in error_text(await c.call_tool(
            "define_formula", {"name": "TS_PCT", "expression": "PTS"}))
        evil = error_text(await c.call_tool(
            "define_formula", {"name": "EVIL", "expression": "__import__('os')"}))
        assert "column 1" in evil
        customs = data(await c.call_tool("list_formulas", {"kind": "custom"}))
        assert [f["id"] for f in customs] == ["PTS_PER_SHOT"]


async def test_games_and_box_score(final_game, nba_box) -> None:
    async with client(final_game) as c:
        games = data(await c.call_tool("list_live_games", {}))
        assert [(g["game_id"], g["status"], g["home_tricode"], g["home_pts"], g["away_tricode"],
                 g["away_pts"]) for g in games] == [(GAME, 3, "BKN", 125, "GSW", 99)]
        box = data(await c.call_tool("get_game_boxscore", {"game_id": GAME,
                                                           "formulas": ["TS_PCT"]}))
        players = [e for e in box["entities"] if e["kind"] == "player"]
        assert len(players) == sum(p["played"] == "1" for s in ("homeTeam", "awayTeam")
                                   for p in nba_box["game"][s]["players"])
        curry = next(e for e in players if e["id"] == CURRY)
        assert curry["values"]["PTS"] == player_stats(nba_box, CURRY)["points"]
        assert curry["values"]["TS_PCT"] == pytest.approx(ts(player_stats(nba_box, CURRY)))
        assert "PER" not in curry["values"]
        teams_only = data(await c.call_tool("get_game_boxscore",
                                            {"game_id": GAME, "players": False}))
        assert {e["kind"] for e in teams_only["entities"]} == {"game", "team"}
        assert "not tracked" in error_text(
            await c.call_tool("get_game_boxscore", {"game_id": "123"}))


async def test_batch_job_is_returned_at_once_then_followed_with_progress(
        service, shared_data: Path) -> None:
    import polars as pl

    csv = shared_data / "boxscores" / "player_boxscores_2023-24.csv"
    season = pl.read_csv(csv, infer_schema_length=10_000)
    progress: list[tuple[float, float | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total))

    async with client(service) as c:
        job = data(await c.call_tool("process_batch_calculations", {
            "formulas": ["TS_PCT"], "data_path": str(csv), "batch_size": 5000,
            "column_map": {"Points": "PTS"}}))
        assert job["status"] in ("queued", "processing") and len(job["job_id"]) == 16
        done = data(await c.call_tool("get_batch_job", {"job_id": job["job_id"], "wait": True},
                                      progress_callback=on_progress))
        assert done["status"] == "completed" and done["processed_rows"] == season.height
        assert done["chunks_total"] == 6
        assert progress[-1] == (season.height, season.height)
        assert [p for p, _ in progress] == sorted(p for p, _ in progress)
        rows = data(await c.call_tool("get_batch_results", {"job_id": job["job_id"],
                                                            "limit": 3, "offset": 100}))
        assert rows["total_rows"] == season.height and len(rows["rows"]) == 3
        for row, src in zip(rows["rows"], season.slice(100, 3).to_dicts(), strict=True):
            denom = 2 * (src["FGA"] + 0.44 * src["FTA"])
            assert row["TS_PCT"] == (pytest.approx(src["Points"] / denom) if denom else None)

        inline = data(await c.call_tool("process_batch_calculations", {
            "formulas": ["TS_PCT"], "rows": [{"PTS": 30, "FGA": 20, "FTA": 10},
                                             {"PTS": 0, "FGA": 0, "FTA": 0}], "wait": True}))
        assert inline["status"] == "completed" and inline["total_rows"] == 2
        inline_rows = data(await c.call_tool("get_batch_results", {"job_id": inline["job_id"]}))
        assert [r["TS_PCT"] for r in inline_rows["rows"]] == [pytest.approx(30 / 48.8), None]
        assert [(e["row_index"], e["formula"]) for e in inline_rows["errors"]] == [(1, "TS_PCT")]
        assert inline_rows["next_offset"] is None and inline_rows["error_count"] == 1

        assert "either data_path" in error_text(await c.call_tool(
            "process_batch_calculations", {"formulas": ["TS_PCT"]}))
        missing = data(await c.call_tool("process_batch_calculations", {
            "formulas": ["TS_PCT"], "data_path": "/nonexistent/*.csv"}))
        failed = data(await c.call_tool("get_batch_job", {"job_id": missing["job_id"],
                                                          "wait": True}))
        assert failed["status"] == "failed" and "no file matches" in failed["error"]
        assert "unknown formula" in error_text(await c.call_tool(
            "process_batch_calculations", {"formulas": ["NOPE"], "rows": [{"PTS": 1}]}))
        assert "executor" in error_text(await c.call_tool(
            "process_batch_calculations", {"formulas": ["TS_PCT"], "rows": [{"PTS": 1}],
                                           "executor": "gpu"}))
        assert "no batch job 'nope'" in error_text(
            await c.call_tool("get_batch_job", {"job_id": "nope"}))


async def test_status_optimize_sync_and_lifecycle(final_game) -> None:
    service = final_game
    async with client(service) as c:
        for _ in range(3):
            await c.call_tool("calculate_formula_realtime",
                              {"formula_id": "TS_PCT", "player": "Curry"})
        status = data(await c.call_tool("get_realtime_service_status", {}))
        assert status["running"] is True and [g["game_id"] for g in status["games"]] == [GAME]
        assert status["metrics"]["cache_hits"] == 2 and status["metrics"]["cache_misses"] == 1
        tuned = data(await c.call_tool("optimize_realtime_performance", {"apply": False}))
        assert "recommendations" in tuned and tuned["applied"] == []
        synced = await c.call_tool("sync_live_data", {"sync": "no-such-sync"})
        assert "no-such-sync" in error_text(synced)

        stopped = data(await c.call_tool("stop_realtime_service", {}))
        assert stopped == {"running": False} and not service.running
        assert "not started" in error_text(await c.call_tool(
            "process_batch_calculations", {"formulas": ["TS_PCT"], "rows": [{"PTS": 1}]}))
        started = data(await c.call_tool("start_realtime_service", {}))
        assert started["running"] is True and service.running


async def test_sync_live_data_reports_the_runs(service) -> None:
    await service.add_sync("sim", "replay", "day", {"seeds": [1], "speed": 1000.0},
                           auto_start=False)
    async with client(service) as c:
        result = await c.call_tool("sync_live_data", {"sync": "sim"})
    assert not result.is_error, error_text(result)
    runs = data(result)["runs"]
    assert [r["name"] for r in runs] == ["sim"] and runs[0]["error"] is None
    assert {"games", "rows", "stale", "health"} <= runs[0].keys()
