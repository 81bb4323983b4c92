"""A failing NBA feed end to end through the HTTP API and the WebSocket.

The sync is defined and run over REST against a local fake cdn.nba.com; when the feed fails,
the game turns stale on the WebSocket, the source shows as degraded in /v1/status and in
/metrics, and all of it recovers when the fault ends.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.api.wsclient import recv, send
from tests.sources.conftest import FakeNBAProcess
from websockets.asyncio.client import connect

GAME = "0022000001"


@pytest.fixture(scope="module")
def fake(shared_data: Path) -> Iterator[FakeNBAProcess]:
    server = FakeNBAProcess(str(shared_data / "nba-live"), str(Path(__file__).parents[2]))
    yield server
    server.close()


def _source_up(text: str) -> float | None:
    found = re.search(r'^courtside_source_up\{source="live"\} ([0-9.]+)$', text, re.M)
    return float(found.group(1)) if found else None


async def _stale_update(ws) -> bool:  # type: ignore[no-untyped-def]
    while True:
        message = await recv(ws, timeout=10)
        if message["type"] == "update" and "STALE" in message["values"]:
            return message["values"]["STALE"]


async def test_failing_feed_shows_stale_over_websocket_status_and_metrics(
        make_server, fake: FakeNBAProcess) -> None:  # type: ignore[no-untyped-def]
    fake.reset()
    server = make_server(live_formulas=["TS_PCT", "PER"])
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        made = await http.post("/v1/syncs", json={
            "name": "live", "source_type": "nba_api", "frequency": "day",
            "config": {"base_url": fake.url, "game_ids": [GAME], "retry": {"attempts": 1}}})
        assert made.status_code == 201, made.text
        # adding started the sync (its first run fed the game); a run now changes nothing
        [run] = (await http.post("/v1/syncs/live/run")).json()["runs"]
        assert run["error"] is None and run["health"]["state"] == "ok"
        [game] = (await http.get("/v1/games")).json()["games"]
        assert game["game_id"] == GAME and game["status"] == 2 and game["stale"] is False
        assert [s["name"] for s in (await http.get("/v1/syncs")).json()["syncs"]] == ["live"]

        async with connect(server.ws_url) as ws:
            await send(ws, type="subscribe", topic="scoreboard")
            snapshot = await recv(ws)
            assert snapshot["entities"][0]["values"]["STALE"] is False

            fake.fault("5xx", count=50, path="boxscore")
            [run] = (await http.post("/v1/syncs/live/run")).json()["runs"]
            assert run["error"] and "503" in run["error"]
            assert await _stale_update(ws) is True
            status = (await http.get("/v1/status")).json()
            [source] = status["sources"]
            assert source["name"] == "live" and source["health"]["state"] == "degraded"
            assert status["games"][0]["stale"] is True
            assert _source_up((await http.get("/metrics")).text) == 0.5
            # the last good values are still served
            box = (await http.get(f"/v1/games/{GAME}")).json()
            assert any(e["values"].get("TS_PCT") for e in box["entities"])

            fake.admin("DELETE", "/_faults")
            [run] = (await http.post("/v1/syncs/live/run")).json()["runs"]
            assert run["error"] is None
            assert await _stale_update(ws) is False
            assert _source_up((await http.get("/metrics")).text) == 1.0
            assert (await http.get("/v1/sources")).json()["sources"][0]["health"]["state"] \
                == "ok"
