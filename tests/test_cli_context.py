"""`courtside context` from the raw 2018-19 game log, then `courtside compute --team-context`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from courtside.cli import _register, app


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    _register()
    return CliRunner()


@pytest.fixture(scope="module")
def teams_csv(runner: CliRunner, shared_data: Path, tmp_path_factory: pytest.TempPathFactory
              ) -> Path:
    out = tmp_path_factory.mktemp("context") / "teams.csv"
    result = runner.invoke(app, ["context", "--game-log",
                                 str(shared_data / "nba-stats" /
                                     "leaguegamelog_2018-19_team.json"),
                                 "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote 30 teams (1230 games)" in result.output
    return out


@pytest.fixture(scope="module")
def totals_2019(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Basketball-Reference's 2018-19 player totals as a CSV file."""
    path = tmp_path_factory.mktemp("totals") / "totals_2019.csv"
    pl.read_csv(shared_data / "bbr" / "totals.csv").filter(pl.col("Year") == 2019).write_csv(path)
    return path


def test_context_file_holds_totals_possessions_and_pace(teams_csv: Path) -> None:
    teams = pl.read_csv(teams_csv)
    assert teams.height == 30
    for col in ("TEAM_GP", "TEAM_W", "TEAM_FGA", "OPP_DREB", "TEAM_POSS", "TEAM_PACE",
                "TEAM_ORTG", "TEAM_DRTG", "NET_RTG"):
        assert col in teams.columns
    tor = teams.filter(pl.col("TEAM_ABBREVIATION") == "TOR").row(0, named=True)
    # Basketball-Reference 2018-19 Raptors: pace 100.2, ORtg 113.1, DRtg 107.1; 58-24.
    assert tor["TEAM_PACE"] == pytest.approx(100.2, abs=0.05)
    assert tor["TEAM_ORTG"] == pytest.approx(113.1, abs=0.05)
    assert tor["TEAM_DRTG"] == pytest.approx(107.1, abs=0.05)
    assert (tor["TEAM_W"], tor["TEAM_L"]) == (58, 24)


def test_compute_with_the_team_context_reproduces_basketball_reference(
        runner: CliRunner, teams_csv: Path, totals_2019: Path, shared_data: Path,
        tmp_path: Path) -> None:
    totals = pl.read_csv(totals_2019)
    out = tmp_path / "advanced.csv"
    result = runner.invoke(app, ["compute", str(totals_2019), "--preset", "bbr", "--team-context",
                                 str(teams_csv), "--formulas",
                                 "ORB_PCT,STL_PCT,BLK_PCT,OWS,DWS,WS,BPM,VORP",
                                 "--output", str(out)])
    assert result.exit_code == 0, result.output
    mine = pl.read_csv(out).filter(pl.col("Tm") != "TOT")
    assert mine.height == totals.filter(pl.col("Tm") != "TOT").height  # no row multiplied
    published = pl.read_csv(shared_data / "bbr" / "advanced.csv").filter(
        pl.col("Year") == 2019)
    both = mine.join(published, on=["Pk", "Tm"], suffix="_bbr").filter(pl.col("MP") >= 500)
    assert both.height == 381  # BRK, CHO and PHO rows found their NBA-coded context
    for ours, theirs, tol in (("ORB_PCT", "ORB%", 0.2), ("STL_PCT", "STL%", 0.2),
                              ("BLK_PCT", "BLK%", 0.2), ("OWS", "OWS_bbr", 0.3),
                              ("DWS", "DWS_bbr", 0.3), ("WS", "WS_bbr", 0.3),
                              ("BPM", "BPM_bbr", 1.0), ("VORP", "VORP_bbr", 0.3)):
        share = float(((both[ours] - both[theirs]).abs() <= tol + 1e-9).mean())
        assert share >= 0.95, (ours, share)


def test_context_refuses_a_one_team_log(runner: CliRunner, shared_data: Path,
                                        tmp_path: Path) -> None:
    doc = json.loads((shared_data / "nba-stats" / "leaguegamelog_2018-19_team.json")
                     .read_text())
    sets = doc["resultSets"][0]
    team_col = sets["headers"].index("TEAM_ABBREVIATION")
    sets["rowSet"] = [r for r in sets["rowSet"] if r[team_col] == "GSW"]
    path = tmp_path / "gsw_only.json"
    path.write_text(json.dumps(doc))
    result = runner.invoke(app, ["context", "--game-log", str(path), "-o",
                                 str(tmp_path / "t.csv")])
    assert result.exit_code == 2
    assert "both teams' rows" in result.output and "not one team's" in result.output


def test_compute_refuses_a_context_without_the_inputs_teams(
        runner: CliRunner, teams_csv: Path, totals_2019: Path, shared_data: Path,
        tmp_path: Path) -> None:
    partial = tmp_path / "teams_partial.csv"
    pl.read_csv(teams_csv).filter(pl.col("TEAM_ABBREVIATION") != "MIL").write_csv(partial)
    result = runner.invoke(app, ["compute", str(totals_2019), "--preset", "bbr",
                                 "--team-context", str(partial), "--formulas", "WS", "-o", "-"])
    assert result.exit_code == 2
    assert "no row for team(s) MIL" in result.output
    # Two seasons in the input, one in the context: refused instead of mixing them.
    both = tmp_path / "two_seasons.csv"
    pl.read_csv(shared_data / "bbr" / "totals.csv").write_csv(both)
    result = runner.invoke(app, ["compute", str(both), "--preset", "bbr", "--team-context",
                                 str(teams_csv), "--formulas", "WS", "-o", "-"])
    assert result.exit_code == 2
    assert "2 seasons" in result.output


def test_compute_reads_the_raw_game_log_response_per_game(runner: CliRunner,
                                                          shared_data: Path) -> None:
    """The nba-stats preset on the API's own JSON: each row a team's game, the other row of
    the game its opponent."""
    path = shared_data / "nba-stats" / "leaguegamelog_2018-19_team.json"
    result = runner.invoke(app, ["compute", str(path), "--preset", "nba-stats", "--formulas",
                                 "TEAM_ORTG,TEAM_DRTG,PACE,FF_EFG_PCT", "-o", "-"])
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(io.StringIO(result.stdout), schema_overrides={"GAME_ID": pl.String})
    assert frame.height == 2460
    game = frame.filter(pl.col("GAME_ID") == "0021801228").sort("TEAM_ABBREVIATION")
    den, mins = game.row(0, named=True), game.row(1, named=True)
    # Minnesota at Denver, 2019-04-10: 39 of 91 with 13 threes -> eFG% (39 + 6.5)/91 = 0.5.
    assert mins["FF_EFG_PCT"] == pytest.approx(0.5)
    # One possession estimate per game: one side's offense is the other's defense.
    assert mins["TEAM_ORTG"] == pytest.approx(den["TEAM_DRTG"])
    assert mins["PACE"] == pytest.approx(den["PACE"])
    assert mins["TEAM_DRTG"] / mins["TEAM_ORTG"] == pytest.approx(99 / 95)
