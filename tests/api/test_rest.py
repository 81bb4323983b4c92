"""The REST API over a real service and a real uvicorn, after a replay of a real game."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.api.serving import ServerThread

from courtside.api.app import create_app
from courtside.service import RealTimeCalculationService

GAME = "0022000001"
TOKEN = "t0ken-for-tests"
# The live engine keeps these current (the whole catalog makes a replay ~30x slower).
LIVE = ["TS_PCT", "EFG_PCT", "USG_PCT", "GAME_SCORE", "PER", "PIE"]


@pytest.fixture(scope="module")
def box(shared_data: Path) -> dict:
    return json.loads((shared_data / "nba-live" / f"boxscore_{GAME}.json").read_text())


@pytest.fixture(scope="module")
def replayed(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    """A token-guarded server whose service has replayed the whole real game."""
    service = RealTimeCalculationService(data_dir=tmp_path_factory.mktemp("rest"),
                                         live_formulas=LIVE)
    server = ServerThread(create_app(service, token=TOKEN)).start()
    live = shared_data / "nba-live"

    async def replay() -> int:
        return await service.start_replay(live / f"playbyplay_{GAME}.json",
                                          live / f"boxscore_{GAME}.json", speed=0)

    server.call(replay(), timeout=120)
    yield server
    server.stop()


@pytest.fixture
def http(replayed: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=replayed.url, timeout=10) as client:
        yield client


def _ts(stats: dict) -> float:
    # TS% = PTS / (2 * (FGA + 0.44 * FTA)), by hand from the NBA's own box score
    return stats["points"] / (2 * (stats["fieldGoalsAttempted"]
                                   + 0.44 * stats["freeThrowsAttempted"]))


def test_calculate_explicit_inputs_and_cache(http: httpx.Client) -> None:
    body = {"formula": "ts%", "inputs": {"PTS": 30, "FGA": 20, "FTA": 6}}
    first = http.post("/v1/calculate", json=body)
    assert first.status_code == 200, first.text
    task = first.json()
    assert task["formula_id"] == "TS_PCT" and task["status"] == "completed"
    assert task["result"] == pytest.approx(30 / (2 * (20 + 0.44 * 6)))
    assert task["cache_hit"] is False and task["duration_ms"] >= 0
    again = http.post("/v1/calculate", json=body).json()
    assert again["cache_hit"] is True and again["result"] == task["result"]
    # the Python and MCP argument names are accepted too
    named = http.post("/v1/calculate", json={"formula_id": "TS_PCT",
                                             "input_data": {"PTS": 10, "FGA": 8, "FTA": 0}})
    assert named.status_code == 200, named.text
    assert named.json()["result"] == pytest.approx(10 / 16)


def test_calculate_live_entity_matches_the_nba_box_score(http: httpx.Client, box: dict) -> None:
    curry = next(p for p in box["game"]["awayTeam"]["players"] if p["personId"] == 201939)
    task = http.post("/v1/calculate", json={"formula": "TS_PCT",
                                            "entity": f"player:201939@{GAME}"}).json()
    assert task["entity"] == f"player:201939@{GAME}"
    assert task["result"] == pytest.approx(_ts(curry["statistics"]), abs=1e-12)
    # explicit inputs override the live ones
    task = http.post("/v1/calculate", json={"formula": "TS_PCT", "inputs": {"PTS": 0},
                                            "entity": f"player:201939@{GAME}"}).json()
    assert task["result"] == 0.0


def test_errors_are_json_with_a_code_and_no_traceback(http: httpx.Client) -> None:
    cases = [
        ({"formula": "NOPE", "inputs": {"PTS": 1}}, 404, "not_found", "unknown formula"),
        ({"formula": "TS_PCT", "inputs": {"PTS": 1}}, 422, "calculation_failed", "FGA"),
        ({"formula": "TS_PCT", "entity": "player:1@0022000001"}, 404, "not_found", "player 1"),
        ({"formula": "TS_PCT", "entity": "coach:1"}, 422, "calculation_failed", "kind must be"),
        ({"inputs": {"PTS": 1}}, 422, "invalid_request", "formula"),
        ({"formula": "TS_PCT", "bogus": 1}, 422, "invalid_request", "bogus"),
    ]
    for body, status, code, words in cases:
        response = http.post("/v1/calculate", json=body)
        assert response.status_code == status, (body, response.text)
        error = response.json()["error"]
        assert error["code"] == code, (body, error)
        assert words in error["message"], (body, error)
        assert "Traceback" not in response.text
    response = http.post("/v1/calculate", content=b"{nope", headers={"content-type":
                                                                        "application/json"})
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"
    assert http.get("/v1/nothing-here").json()["error"]["code"] == "not_found"


def test_formulas_list_show_and_define(http: httpx.Client) -> None:
    listing = http.get("/v1/formulas").json()
    ids = {f["id"] for f in listing["formulas"]}
    assert {"TS_PCT", "EFG_PCT", "USG_PCT", "GAME_SCORE", "PER"} <= ids
    assert listing["count"] == len(listing["formulas"])
    shown = http.get("/v1/formulas/true_shooting").json()
    assert shown["id"] == "TS_PCT" and "PTS" in shown["inputs"]
    assert http.get("/v1/formulas/NOPE").status_code == 404
    assert http.get("/v1/formulas?kind=weird").json()["error"]["code"] == "invalid_config"

    definition = {"definitions": ["SCORING_EDGE=PTS - 2*FGA"]}
    denied = http.post("/v1/formulas", json=definition)
    assert denied.status_code == 401 and denied.json()["error"]["code"] == "unauthorized"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    made = http.post("/v1/formulas", json=definition, headers=auth)
    assert made.status_code == 201, made.text
    assert made.json()["defined"][0]["id"] == "SCORING_EDGE"
    task = http.post("/v1/calculate", json={"formula": "SCORING_EDGE",
                                            "inputs": {"PTS": 30, "FGA": 20}}).json()
    assert task["result"] == -10.0
    customs = http.get("/v1/formulas?kind=custom").json()["formulas"]
    assert [f["id"] for f in customs] == ["SCORING_EDGE"]
    bad = http.post("/v1/formulas", json={"definitions": ["X=PTS.__class__"]}, headers=auth)
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_formula"
    assert "attribute access is not allowed at column" in bad.json()["error"]["message"]


def test_games_and_box_score(http: httpx.Client, box: dict) -> None:
    games = http.get("/v1/games").json()["games"]
    assert [g["game_id"] for g in games] == [GAME]
    game = games[0]
    assert game["status"] == 3  # final
    assert (game["home_pts"], game["away_pts"]) == (box["game"]["homeTeam"]["score"],
                                                    box["game"]["awayTeam"]["score"])
    full = http.get(f"/v1/games/{GAME}").json()
    players = {e["id"]: e["values"] for e in full["entities"] if e["kind"] == "player"}
    for side in ("homeTeam", "awayTeam"):
        for p in box["game"][side]["players"]:
            if p["statistics"]["fieldGoalsAttempted"] or p["statistics"]["freeThrowsAttempted"]:
                values = players[str(p["personId"])]
                assert values["PTS"] == p["statistics"]["points"]
                assert values["TS_PCT"] == pytest.approx(_ts(p["statistics"]), abs=1e-12)
    filtered = http.get(f"/v1/games/{GAME}?formulas=TS_PCT").json()
    one = next(e["values"] for e in filtered["entities"] if e["id"] == "201939")
    assert "TS_PCT" in one and "PTS" in one and "PER" not in one and "USG_PCT" not in one
    spaced = http.get(f"/v1/games/{GAME}", params={"formulas": "TS_PCT, USG_PCT"})
    assert spaced.status_code == 200, spaced.text  # a space after the comma is fine
    one = next(e["values"] for e in spaced.json()["entities"] if e["id"] == "201939")
    assert "TS_PCT" in one and "USG_PCT" in one and "PER" not in one
    assert http.get("/v1/games/0000000000").status_code == 404


def test_status_health_readiness_and_docs(http: httpx.Client) -> None:
    assert http.get("/healthz").json() == {"status": "ok"}
    assert http.get("/readyz").json() == {"status": "ready"}
    status = http.get("/v1/status").json()
    assert status["running"] is True and status["uptime_seconds"] > 0
    assert [g["game_id"] for g in status["games"]] == [GAME]
    assert status["metrics"]["updates_published"] > 0
    assert http.get("/v1/sources").json() == {"count": 0, "sources": []}
    docs = http.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    paths = http.get("/openapi.json").json()["paths"]
    assert {"/v1/calculate", "/v1/formulas", "/v1/games", "/v1/games/{game_id}",
            "/v1/status", "/v1/sources", "/v1/syncs"} <= set(paths)


def test_metrics_in_prometheus_format(http: httpx.Client) -> None:
    http.post("/v1/calculate", json={"formula": "EFG_PCT",
                                     "inputs": {"FGM": 5, "FG3M": 2, "FGA": 10}})
    response = http.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    calc = re.search(r'courtside_calculations_total\{formula="EFG_PCT",status="completed"\} '
                     r'([0-9.]+)', text)
    assert calc and float(calc.group(1)) >= 1
    assert re.search(r'courtside_calculation_seconds_bucket\{le="0\.001",path="computed"\}', text)
    for name in ("courtside_cache_hits_total", "courtside_cache_misses_total",
                 "courtside_updates_published_total", "courtside_queue_depth",
                 "courtside_games_tracked"):
        assert re.search(rf"^{name}(\{{[^}}]*\}})? [0-9.e+]+$", text, re.M), name
    assert "# TYPE courtside_messages_dropped_total counter" in text
    assert "# TYPE courtside_subscribers gauge" in text
