"""The liveData parsers against the NBA's own recorded documents."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from courtside.model import DataError
from courtside.sources.livedata import (
    CANONICAL_STATS,
    parse_boxscore,
    parse_feed_time,
    parse_iso_minutes,
    parse_scoreboard,
)


def _boxscores(shared_data: Path) -> list[Path]:
    live = shared_data / "nba-live"
    return [live / "boxscore_0022000001.json", *sorted((live / "2024-25").glob("boxscore_*.json"))]


@pytest.fixture(scope="module")
def opener(shared_data: Path) -> dict:
    return json.loads((shared_data / "nba-live" / "boxscore_0022000001.json").read_text())


def test_iso_minutes() -> None:
    assert parse_iso_minutes("PT34M12.00S") == pytest.approx(34.2)
    assert parse_iso_minutes("PT240M00.00S") == 240.0
    assert parse_iso_minutes("PT00M07.50S") == pytest.approx(0.125)
    assert parse_iso_minutes("PT21M") == 21.0
    assert parse_iso_minutes("") == 0.0
    with pytest.raises(DataError, match="ISO 8601"):
        parse_iso_minutes("34:12")


@pytest.mark.parametrize("text", ["PT34M12.00S", "PT1H02M30.00S", "PT2H", "pt21m", "PT45S",
                                  "PT00M07.50S"])
def test_tables_read_minutes_as_the_live_feed_does(text: str) -> None:
    from courtside.sources.tabular import normalise_rows, parse_minutes

    assert parse_minutes(text) == pytest.approx(parse_iso_minutes(text.upper()))
    rows, issues = normalise_rows([{"GAME_ID": "g", "PLAYER_ID": 1, "MIN": text, "PTS": 3}],
                                  source="t")
    assert issues == [] and rows[0].values["MIN"] == pytest.approx(parse_minutes(text))


def test_a_bad_duration_holds_back_its_row_only() -> None:
    from courtside.sources.tabular import normalise_rows

    rows, issues = normalise_rows([{"GAME_ID": "g", "PLAYER_ID": 1, "MIN": "PTxM"},
                                   {"GAME_ID": "g", "PLAYER_ID": 2, "MIN": "PT3M"}], source="t")
    assert [r.values["MIN"] for r in rows] == [3.0]
    assert len(issues) == 1 and "MIN='PTxM' is not a number" in issues[0].message


def test_files_read_the_table_formats_of_tables() -> None:
    from courtside.sources import files, tables

    assert files.FORMATS is tables.FORMATS  # one list: a format added there is read here


def test_feed_time_meta_is_eastern() -> None:
    # meta.time has no offset and is the NBA's Eastern server clock (EST in December).
    assert parse_feed_time("2020-12-22 23:24:13.5") == datetime(2020, 12, 23, 4, 24, 13, 500000, UTC)
    assert parse_feed_time("2025-02-08T03:00:00Z") == datetime(2025, 2, 8, 3, 0, tzinfo=UTC)


def test_opener_boxscore(opener: dict) -> None:
    snap = parse_boxscore(opener, source="file", fetched_at=datetime(2021, 1, 1, tzinfo=UTC))
    assert (snap.game_id, snap.status, snap.period, snap.clock) == ("0022000001", 3, 4, "PT00M00.00S")
    assert (snap.home_tricode, snap.away_tricode) == ("BKN", "GSW")
    assert (snap.home_team_id, snap.away_team_id) == ("1610612751", "1610612744")
    assert snap.source == "file" and snap.fetched_at.year == 2021
    assert snap.data_time == datetime(2020, 12, 23, 4, 24, 13, 537508, UTC)
    # Chiozza and Claxton were inactive: 15 active Nets, one line each
    assert len([p for p in snap.players if p.team_id == "1610612751"]) == 15
    harris = next(p for p in snap.players if p.id == "203925")
    assert harris.name == "Joe Harris" and harris.starter
    assert harris.stats == {
        "MIN": pytest.approx(20 + 46 / 60), "PTS": 10, "FGM": 4, "FGA": 8, "FG3M": 2, "FG3A": 5,
        "FTM": 0, "FTA": 0, "OREB": 2, "DREB": 5, "REB": 7, "AST": 2, "STL": 0, "BLK": 1,
        "TOV": 2, "PF": 2, "PLUS_MINUS": 21,
    }
    home, away = snap.teams
    assert home.kind == "team" and home.name == "BKN"
    # feed: 13 player + 6 team offensive, 44 + 2 defensive, 65 in all; final 125-99
    assert home.stats["OREB"] == 19 and home.stats["DREB"] == 46 and home.stats["REB"] == 65
    assert home.stats["PTS"] == 125 and away.stats["PTS"] == 99
    assert home.stats["PLUS_MINUS"] == 26 and away.stats["PLUS_MINUS"] == -26
    assert home.stats["MIN"] == 240.0


def test_every_game_team_lines_are_consistent(shared_data: Path) -> None:
    for path in _boxscores(shared_data):
        doc = json.loads(path.read_text())
        snap = parse_boxscore(doc)
        for team, side in zip(snap.teams, ("homeTeam", "awayTeam"), strict=True):
            feed = doc["game"][side]["statistics"]
            mine = [p for p in snap.players if p.team_id == team.id]
            for stat in ("PTS", "FGM", "FGA", "FG3M", "FG3A", "FTM", "FTA", "AST", "STL", "BLK", "PF"):
                assert team.stats[stat] == sum(p.stats[stat] for p in mine), (path.name, stat)
            assert team.stats["OREB"] + team.stats["DREB"] == team.stats["REB"] == feed["reboundsTotal"]
            assert team.stats["TOV"] == feed["turnoversTotal"]
            assert team.stats["TOV"] == sum(p.stats["TOV"] for p in mine) + feed["turnoversTeam"]
            assert set(team.stats) == set(CANONICAL_STATS)
            # 240 player-minutes per regulation game plus 25 per overtime
            periods = doc["game"]["period"]
            assert sum(p.stats["MIN"] for p in mine) == pytest.approx(240 + 25 * (periods - 4), abs=0.1)


def test_team_true_shooting_matches_the_feed(shared_data: Path) -> None:
    checked = 0
    for path in _boxscores(shared_data):
        doc = json.loads(path.read_text())
        snap = parse_boxscore(doc)
        for team, side in zip(snap.teams, ("homeTeam", "awayTeam"), strict=True):
            s = team.stats
            ts = s["PTS"] / (2 * (s["FGA"] + 0.44 * s["FTA"]))
            assert ts == pytest.approx(doc["game"][side]["statistics"]["trueShootingPercentage"],
                                       rel=1e-12), path.name
            checked += 1
    assert checked == 18


def test_malformed_boxscore_says_what_is_missing(opener: dict) -> None:
    with pytest.raises(DataError, match="missing key 'game'"):
        parse_boxscore({"meta": {}})
    broken = copy.deepcopy(opener)
    del broken["game"]["awayTeam"]["players"][3]["statistics"]["points"]
    with pytest.raises(DataError, match=r"awayTeam\.players\[3\]\.statistics: missing key 'points'"):
        parse_boxscore(broken)
    broken = copy.deepcopy(opener)
    broken["game"]["homeTeam"]["players"][0]["statistics"]["fieldGoalsMade"] = "four"
    with pytest.raises(DataError, match="expected a number"):
        parse_boxscore(broken)
    with pytest.raises(DataError, match="expected an object"):
        parse_boxscore({"game": []})


SCOREBOARD = {
    "meta": {"version": 1, "time": "2025-02-05 20:41:07.4107"},
    "scoreboard": {
        "gameDate": "2025-02-05",
        "games": [
            {"gameId": "0022400710", "gameStatus": 2, "gameStatusText": "Q3 5:12 ", "period": 3,
             "gameClock": "PT05M12.00S", "gameTimeUTC": "2025-02-06T00:00:00Z",
             "homeTeam": {"teamId": 1610612737, "teamCity": "Atlanta", "teamName": "Hawks",
                          "teamTricode": "ATL", "wins": 24, "losses": 27, "score": 80},
             "awayTeam": {"teamId": 1610612765, "teamCity": "Detroit", "teamName": "Pistons",
                          "teamTricode": "DET", "wins": 26, "losses": 25, "score": 77}},
            {"gameId": "0022400716", "gameStatus": 1, "gameStatusText": "10:00 pm ET",
             "period": 0, "gameClock": "", "gameTimeUTC": "2025-02-06T03:00:00Z",
             "homeTeam": {"teamId": 1610612747, "teamTricode": "LAL", "score": 0},
             "awayTeam": {"teamId": 1610612744, "teamTricode": "GSW", "score": 0}},
        ],
    },
}


def test_scoreboard_summaries() -> None:
    live, later = parse_scoreboard(SCOREBOARD)
    assert live["game_id"] == "0022400710" and live["status"] == 2 and live["period"] == 3
    assert live["clock"] == "PT05M12.00S" and live["status_text"] == "Q3 5:12"
    assert live["home"] == {"team_id": "1610612737", "tricode": "ATL", "name": "Atlanta Hawks",
                            "score": 80, "wins": 24, "losses": 27}
    assert live["away"]["score"] == 77
    assert later["status"] == 1 and later["start_time"] == datetime(2025, 2, 6, 3, tzinfo=UTC)
    with pytest.raises(DataError, match=r"games\[1\]: missing key 'homeTeam'"):
        broken = copy.deepcopy(SCOREBOARD)
        del broken["scoreboard"]["games"][1]["homeTeam"]
        parse_scoreboard(broken)
    with pytest.raises(DataError, match="missing key 'scoreboard'"):
        parse_scoreboard({"game": {}})
