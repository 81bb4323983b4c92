"""Finished games are retired from live tracking after a (short, here) retention, over a real
uvicorn: REST still serves their final box score from storage, their bus state is freed."""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from pathlib import Path

import httpx
import pytest

from courtside.sources.playbyplay import builder_for

GAME = "0022000001"
LIVE = ["TS_PCT", "GAME_SCORE"]


@pytest.fixture(scope="module")
def final_box(shared_data: Path):
    folder = shared_data / "nba-live"
    builder, actions = builder_for(
        json.loads((folder / f"playbyplay_{GAME}.json").read_text()),
        json.loads((folder / f"boxscore_{GAME}.json").read_text()))
    for action in actions:
        builder.apply(action)
    return dataclasses.replace(builder.snapshot(source="test"), status=3)


def _wait_untracked(http: httpx.Client, game_id: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while game_id in {g["game_id"] for g in http.get("/v1/games").json()["games"]}:
        assert time.monotonic() < deadline, f"game {game_id} was never retired"
        time.sleep(0.05)


@pytest.mark.parametrize("bus", ["memory", "redis"])
def test_finished_game_is_retired_and_its_box_score_read_from_storage(
        make_server, final_box, bus: str, request: pytest.FixtureRequest) -> None:
    options: dict = {}
    if bus == "redis":
        from courtside.live.redisbus import RedisBus

        options["bus"] = RedisBus(request.getfixturevalue("redis_url"),
                                  prefix=f"test-{uuid.uuid4().hex[:8]}")
    server = make_server(live_formulas=LIVE, finished_game_keep_seconds=0.5, **options)
    service = server.service
    live = dataclasses.replace(final_box, status=2)
    with httpx.Client(base_url=server.url, timeout=10) as http:
        server.call(service.ingest_snapshot(live))
        time.sleep(0.8)  # a live game is never retired
        assert [g["game_id"] for g in http.get("/v1/games").json()["games"]] == [GAME]
        before = http.get(f"/v1/games/{GAME}").json()

        server.call(service.ingest_snapshot(final_box))
        tracked = http.get(f"/v1/games/{GAME}").json()
        assert tracked["game"]["status"] == 3 and "archived" not in tracked
        _wait_untracked(http, GAME)

        assert GAME not in service.engine.games
        after = http.get(f"/v1/games/{GAME}?formulas=TS_PCT")
        assert after.status_code == 200, after.text
        body = after.json()
        assert body["archived"] is True and body["game"]["status"] == 3
        assert body["game"]["home_pts"] == before["game"]["home_pts"]
        players = {e["id"]: e["values"] for e in body["entities"] if e["kind"] == "player"}
        assert players and all("GAME_SCORE" not in v for v in players.values())
        live_ts = {e["id"]: e["values"]["TS_PCT"] for e in before["entities"]
                   if e["kind"] == "player"}
        assert {k: v["TS_PCT"] for k, v in players.items()} == live_ts

        # the bus no longer holds the game's topics (nor its entity on scoreboard)
        game_state = server.call(service.bus.latest(f"game:{GAME}"))
        assert game_state.entities == {} and game_state.last is None
        player = next(iter(players))
        assert server.call(service.bus.latest(f"player:{player}")).entities == {}
        board = server.call(service.bus.latest("scoreboard"))
        assert f"game:{GAME}" not in board.entities

        # a calculation for the retired game fails at once with a clear 404
        started = time.monotonic()
        calc = http.post("/v1/calculate", json={
            "formula": "TS_PCT", "timeout_seconds": 5,
            "entity": f"player:{player}@{GAME}"})
        assert calc.status_code == 404 and "retired" in calc.json()["error"]["message"], calc.text
        assert time.monotonic() - started < 2
        assert http.get("/v1/games/0099999999").status_code == 404
    if bus == "redis":
        server.call(service.bus.clear())


def test_at_most_max_finished_games_stay_tracked(make_server, final_box) -> None:
    server = make_server(live_formulas=LIVE, finished_game_keep_seconds=None,
                         max_finished_games=1)
    service = server.service
    other = dataclasses.replace(final_box, game_id="0022000002")
    with httpx.Client(base_url=server.url, timeout=10) as http:
        server.call(service.ingest_snapshot(final_box))
        server.call(service.ingest_snapshot(other))
        _wait_untracked(http, GAME)
        assert [g["game_id"] for g in http.get("/v1/games").json()["games"]] == ["0022000002"]
        # the players are still in a tracked game: their topics keep their state
        player = next(line.id for line in other.players)
        assert server.call(service.bus.latest(f"player:{player}")).entities
        assert server.call(service.bus.latest(f"game:{GAME}")).entities == {}
        assert http.get(f"/v1/games/{GAME}").json()["archived"] is True


async def test_subscribers_are_told_when_a_game_is_retired(make_server, final_box) -> None:
    from websockets.asyncio.client import connect

    from .wsclient import recv, send

    server = make_server(live_formulas=LIVE, finished_game_keep_seconds=0.3)
    service = server.service
    await server.acall(service.ingest_snapshot(dataclasses.replace(final_box, status=2)))
    async with connect(server.ws_url) as board, connect(server.ws_url) as game:
        await send(board, type="subscribe", topic="scoreboard")
        await send(game, type="subscribe", topic=f"game:{GAME}", formulas=["TS_PCT"])
        assert [e["id"] for e in (await recv(board))["entities"]] == [GAME]
        await recv(game)  # the game's snapshot
        await server.acall(service.ingest_snapshot(final_box))
        for ws in (board, game):
            while (msg := await recv(ws, 10))["values"].get("RETIRED") is not True:
                assert msg["type"] == "update"
            assert msg["entity"]["kind"] == "game" and msg["entity"]["id"] == GAME
            assert msg["values"] == {"RETIRED": True}
    async with connect(server.ws_url) as late:
        await send(late, type="subscribe", topic="scoreboard")
        assert (await recv(late))["entities"] == []
