"""The `courtside compute`, `courtside formulas` and `courtside demo` commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from courtside.cli import _register, app

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    _register()
    return CliRunner()


@pytest.fixture
def games(tmp_path: Path) -> Path:
    frame = pl.DataFrame({
        "GAME_ID": ["G1"] * 4, "TEAM_ABBREVIATION": ["AAA", "AAA", "BBB", "BBB"],
        "PLAYER_NAME": ["a1", "a2", "b1", "b2"], "MIN": [30, 18, 28, 20],
        "PTS": [20, 10, 15, 12], "FGM": [8, 4, 6, 5], "FGA": [15, 10, 14, 9],
        "FG3M": [2, 0, 1, 2], "FG3A": [5, 1, 4, 3], "FTM": [2, 2, 2, 0], "FTA": [2, 4, 3, 0],
        "OREB": [1, 3, 0, 2], "DREB": [5, 2, 7, 3], "REB": [6, 5, 7, 5], "AST": [4, 1, 6, 2],
        "STL": [1, 0, 2, 1], "BLK": [0, 2, 1, 0], "TOV": [2, 1, 3, 0], "PF": [3, 2, 1, 4]})
    path = tmp_path / "games.csv"
    frame.write_csv(path)
    return path


def test_compute_writes_each_format(runner: CliRunner, games: Path, tmp_path: Path) -> None:
    for ext in ("csv", "parquet", "json", "ndjson"):
        out = tmp_path / f"out.{ext}"
        result = runner.invoke(app, ["compute", str(games), "--formulas", "TS_PCT,usg%",
                                     "--output", str(out)])
        assert result.exit_code == 0, result.output
        frame = (pl.read_json(out) if ext == "json" else
                 getattr(pl, f"read_{ext}")(out))
        assert frame.columns == ["GAME_ID", "TEAM_ABBREVIATION", "PLAYER_NAME", "TS_PCT",
                                 "USG_PCT"]
        assert frame["TS_PCT"][0] == pytest.approx(20 / (2 * (15 + 0.88)))


def test_compute_to_stdout_with_define_and_map(runner: CliRunner, games: Path,
                                                tmp_path: Path) -> None:
    renamed = tmp_path / "renamed.csv"
    pl.read_csv(games).rename({"STL": "Steals"}).write_csv(renamed)
    result = runner.invoke(app, ["compute", str(renamed), "--map", "Steals=STL",
                                 "--define", "STOCKS=STL+BLK", "--formulas", "STOCKS",
                                 "--output", "-"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "GAME_ID,TEAM_ABBREVIATION,PLAYER_NAME,STOCKS"
    assert [line.split(",")[-1] for line in lines[1:]] == ["1.0", "2.0", "3.0", "1.0"]


def test_compute_team_level(runner: CliRunner, games: Path) -> None:
    result = runner.invoke(app, ["compute", str(games), "--level", "team", "--formulas",
                                 "TS_PCT", "-o", "-"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "GAME_ID,TEAM_ABBREVIATION,TS_PCT"
    teams = {line.split(",")[1]: float(line.split(",")[2]) for line in lines[1:]}
    # by hand from the players' sums: AAA 30 PTS, 25 FGA, 6 FTA; BBB 27 PTS, 23 FGA, 3 FTA
    assert teams == pytest.approx({"AAA": 30 / (2 * (25 + 0.44 * 6)),
                                   "BBB": 27 / (2 * (23 + 0.44 * 3))})


def test_compute_errors_are_clear(runner: CliRunner, games: Path) -> None:
    result = runner.invoke(app, ["compute", str(games), "--formulas", "TS_PTC", "-o", "-"])
    assert result.exit_code == 2
    assert "unknown formula 'TS_PTC'; did you mean TS_PCT" in result.stderr
    result = runner.invoke(app, ["compute", str(games), "--formulas", "TS_PCT",
                                 "--define", "BAD=PTS.real", "-o", "-"])
    assert result.exit_code == 2 and "attribute access is not allowed" in result.stderr
    result = runner.invoke(app, ["compute", str(games), "--formulas", "TS_PCT", "-o", "x.xlsx"])
    assert result.exit_code == 2 and "unknown table format '.xlsx'" in result.stderr


def test_formulas_list_and_show(runner: CliRunner) -> None:
    result = runner.invoke(app, ["formulas", "list", "--json"])
    assert result.exit_code == 0
    ids = {f["id"] for f in json.loads(result.stdout)}
    assert {"TS_PCT", "PER", "PIE", "PTS_PER36"} <= ids and "UPER" not in ids
    every = {f["id"] for f in json.loads(runner.invoke(
        app, ["formulas", "list", "--all", "--json"]).stdout)}
    assert {"UPER", "VOP", "TEAM_PACE"} <= every
    result = runner.invoke(app, ["formulas", "show", "ts%"])
    assert result.exit_code == 0
    assert "TS_PCT" in result.stdout and "PTS / (2*TSA)" in result.stdout
    assert "inputs: FGA FTA PTS" in result.stdout
    shown = json.loads(runner.invoke(app, ["formulas", "show", "PER", "--json"]).stdout)
    assert shown["steps"]["LG_APER"]["formula"] == "APER"
    assert runner.invoke(app, ["formulas", "show", "NOPE"]).exit_code == 1


def test_formulas_check(runner: CliRunner) -> None:
    ok = runner.invoke(app, ["formulas", "check", "--", "-PTS / (2*TSA) if FGA > 0 else 0"])
    assert ok.exit_code == 0 and "inputs: FGA FTA PTS" in ok.stdout
    assert runner.invoke(app, ["formulas", "check", "--", "X=PER*2"]).exit_code == 0
    for bad, reason in [("__import__('os')", "only these functions"),
                        ("PTS ^ 2", "write ** for powers"),
                        ("SHOTS / 2", "unknown name 'SHOTS'"),
                        ("A=B+1", "unknown name 'B'")]:
        result = runner.invoke(app, ["formulas", "check", "--", bad])
        assert result.exit_code == 1, bad
        assert reason in result.stderr, (bad, result.stderr)


def test_demo_prints_a_table(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "demo.parquet"
    result = runner.invoke(app, ["demo", "--rows", "2000", "--top", "3", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "GAME_SCORE" in result.stdout and "PER" in result.stdout
    frame = pl.read_parquet(out)
    assert frame.height == 2000
    # PER is scaled so that the minutes-weighted league mean is 15.
    season = pl.read_parquet(out)
    assert season["PER"].null_count() == 0
    from courtside.batch.sample import synthetic_player_games
    minutes = synthetic_player_games(2000)["MIN"]
    assert (season["PER"] * minutes).sum() / minutes.sum() == pytest.approx(15.0)


def test_help_tells_how_to_compute_a_season() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run([sys.executable, "-m", "courtside", "compute", "--help"],
                            capture_output=True, text=True, env=env, timeout=60, check=True)
    text = " ".join(result.stdout.split())
    assert "--preset bbr" in text and "--team-context" in text and "nba-stats" in text
