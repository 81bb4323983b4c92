"""POST /v1/calculate picks 404 or 422 by the error's type, not by words in its message."""

from __future__ import annotations

import httpx


def test_status_follows_the_error_type_not_its_wording(server) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        # a ConfigError (a malformed entity id) whose text holds "not tracked": a bad request
        bad = http.post("/v1/calculate", json={"formula": "TS_PCT",
                                               "entity": "player:not tracked"})
        assert bad.status_code == 422, bad.text
        assert bad.json()["error"]["code"] == "calculation_failed"
        # a NotFoundError whose text holds none of the old words: no player by that name
        server.call(server.service.ingest_snapshot(_snapshot()))
        missing = http.post("/v1/calculate", json={"formula": "TS_PCT",
                                                   "entity": "player:nobody@0022000001"})
        assert missing.status_code == 404, missing.text
        unknown = http.post("/v1/calculate", json={"formula": "NO_SUCH_STAT",
                                                   "inputs": {"PTS": 1}})
        assert unknown.status_code == 404, unknown.text
        # a formula that fails on its inputs stays a 422
        short = http.post("/v1/calculate", json={"formula": "TS_PCT", "inputs": {"PTS": 1}})
        assert short.status_code == 422, short.text


def _snapshot():
    from courtside.model import GameSnapshot, StatLine

    return GameSnapshot(game_id="0022000001", status=2, period=1, clock="PT10M00.00S",
                        home_team_id="1", away_team_id="2", home_tricode="AAA",
                        away_tricode="BBB",
                        players=[StatLine("player", "10", "1", "A Player", {"PTS": 2.0})],
                        teams=[StatLine("team", "1", "1", "AAA", {"PTS": 2.0}),
                               StatLine("team", "2", "2", "BBB", {"PTS": 0.0})])
