"""Every REST call under /v1 and every WebSocket message (but ping) is one usage event."""

from __future__ import annotations

import httpx
from tests.api.wsclient import recv, send
from websockets.asyncio.client import connect

from courtside.storage.usage import EVENT_COLUMNS, select_events


async def test_rest_and_websocket_calls_are_recorded_once_each(server) -> None:  # type: ignore[no-untyped-def]
    service = server.service
    async with httpx.AsyncClient(base_url=server.url, headers={"X-Client-Id": "tester"}) as http:
        ok = await http.post("/v1/calculate", json={"formula": "TS_PCT",
                                                    "inputs": {"PTS": 10, "FGA": 8, "FTA": 2}})
        assert ok.status_code == 200
        assert (await http.get("/v1/formulas/NOPE")).status_code == 404
        assert (await http.get("/healthz")).status_code == 200  # not under /v1: not recorded
    async with connect(server.ws_url) as ws:
        await send(ws, type="subscribe", topic="game:0022000001")
        await recv(ws)
        await send(ws, type="ping")
        await recv(ws)
        await send(ws, type="subscribe", topic="game:1", formulas=["NOPE"])
        assert (await recv(ws))["code"] == "unknown_formula"

    def rows() -> list[dict]:
        service.usage.flush()
        return [dict(zip(EVENT_COLUMNS, r, strict=True))
                for r in select_events(service.database, None, None)]

    events = await server.acall(_in_loop(rows))
    seen = {(e["interface"], e["tool"], e["outcome"], e["error_code"], e["formula"],
             e["client"]) for e in events}
    assert ("rest", "POST /v1/calculate", "ok", None, "TS_PCT", "tester") in seen
    assert ("rest", "GET /v1/formulas/{name}", "error", "not_found", None, "tester") in seen
    assert ("websocket", "ws subscribe", "ok", None, None, "127.0.0.1") in seen
    assert ("websocket", "ws subscribe", "error", "unknown_formula", None, "127.0.0.1") in seen
    assert len(events) == 4  # the calculation is not counted twice; healthz and ping are not


async def _in_loop(fn):  # type: ignore[no-untyped-def]
    return fn()
