"""The fake NBA server: real paths, a clock that moves the games, ETags, and each fault."""

from __future__ import annotations

import json

import httpx
import pytest

from courtside.sources.fake_games import load_games
from courtside.sources.livedata import parse_boxscore, parse_scoreboard
from courtside.sources.playbyplay import derive_boxscore

LIVE = "/static/json/liveData"
GAME = "0022000001"


def get(fake, path: str, **kw) -> httpx.Response:
    return httpx.get(fake.url + path, timeout=5, **kw)


def test_paths_clock_and_final(fake_nba, shared_data):
    fake_nba.reset(elapsed=-10)
    board = parse_scoreboard(get(fake_nba, f"{LIVE}/scoreboard/todaysScoreboard_00.json").json())
    assert len(board) == 9 and {g["status"] for g in board} == {1}

    fake_nba.reset(elapsed=1500)
    pbp = get(fake_nba, f"{LIVE}/playbyplay/playbyplay_{GAME}.json").json()
    box = get(fake_nba, f"{LIVE}/boxscore/boxscore_{GAME}.json").json()
    recorded = json.loads((shared_data / "nba-live" / f"playbyplay_{GAME}.json").read_text())
    total = len(recorded["game"]["actions"])
    shown = pbp["game"]["actions"]
    assert 0 < len(shown) < total
    assert shown == recorded["game"]["actions"][: len(shown)]  # feed order kept
    # The live boxscore is the box score derived from exactly the actions shown.
    live = parse_boxscore(box)
    derived = derive_boxscore(pbp, json.loads(
        (shared_data / "nba-live" / f"boxscore_{GAME}.json").read_text()))
    assert live.status == 2 and live.period == shown[-1]["period"]
    assert {p.id: p.stats for p in live.players if p.stats["MIN"] or p.stats["PTS"]} == \
        {p.id: pytest.approx(p.stats) for p in derived.players if p.stats["MIN"] or p.stats["PTS"]}
    assert [t.stats["PTS"] for t in live.teams] == [float(shown[-1]["scoreHome"]),
                                                    float(shown[-1]["scoreAway"])]

    fake_nba.reset(elapsed=10**6)
    final = get(fake_nba, f"{LIVE}/boxscore/boxscore_{GAME}.json").json()
    assert final == json.loads((shared_data / "nba-live" / f"boxscore_{GAME}.json").read_text())
    board = parse_scoreboard(get(fake_nba, f"{LIVE}/scoreboard/todaysScoreboard_00.json").json())
    assert {g["status"] for g in board} == {3}
    assert get(fake_nba, f"{LIVE}/boxscore/boxscore_0000000000.json").status_code == 404


def test_etag_and_304(fake_nba):
    path = f"{LIVE}/boxscore/boxscore_{GAME}.json"
    first = get(fake_nba, path)
    etag = first.headers["etag"]
    assert get(fake_nba, path, headers={"If-None-Match": etag}).status_code == 304
    fake_nba.reset(elapsed=1600)
    moved = get(fake_nba, path, headers={"If-None-Match": etag})
    assert moved.status_code == 200 and moved.headers["etag"] != etag


@pytest.mark.parametrize(("kind", "check"), [
    ("5xx", lambda r: r.status_code == 503),
    ("html_403", lambda r: r.status_code == 403 and b"Access Denied" in r.content),
    ("truncated", lambda r: r.status_code == 200 and r.content.startswith(b"{")
     and not _is_json(r.content)),
    ("schema_drift", lambda r: "statistics" not in r.json()["game"]["homeTeam"]["players"][0]),
    ("counter_backwards", None),
])
def test_each_fault_is_served_count_times(fake_nba, kind, check):
    path = f"{LIVE}/boxscore/boxscore_{GAME}.json"
    good = get(fake_nba, path)
    fake_nba.fault(kind, count=2, path="boxscore")
    bad = [get(fake_nba, path) for _ in range(2)]
    after = get(fake_nba, path)
    for r in bad:
        if check is not None:
            assert check(r)
        else:  # a player's points went down by 2 and nothing else moved
            before = {p.id: p.stats for p in parse_boxscore(good.json()).players}
            now = {p.id: p.stats for p in parse_boxscore(r.json()).players}
            lowered = [pid for pid in now if now[pid]["PTS"] < before[pid]["PTS"]]
            assert len(lowered) == 1 and before[lowered[0]]["PTS"] - now[lowered[0]]["PTS"] == 2
    assert after.status_code == 200 and after.content == good.content
    assert fake_nba.admin("GET", "/_faults")["served"][kind] >= 2


def test_timeout_fault_holds_the_answer(fake_nba):
    fake_nba.fault("timeout", count=1, delay=1.0)
    url = f"{fake_nba.url}{LIVE}/boxscore/boxscore_{GAME}.json"
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(url, timeout=0.2)
    after = httpx.get(url, timeout=5)  # count=1: the next request is answered at once
    assert after.status_code == 200 and after.json()["game"]["gameId"] == GAME


def test_bad_fault_request_is_rejected(fake_nba):
    r = httpx.post(f"{fake_nba.url}/_faults", json={"kind": "meteor"})
    assert r.status_code == 400 and "unknown fault kind" in r.json()["error"]


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def test_clone_games_gives_new_ids(shared_data):
    from courtside.sources.fake_games import clone_games

    games = clone_games(load_games(shared_data / "nba-live"), 15)
    assert len(games) == 15 and len({g.box_doc["game"]["gameId"] for g in games.values()}) == 15
