"""The MCP server over its two transports with the official client: ``courtside mcp`` as a
stdio subprocess replaying the real GSW at BKN game, and streamable HTTP at ``/mcp`` of the
FastAPI app on a real uvicorn (token required)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx
import psutil
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp_types import Implementation
from sqlalchemy import select
from tests.api.serving import ServerThread

from courtside.api.app import create_app
from courtside.service import RealTimeCalculationService
from courtside.storage.db import Database, default_url
from courtside.storage.usage import usage_events
from mcp_server.conftest import CURRY, GAME, data, error_text, player_stats
from mcp_server.test_mcp_tools import TOOLS, ts

ROOT = Path(__file__).resolve().parents[2]
LIGHT = "TS_PCT,EFG_PCT,GAME_SCORE"


def stdio(data_dir: Path, *args: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable, args=["-m", "courtside", "mcp", "--data-dir", str(data_dir),
                                      "--formulas", LIGHT, *args],
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")})


def events(data_dir: Path) -> list[dict]:
    db = Database(default_url(data_dir))
    try:
        with db.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(usage_events))]
    finally:
        db.dispose()


async def wait_final(c: Client, timeout: float = 120) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            games = data(await c.call_tool("list_live_games", {}))
            if games and games[0]["status"] == 3:
                return games[0]
            await asyncio.sleep(0.2)


async def test_stdio_subprocess_replays_the_game_and_records_every_call(
        tmp_path: Path, game_files, nba_box) -> None:
    agent = Implementation(name="stdio-agent", version="1")
    async with Client(stdio(tmp_path, "--replay", str(game_files[0]), "--speed", "0"),
                      client_info=agent) as c:
        assert {t.name for t in (await c.list_tools()).tools} == TOOLS
        final = await wait_final(c)
        assert (final["home_tricode"], final["home_pts"], final["away_pts"]) == ("BKN", 125, 99)
        polls = 1 + sum(1 for e in events(tmp_path) if e["tool"] == "list_live_games")
        value = data(await c.call_tool("calculate_formula_realtime",
                                       {"formula_id": "TS_PCT", "player": "Stephen Curry"}))
        assert value["value"] == pytest.approx(ts(player_stats(nba_box, CURRY)), abs=1e-12)
        assert "unknown formula" in error_text(await c.call_tool(
            "calculate_formula_realtime", {"formula_id": "XYZ", "input_data": {"PTS": 1}}))
    # the client closed stdin: the server stopped and flushed its usage events
    mine = [e for e in events(tmp_path) if e["interface"] == "mcp"]
    assert {e["client"] for e in mine} == {"stdio-agent"}
    assert len([e for e in mine if e["tool"] == "list_live_games"]) >= polls - 1
    calc = [e for e in mine if e["tool"] == "calculate_formula_realtime"]
    assert [(e["formula"], e["outcome"], e["cache_hit"]) for e in calc] == [
        ("TS_PCT", "ok", False), ("XYZ", "error", False)]
    assert calc[0]["resource"] == f"game:{GAME}"


async def test_acknowledged_event_survives_kill_9(tmp_path: Path) -> None:
    async with Client(stdio(tmp_path)) as c:
        ack = data(await c.call_tool("track_usage_event", {"tool": "durable_probe",
                                                           "duration_ms": 12.5}))
        servers = [p for p in psutil.Process().children(recursive=True)
                   if "mcp" in p.cmdline() and str(tmp_path) in p.cmdline()]
        assert len(servers) == 1
        os.kill(servers[0].pid, signal.SIGKILL)
        servers[0].wait(10)
        with pytest.raises(Exception):  # noqa: B017 - the server is gone
            await asyncio.wait_for(c.call_tool("list_live_games", {}), 5)
    probe = [e for e in events(tmp_path) if e["tool"] == "durable_probe"]
    assert [(e["id"], e["duration_ms"]) for e in probe] == [(ack["event_id"], 12.5)]


async def test_streamable_http_at_mcp_of_the_api_app(tmp_path: Path, game_files,
                                                     nba_box) -> None:
    service = RealTimeCalculationService(data_dir=tmp_path, live_formulas=LIGHT.split(","))
    with ServerThread(create_app(service, token="s3cret")) as server:
        url = f"{server.url}/mcp"
        async with httpx.AsyncClient() as plain:
            refused = await plain.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        assert refused.status_code == 401 and "API token" in refused.json()["error"]["message"]

        async def replay() -> int:  # runs in the server's loop, where the service lives
            return await service.start_replay(*game_files, speed=0)

        assert await server.acall(replay(), timeout=120) == 611
        headers = {"Authorization": "Bearer s3cret"}
        async with create_mcp_http_client(headers=headers) as http, Client(
                streamable_http_client(url, http_client=http),
                client_info=Implementation(name="http-agent", version="1")) as c:
            assert {t.name for t in (await c.list_tools()).tools} == TOOLS
            games = data(await c.call_tool("list_live_games", {}))
            assert [(g["game_id"], g["status"]) for g in games] == [(GAME, 3)]
            value = data(await c.call_tool("calculate_formula_realtime",
                                           {"formula_id": "TS_PCT", "team": "BKN"}))
            bkn = nba_box["game"]["homeTeam"]["statistics"]
            assert value["value"] == pytest.approx(bkn["trueShootingPercentage"], abs=5e-5)
            assert "no team" in error_text(await c.call_tool(
                "calculate_formula_realtime", {"formula_id": "TS_PCT", "team": "LAL"}))
            body = (await c.read_resource(f"courtside://games/{GAME}")).contents[0].text
            assert '"home_pts": 125' in body
            report = data(await c.call_tool("analyze_usage_patterns",
                                            {"period": "hour", "client": "http-agent"}))
            assert report["totals"]["calls"] == 4 and report["totals"]["errors"] == 1
            assert {i["interface"] for i in report["interfaces"]} == {"mcp"}
