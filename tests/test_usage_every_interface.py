"""Every interface records one usage event per call: REST (middleware), WebSocket (per client
message), CLI (per command run), the Python API (standalone functions), besides MCP (tested
with the MCP server). The numbers read back are exactly the calls made here."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from tests.api.serving import ServerThread
from typer.testing import CliRunner
from websockets.asyncio.client import connect

import courtside
from courtside.api.app import create_app
from courtside.api.errors import HTTP_CODES
from courtside.service import RealTimeCalculationService, default_service
from courtside.sources.livedata import parse_boxscore
from courtside.storage.db import Database, default_url
from courtside.storage.usage import usage_events

GAME = "0022000001"


def rows(url: str) -> list[dict]:
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(usage_events))]
    finally:
        db.dispose()


def by_tool(events: list[dict], interface: str) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for e in events:
        if e["interface"] == interface:
            out.setdefault(e["tool"], []).append(e)
    return out


async def test_rest_and_websocket_calls_are_one_event_each(tmp_path: Path,
                                                           shared_data: Path) -> None:
    service = RealTimeCalculationService(data_dir=tmp_path, live_formulas=["TS_PCT"])
    box = json.loads((shared_data / "nba-live" / f"boxscore_{GAME}.json").read_text())
    with ServerThread(create_app(service)) as server:
        async def feed() -> None:
            await service.ingest_snapshot(parse_boxscore(box))

        await server.acall(feed())
        headers = {"X-Client-Id": "stats-page"}
        async with httpx.AsyncClient(base_url=server.url, headers=headers) as http:
            for _ in range(2):
                r = await http.post("/v1/calculate", json={"formula": "TS_PCT",
                                                           "entity": f"player:201939@{GAME}"})
                assert r.status_code == 200
            assert (await http.get("/v1/games")).status_code == 200
            assert (await http.get("/v1/games/0099999999")).status_code == 404
            assert (await http.get("/healthz")).status_code == 200  # probes are not usage
            page = await http.get("/usage")
            assert page.status_code == 200 and "/v1/usage/dashboard" in page.text
            board = (await http.get("/v1/usage/dashboard",
                                    params={"period": "hour", "client": "stats-page"})).json()
            # the four /v1 calls above (pages are not usage); this one is recorded when it ends
            assert board["patterns"]["totals"]["calls"] == 4
        async with connect(server.ws_url, additional_headers=headers) as ws:
            await ws.send(json.dumps({"type": "ping", "id": 1}))
            await ws.send(json.dumps({"type": "subscribe", "topic": f"game:{GAME}"}))
            await ws.send("{not json")
            seen = set()
            while len(seen) < 3:
                seen.add(json.loads(await ws.recv())["type"])
            assert seen >= {"pong", "snapshot", "error"}
        server.call(_flush(service))
        events = rows(default_url(tmp_path))
    rest = by_tool(events, "rest")
    assert {t: len(v) for t, v in rest.items()} == {
        "POST /v1/calculate": 2, "GET /v1/games": 1, "GET /v1/games/{game_id}": 1,
        "GET /v1/usage/dashboard": 1}
    calc = rest["POST /v1/calculate"]
    assert [(e["formula"], e["cache_hit"], e["outcome"], e["client"]) for e in calc] == [
        ("TS_PCT", False, "ok", "stats-page"), ("TS_PCT", True, "ok", "stats-page")]
    assert calc[0]["resource"] == f"game:{GAME}"
    missing = rest["GET /v1/games/{game_id}"][0]
    assert (missing["outcome"], missing["error_code"]) == ("error", HTTP_CODES[404])
    ws_events = by_tool(events, "websocket")
    # pings and unparseable messages are not calls; a subscription is
    assert {t: len(v) for t, v in ws_events.items()} == {"ws subscribe": 1}
    assert ws_events["ws subscribe"][0]["resource"] == f"game:{GAME}"
    assert {e["client"] for v in ws_events.values() for e in v} == {"stats-page"}
    assert [e for e in events if e["interface"] == "python"] == []  # no second event


async def _flush(service: RealTimeCalculationService) -> None:
    service.usage.flush()


async def test_python_api_standalone_functions(tmp_path: Path) -> None:
    await courtside.start_realtime_service(data_dir=tmp_path)
    try:
        for _ in range(2):
            task = await courtside.calculate_formula_realtime(
                "TS_PCT", {"PTS": 30, "FGA": 20, "FTA": 10})
            assert task.result == pytest.approx(30 / 48.8)
        status = await courtside.get_realtime_service_status()
        assert status.running
        default_service().usage.flush()
    finally:
        await courtside.stop_realtime_service()
    python = by_tool(rows(default_url(tmp_path)), "python")
    assert {t: len(v) for t, v in python.items()} == {"calculate_formula_realtime": 2,
                                                      "get_realtime_service_status": 1}
    assert [e["cache_hit"] for e in python["calculate_formula_realtime"]] == [False, True]


def test_cli_commands_record_their_runs(tmp_path: Path, monkeypatch) -> None:
    from courtside.cli import _register, app

    _register()
    _register()  # idempotent: still one event per run
    monkeypatch.setenv("COURTSIDE_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    assert runner.invoke(app, ["formulas", "show", "TS_PCT"]).exit_code == 0
    assert runner.invoke(app, ["formulas", "show", "NOPE"]).exit_code != 0
    other = tmp_path / "other.db"
    assert runner.invoke(app, ["usage", "report", "--db", f"sqlite:///{other}",
                               "--period", "hour"]).exit_code == 0
    cli = by_tool(rows(default_url(tmp_path)), "cli")
    assert {t: [e["outcome"] for e in v] for t, v in cli.items()} == {
        "formulas show": ["ok", "error"]}
    assert cli["formulas show"][1]["error_code"].startswith("exit_")
    assert [e["tool"] for e in rows(f"sqlite:///{other}")] == ["usage report"]
    monkeypatch.setenv("COURTSIDE_USAGE_TRACKING", "0")
    assert runner.invoke(app, ["formulas", "show", "PER"]).exit_code == 0
    assert len(rows(default_url(tmp_path))) == 2
