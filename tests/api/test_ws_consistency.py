"""End to end: a real game replayed through the service, watched over a real WebSocket.

At the end, every player's values rebuilt from the snapshot and the updates equal
``courtside compute`` on the NBA's final box score of the game, and no seq was skipped.
"""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path

import pytest
from tests.api.wsclient import recv, send
from websockets.asyncio.client import connect

import courtside
from courtside.live.league import load_league_context
from courtside.sources.livedata import parse_boxscore

GAME = "0022000001"
TOPIC = f"game:{GAME}"
FORMULAS = ["TS_PCT", "EFG_PCT", "USG_PCT", "GAME_SCORE", "PER", "AST_PCT", "TOV_PCT",
            "ORB_PCT", "DRB_PCT", "STL_PCT", "BLK_PCT", "PIE", "PTS_PER36"]
STATS = ["PTS", "FGM", "FGA", "FG3M", "FG3A", "FTM", "FTA", "OREB", "DREB", "REB", "AST",
         "STL", "BLK", "TOV", "PF", "MIN"]


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


async def test_replayed_game_over_websocket_equals_compute_with_no_seq_gap(
        make_server, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    # 13 live formulas, the page's among them: the composite ones (ratings, Win Shares) make
    # the engine ~30x slower per action and are checked against compute by the engine's tests.
    server = make_server(live_formulas=FORMULAS)
    live = shared_data / "nba-live"
    pbp, box = live / f"playbyplay_{GAME}.json", live / f"boxscore_{GAME}.json"
    service = server.service
    async with connect(server.ws_url, max_size=None) as ws:
        await send(ws, type="subscribe", topic=TOPIC)
        snapshot = await recv(ws)
        assert snapshot["type"] == "snapshot" and snapshot["seq"] == 0
        assert snapshot["entities"] == []

        async def replay() -> tuple[int, int]:
            steps = await service.start_replay(pbp, box, speed=0)
            return steps, (await service.bus.latest(TOPIC)).seq

        replaying = server.acall(replay(), timeout=180)
        entities: dict[tuple[str, str], dict] = {}
        seqs: list[int] = []
        final_seq = None
        task = asyncio.ensure_future(replaying)
        while final_seq is None or (seqs and seqs[-1] < final_seq):
            if final_seq is None and task.done():
                steps, final_seq = task.result()
                assert steps == 611  # the pre-game record and the game's 610 actions
                if seqs and seqs[-1] == final_seq:
                    break
            try:
                message = await recv(ws, timeout=0.5)
            except TimeoutError:
                continue
            assert message["type"] == "update", message
            assert "coalesced_from" not in message
            seqs.append(message["seq"])
            e = message["entity"]
            entities.setdefault((e["kind"], e["id"]), {}).update(message["values"])

    # every seq from 1 to the last, each once, in order: nothing skipped
    assert seqs == list(range(1, final_seq + 1))
    assert final_seq > 5000

    game = entities[("game", GAME)]
    assert game["GAME_STATUS"] == 3 and game["PERIOD"] == 4
    assert (game["HOME_PTS"], game["AWAY_PTS"]) == (125, 99)

    ids = FORMULAS
    doc = json.loads(box.read_text())
    frame = courtside.compute(doc, ids, preset="nba-live", context=load_league_context())
    rows = {str(r["PLAYER_ID"]): r for r in frame.iter_rows(named=True)}
    official = {line.id: line.stats for line in parse_boxscore(doc).players}
    players = {ident: values for (kind, ident), values in entities.items() if kind == "player"}
    played = {pid for pid, stats in official.items() if stats["MIN"]}
    assert played <= set(players)
    assert len(played) >= 20
    compared = 0
    for pid in played:
        for name in STATS:  # the NBA's own counting stats
            assert players[pid][name] == pytest.approx(official[pid][name], abs=1e-9), \
                (pid, name)
        for fid in ids:
            assert _same(players[pid][fid], rows[pid][fid]), (pid, fid, players[pid][fid],
                                                               rows[pid][fid])
            compared += 1
    assert compared == len(played) * len(ids)
