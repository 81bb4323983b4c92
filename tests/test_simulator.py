"""The built-in game simulator: consistent box scores, realistic rates, real names, seeds."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
from nba_api.stats.static import players, teams

from courtside.sources.playbyplay import derive_boxscore
from courtside.sources.simulator import simulate_game

OVERTIME_SEED = 4  # this seed's game is tied after 48 minutes


@pytest.fixture(scope="module")
def games():
    return {seed: simulate_game(seed) for seed in [*range(12), OVERTIME_SEED]}


def test_box_scores_are_internally_consistent(games) -> None:
    for seed, game in games.items():
        snap = derive_boxscore(game.playbyplay, game.boxscore)
        regulation = 240 + 25 * (snap.period - 4)
        last = game.playbyplay["game"]["actions"][-1]
        assert snap.status == 3
        for team in snap.teams:
            mine = [p for p in snap.players if p.team_id == team.id]
            assert len(mine) == 13
            assert sum(p.stats["MIN"] for p in mine) == pytest.approx(regulation), seed
            assert team.stats["MIN"] == pytest.approx(regulation)
            for stat in ("PTS", "FGM", "FGA", "FG3M", "FG3A", "FTM", "FTA", "AST", "STL",
                         "BLK", "PF"):
                assert team.stats[stat] == sum(p.stats[stat] for p in mine), (seed, stat)
            for line in (*mine, team):
                s = line.stats
                assert s["PTS"] == 2 * s["FGM"] + s["FG3M"] + s["FTM"]
                assert 0 <= s["FG3M"] <= s["FG3A"] <= s["FGA"] and s["FGM"] <= s["FGA"]
                assert s["FG3M"] <= s["FGM"] and 0 <= s["FTM"] <= s["FTA"]
                assert s["REB"] == s["OREB"] + s["DREB"]
            assert all(0 <= p.stats["MIN"] <= 48 + 5 * (snap.period - 4) for p in mine)
            assert all(p.stats["PF"] <= 6 for p in mine)
            assert sum(p.stats["MIN"] > 0 for p in mine) == 10  # a ten-man rotation
        home, away = snap.teams
        assert home.stats["PTS"] != away.stats["PTS"]
        assert (home.stats["PTS"], away.stats["PTS"]) == (int(last["scoreHome"]), int(last["scoreAway"]))
        assert home.stats["PLUS_MINUS"] == -away.stats["PLUS_MINUS"]


def test_overtime(games) -> None:
    snap = derive_boxscore(games[OVERTIME_SEED].playbyplay, games[OVERTIME_SEED].boxscore)
    assert snap.period == 5
    periods = [a for a in games[OVERTIME_SEED].playbyplay["game"]["actions"]
               if a["actionType"] == "period" and a["subType"] == "start"]
    assert [a["clock"] for a in periods] == ["PT12M00.00S"] * 4 + ["PT05M00.00S"]
    assert periods[-1]["periodType"] == "OVERTIME"


def test_rates_are_realistic(games) -> None:
    rows = []
    for game in games.values():
        for s in (t.stats for t in derive_boxscore(game.playbyplay, game.boxscore).teams):
            poss = s["FGA"] - s["OREB"] + s["TOV"] + 0.44 * s["FTA"]
            rows.append({"poss": poss, "three_rate": s["FG3A"] / s["FGA"],
                         "tov": s["TOV"] / poss, "orb": s["OREB"] / (s["FGA"] - s["FGM"]),
                         "fta": s["FTA"], "pts": s["PTS"], "pf": s["PF"]})

    def mean(key: str) -> float:
        return statistics.mean(r[key] for r in rows)

    assert 93 <= mean("poss") <= 107
    assert 0.36 <= mean("three_rate") <= 0.46
    assert 0.11 <= mean("tov") <= 0.16
    assert 0.22 <= mean("orb") <= 0.32
    assert 17 <= mean("fta") <= 28
    assert 100 <= mean("pts") <= 122
    assert 16 <= mean("pf") <= 24


def test_real_names_and_ids(games) -> None:
    team_ids = {t["id"]: t for t in teams.get_teams()}
    active = {p["id"]: p for p in players.get_active_players()}
    for game in games.values():
        box = game.boxscore["game"]
        sides = (box["homeTeam"], box["awayTeam"])
        assert sides[0]["teamId"] != sides[1]["teamId"]
        people = set()
        for side in sides:
            info = team_ids[side["teamId"]]
            assert side["teamTricode"] == info["abbreviation"] and side["teamName"] == info["nickname"]
            for p in side["players"]:
                assert active[p["personId"]]["full_name"] == p["name"]
                people.add(p["personId"])
        assert len(people) == 26  # nobody plays for both teams


def test_same_seed_same_game_and_different_seeds_differ() -> None:
    a, b = simulate_game(7), simulate_game(7)
    assert json.dumps(a.playbyplay) == json.dumps(b.playbyplay)
    assert json.dumps(a.boxscore) == json.dumps(b.boxscore)
    assert json.dumps(simulate_game(8).playbyplay) != json.dumps(a.playbyplay)
    assert a.game_id == "0099000007"


def test_actions_have_the_real_feeds_keys(games, shared_data: Path) -> None:
    real = json.loads((shared_data / "nba-live" / "playbyplay_0022000001.json").read_text())
    always = set.intersection(*(set(a) for a in real["game"]["actions"]))
    by_kind: dict[tuple[str, bool], set[str]] = {}
    for action in real["game"]["actions"]:
        kind = action["actionType"], action["personId"] == 0
        by_kind[kind] = by_kind.get(kind, set(action)) & set(action)
    for action in games[0].playbyplay["game"]["actions"]:
        assert always <= set(action), action
        # what every real action of the kind carries, the simulated one carries too
        # (shots: shotResult, isFieldGoal; rebounds: teamId...)
        kind = action["actionType"], action["personId"] == 0
        missing = by_kind.get(kind, set()) - set(action)
        assert missing <= {"area", "areaDetail",
                           "isTargetScoreLastPeriod", "reboundTotal", "reboundDefensiveTotal",
                           "reboundOffensiveTotal", "shotActionNumber", "turnoverTotal",
                           "foulPersonalTotal", "foulTechnicalTotal", "officialId",
                           "jumpBallRecoveredName", "jumpBallWonPlayerName",
                           "jumpBallLostPlayerName", "shotDistance"}, (action["actionType"], missing)
    numbers = [a["orderNumber"] for a in games[0].playbyplay["game"]["actions"]]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
