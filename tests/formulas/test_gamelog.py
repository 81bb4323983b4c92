"""Team and opponent context from a team game log: hand-made logs and bad input."""

from __future__ import annotations

import polars as pl
import pytest

from courtside.formulas.gamelog import (
    game_log_teams,
    league_context,
    league_from_teams,
    team_context,
)
from courtside.model import DataError

STATS = ("MIN", "PTS", "FGM", "FGA", "FG3M", "FG3A", "FTM", "FTA", "OREB", "DREB", "REB",
         "AST", "STL", "BLK", "TOV", "PF")


def _row(game: str, team: str, pts: int, fga: int, oreb: int, dreb: int, tov: int,
         fta: int = 20, fgm: int = 40) -> dict:
    row = dict.fromkeys(STATS, 0)
    row.update({"GAME_ID": game, "TEAM_ABBREVIATION": team, "MIN": 240, "PTS": pts,
                "FGM": fgm, "FGA": fga, "FTA": fta, "FTM": 15, "OREB": oreb, "DREB": dreb,
                "REB": oreb + dreb, "TOV": tov, "FG3M": 10, "FG3A": 30})
    return row


@pytest.fixture
def log() -> pl.DataFrame:
    # Three teams, three games: AAA beats BBB, BBB beats CCC, CCC beats AAA.
    return pl.DataFrame([
        _row("G1", "AAA", 110, 90, 10, 35, 12), _row("G1", "BBB", 100, 85, 8, 33, 15),
        _row("G2", "BBB", 105, 88, 12, 30, 14), _row("G2", "CCC", 99, 92, 9, 34, 11),
        _row("G3", "CCC", 120, 80, 7, 40, 10), _row("G3", "AAA", 95, 95, 11, 31, 16),
    ])


def test_each_team_gets_its_own_and_its_opponents_totals(log: pl.DataFrame) -> None:
    teams = team_context(log)
    aaa = teams.filter(pl.col("TEAM_ABBREVIATION") == "AAA").row(0, named=True)
    assert (aaa["TEAM_GP"], aaa["TEAM_W"], aaa["TEAM_L"]) == (2.0, 1.0, 1.0)
    assert aaa["TEAM_PTS"] == 205 and aaa["OPP_PTS"] == 220  # 110+95; 100+120
    assert aaa["TEAM_FGA"] == 185 and aaa["OPP_FGA"] == 165
    assert aaa["OPP_DREB"] == 33 + 40 and aaa["OPP_OREB"] == 8 + 7


def test_possessions_pace_and_ratings_by_hand(log: pl.DataFrame) -> None:
    teams = game_log_teams(log)
    aaa = teams.filter(pl.col("TEAM_ABBREVIATION") == "AAA").row(0, named=True)
    t = {s: aaa[f"TEAM_{s}"] for s in STATS}
    o = {s: aaa[f"OPP_{s}"] for s in STATS}

    def side(a: dict, b: dict) -> float:
        orb = a["OREB"] / (a["OREB"] + b["DREB"])
        return a["FGA"] + 0.4 * a["FTA"] - 1.07 * orb * (a["FGA"] - a["FGM"]) + a["TOV"]

    poss = 0.5 * (side(t, o) + side(o, t))
    assert aaa["TEAM_POSS"] == pytest.approx(poss)
    assert aaa["OPP_POSS"] == pytest.approx(poss)
    assert aaa["TEAM_PACE"] == pytest.approx(48 * poss / (480 / 5))
    assert aaa["TEAM_ORTG"] == pytest.approx(100 * 205 / poss)
    assert aaa["TEAM_DRTG"] == pytest.approx(100 * 220 / poss)
    assert aaa["NET_RTG"] == pytest.approx(100 * (205 - 220) / poss)


def test_league_totals_are_the_teams_sums(log: pl.DataFrame) -> None:
    teams = game_log_teams(log)
    league = league_context(teams).row(0, named=True)
    assert league["LG_PTS"] == 110 + 100 + 105 + 99 + 120 + 95
    assert league["LG_GP"] == 6  # team-games: three games, two sides each
    assert league["LG_POSS"] == pytest.approx(teams["TEAM_POSS"].sum())
    assert "LG_PACE" not in league and "LG_ORTG" not in league  # derived, never summed
    assert league_from_teams(pl.DataFrame({"Tm": ["AAA"], "Pace": [99.0]})) is None


def test_seasons_split_the_teams(log: pl.DataFrame) -> None:
    two = pl.concat([log.with_columns(pl.lit("22018").alias("SEASON_ID")),
                     log.with_columns(pl.lit("22019").alias("SEASON_ID"))])
    teams = team_context(two)
    assert teams.height == 6 and set(teams["TEAM_GP"]) == {2.0}
    assert league_context(teams, by=["SEASON_ID"]).height == 2


def test_a_game_with_one_side_is_refused_by_name(log: pl.DataFrame) -> None:
    with pytest.raises(DataError, match=r"G3 \(1 row\).*PlayerOrTeam=T"):
        team_context(log.filter(~((pl.col("GAME_ID") == "G3") & (pl.col("PTS") == 95))))


def test_a_team_listed_twice_in_a_game_is_refused(log: pl.DataFrame) -> None:
    bad = log.with_columns(pl.when(pl.col("GAME_ID") == "G1").then(pl.lit("AAA"))
                           .otherwise(pl.col("TEAM_ABBREVIATION")).alias("TEAM_ABBREVIATION"))
    with pytest.raises(DataError, match="same team twice"):
        team_context(bad)


def test_a_row_without_its_team_is_reported_as_such(log: pl.DataFrame) -> None:
    """A null team is a missing value, not a team listed twice: the error names the game,
    the column and what to do (it said "a game lists the same team twice")."""
    bad = log.with_columns(pl.when((pl.col("GAME_ID") == "G2") & (pl.col("PTS") == 99))
                           .then(None).otherwise(pl.col("TEAM_ABBREVIATION"))
                           .alias("TEAM_ABBREVIATION"))
    with pytest.raises(DataError) as caught:
        team_context(bad)
    message = str(caught.value)
    assert "same team twice" not in message
    assert "G2" in message and "'TEAM_ABBREVIATION'" in message and "no team" in message
    assert "fill" in message and "team=" in message
    # Another team column that every row fills is a way out, as the message says.
    with_ids = bad.with_columns(pl.Series("TEAM_ID", ["1", "2", "2", "3", "3", "1"]))
    assert team_context(with_ids, team="TEAM_ID").height == 3


def test_a_row_without_its_game_is_reported_as_such(log: pl.DataFrame) -> None:
    bad = log.with_columns(pl.when(pl.col("GAME_ID") == "G3").then(None)
                           .otherwise(pl.col("GAME_ID")).alias("GAME_ID"))
    with pytest.raises(DataError, match=r"2 row\(s\) have no GAME_ID") as caught:
        team_context(bad)
    assert "same team twice" not in str(caught.value)


@pytest.mark.parametrize(("drop", "message"), [
    ("GAME_ID", "no GAME_ID column"), ("TEAM_ABBREVIATION", "no team column"),
    ("OREB", "lacks stat column"),
])
def test_missing_columns_say_what_is_missing(log: pl.DataFrame, drop: str,
                                             message: str) -> None:
    with pytest.raises(DataError, match=message):
        team_context(log.drop(drop))


def test_an_empty_log_is_refused() -> None:
    with pytest.raises(DataError, match="no rows"):
        team_context(pl.DataFrame({"GAME_ID": []}))
