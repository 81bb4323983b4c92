"""compute against published numbers: Basketball-Reference's advanced table and NBA's live box.

Inputs: bbr/totals.csv (player-team season rows, 2018-19 and 2023-24); expected values:
bbr/advanced.csv. Team pace comes from bbr/team_ratings.csv (team nicknames, mapped to BBR's
abbreviations through nba_api's static team list plus BBR's own codes BRK/CHO/PHO), league
pace from bbr/league_averages.csv. No constant here is fitted to these files.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from nba_api.stats.static import teams as nba_teams

from courtside.batch.compute import compute
from courtside.formulas.context import Context
from data_paths import SHARED_DATA

# BBR's abbreviations where they differ from the NBA's.
BBR_CODES = {"BKN": "BRK", "CHA": "CHO", "PHX": "PHO"}

CHECKS = [  # our id, BBR's column, tolerance
    ("TS_PCT", "TS%", 0.0015), ("FG3A_RATE", "3PAr", 0.0015), ("FTA_RATE", "FTr", 0.0015),
    ("TOV_PCT", "TOV%", 0.15), ("AST_PCT", "AST%", 0.15), ("USG_PCT", "USG%", 0.5),
    ("PER", "PER", 0.3),
]


def seasons_in_data() -> list[int]:
    """Every season in the data folder's Basketball-Reference tables (2019 and 2024 in
    ../shared/data), so that the same checks run unchanged on any other seasons put there."""
    totals = SHARED_DATA / "bbr" / "totals.csv"
    if not totals.is_file():
        return [2019, 2024]  # the shared_data fixture then skips or fails with the reason
    return sorted(pl.read_csv(totals, columns=["Year"])["Year"].unique().to_list())


def bbr_team_pace(shared_data: Path) -> pl.DataFrame:
    nickname = {t["nickname"].replace(" ", ""): BBR_CODES.get(t["abbreviation"],
                                                              t["abbreviation"])
                for t in nba_teams.get_teams()}
    ratings = pl.read_csv(shared_data / "bbr" / "team_ratings.csv")
    return ratings.select("Year", pl.col("Tm").replace_strict(nickname), "Pace")


def write_bbr_season(shared_data: Path, folder: Path,
                     year: int = 2024) -> tuple[pl.DataFrame, pl.DataFrame, float]:
    """A BBR season as a user has it: ``totals.csv`` and ``pace.csv`` (``Tm,Pace``) written to
    ``folder``; returns the pace and totals frames and the league pace."""
    pace = bbr_team_pace(shared_data).filter(pl.col("Year") == year).drop("Year")
    pace.write_csv(folder / "pace.csv")
    totals = pl.read_csv(shared_data / "bbr" / "totals.csv").filter(pl.col("Year") == year)
    totals.write_csv(folder / "totals.csv")
    league_pace = pl.read_csv(shared_data / "bbr" / "league_averages.csv").filter(
        pl.col("Year") == year)["Pace"][0]
    return pace, totals, league_pace


@pytest.fixture(scope="module")
def bbr_result(shared_data: Path) -> pl.DataFrame:
    totals = pl.read_csv(shared_data / "bbr" / "totals.csv")
    league = pl.read_csv(shared_data / "bbr" / "league_averages.csv").select(
        "Year", pl.col("Pace").alias("LG_PACE"))
    team = bbr_team_pace(shared_data).rename({"Pace": "TEAM_PACE"})
    out = compute(totals, [c[0] for c in CHECKS], preset="bbr",
                  context=Context(team=team, league=league))
    advanced = pl.read_csv(shared_data / "bbr" / "advanced.csv")
    return out.join(advanced, on=["Pk", "Year", "Tm"], suffix="_bbr")


@pytest.mark.parametrize("year", seasons_in_data())
@pytest.mark.parametrize(("ours", "theirs", "tolerance"), CHECKS)
def test_bbr_advanced_stats_reproduced(bbr_result: pl.DataFrame, year: int, ours: str,
                                       theirs: str, tolerance: float) -> None:
    rows = bbr_result.filter(pl.col("Year") == year, pl.col("Tm") != "TOT",
                             pl.col("MP") >= 500)
    assert rows.height > 300
    expected = pl.col(f"{theirs}_bbr") if f"{theirs}_bbr" in rows.columns else pl.col(theirs)
    diff = rows.select((pl.col(ours) - expected).abs().alias("d"))["d"]
    share = (diff <= tolerance).sum() / rows.height
    assert share >= 0.98, f"{ours} {year}: {share:.1%} within {tolerance}; worst {diff.max()}"


def test_tot_rows_are_computed_but_get_no_team_context(bbr_result: pl.DataFrame) -> None:
    tot = bbr_result.filter(pl.col("Tm") == "TOT", pl.col("MP") >= 500)
    assert tot.height > 20
    assert tot["TS_PCT"].null_count() == 0
    assert ((tot["TS_PCT"] - tot["TS%"]).abs() <= 0.0015).all()
    assert tot["USG_PCT"].null_count() == tot.height


def test_the_cli_reproduces_bbr_per_from_files(shared_data: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from courtside.cli import _register, app

    _register()
    _, _, league_pace = write_bbr_season(shared_data, tmp_path)
    result = CliRunner().invoke(app, [
        "compute", str(tmp_path / "totals.csv"), "--preset", "bbr",
        "--team-context", str(tmp_path / "pace.csv"), "--league-pace", str(league_pace),
        "--formulas", "PER,ts%", "--output", str(tmp_path / "out.parquet")])
    assert result.exit_code == 0, result.output
    out = pl.read_parquet(tmp_path / "out.parquet")
    assert out.columns[-2:] == ["PER", "TS_PCT"] and "MP" not in out.columns
    advanced = pl.read_csv(shared_data / "bbr" / "advanced.csv").filter(pl.col("Year") == 2024)
    both = out.join(advanced, on=["Pk", "Tm"]).filter(pl.col("Tm") != "TOT",
                                                      pl.col("MP") >= 500)
    close = ((both["PER"] - both["PER_right"]).abs() <= 0.3).mean()
    assert close >= 0.98


def test_live_team_ts_equals_the_nbas_own(shared_data: Path) -> None:
    files = sorted((shared_data / "nba-live").rglob("boxscore_*.json"))
    assert files
    for path in files:
        doc = json.loads(path.read_text())
        published = {doc["game"][side]["teamTricode"]:
                     doc["game"][side]["statistics"]["trueShootingPercentage"]
                     for side in ("homeTeam", "awayTeam")}
        out = compute(path, ["TS_PCT"], preset="nba-live", level="team")
        ours = dict(zip(out["TEAM_ABBREVIATION"], out["TS_PCT"], strict=True))
        assert ours == pytest.approx(published, rel=1e-12), path.name


def test_live_players_use_the_files_team_totals(shared_data: Path) -> None:
    path = shared_data / "nba-live" / "boxscore_0022000001.json"
    doc = json.loads(path.read_text())
    out = compute(path, ["USG_PCT", "TS_PCT"], preset="nba-live")
    home = doc["game"]["homeTeam"]
    assert out.filter(pl.col("TEAM_ABBREVIATION") == home["teamTricode"]).height == len(
        [p for p in home["players"] if p["status"] == "ACTIVE"])
    durant = out.filter(pl.col("PLAYER_NAME") == "Kevin Durant").row(0, named=True)
    stats = next(p for p in home["players"] if p["name"] == "Kevin Durant")["statistics"]
    team = home["statistics"]
    minutes = 24 + 56 / 60
    assert stats["minutes"] == "PT24M56.00S"
    plays = stats["fieldGoalsAttempted"] + 0.44 * stats["freeThrowsAttempted"] + stats["turnovers"]
    team_plays = (team["fieldGoalsAttempted"] + 0.44 * team["freeThrowsAttempted"]
                  + team["turnoversTotal"])
    assert durant["USG_PCT"] == pytest.approx(100 * plays * 48 / (minutes * team_plays))


def test_stats_nba_team_game_log_gives_opponents_and_pace(shared_data: Path) -> None:
    path = shared_data / "nba-stats" / "leaguegamelog_2018-19_team.json"
    out = compute(path, ["TEAM_PACE", "TEAM_POSS", "OPP_POSS", "PIE"], preset="nba-stats")
    assert out.height == 2460
    # Each game's two PIE shares add up to one and both sides see the same possessions.
    per_game = out.group_by("GAME_ID").agg(pl.col("PIE").sum(), pl.col("TEAM_POSS").n_unique())
    assert per_game["PIE"].to_list() == pytest.approx([1.0] * 1230)
    assert set(per_game["TEAM_POSS"]) == {1}
    assert out["TEAM_PACE"].mean() == pytest.approx(100.0, abs=1.5)  # BBR: 100.0 in 2018-19
