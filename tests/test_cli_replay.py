"""``courtside replay`` end to end: files in, the derived final box score out."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from courtside.cli import _register, app
from courtside.sources.livedata import parse_boxscore

ROOT = Path(__file__).resolve().parents[1]
STATS = ["PTS", "FGM", "FGA", "FG3M", "FG3A", "FTM", "FTA", "OREB", "DREB", "REB", "AST",
         "STL", "BLK", "TOV", "PF", "PLUS_MINUS"]


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    _register()
    return CliRunner()


@pytest.fixture(scope="module")
def opener(shared_data: Path) -> tuple[Path, Path]:
    live = shared_data / "nba-live"
    return live / "playbyplay_0022000001.json", live / "boxscore_0022000001.json"


def _check_against_nba(frame: pl.DataFrame, boxscore: Path) -> None:
    official = parse_boxscore(json.loads(boxscore.read_text()))
    played = {int(p.id): p for p in official.players if p.stats["MIN"] > 0}
    assert sorted(frame["PLAYER_ID"].to_list()) == sorted(played)
    for row in frame.iter_rows(named=True):
        want = played[row["PLAYER_ID"]]
        assert row["TEAM_ID"] == int(want.team_id)
        assert {s: row[s] for s in STATS} == {s: int(want.stats[s]) for s in STATS}
        assert row["MIN"] == pytest.approx(want.stats["MIN"], abs=2 / 60)


def test_replay_to_csv_matches_the_nba_box(runner, opener, tmp_path: Path) -> None:
    pbp, box = opener
    out = tmp_path / "final.csv"
    result = runner.invoke(app, ["replay", str(pbp), "--boxscore", str(box), "--speed", "0",
                                 "--output", str(out)])
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(out)
    assert frame.columns[:5] == ["GAME_ID", "PLAYER_ID", "TEAM_ID", "TEAM_ABBREVIATION",
                                 "PLAYER_NAME"]
    assert "Kevin Durant" in frame["PLAYER_NAME"].to_list()
    _check_against_nba(frame, box)
    assert "GSW 99 - 125 BKN" in result.output


@pytest.mark.parametrize("suffix", ["parquet", "json", "ndjson"])
def test_other_formats_without_the_boxscore(runner, opener, tmp_path: Path, suffix: str) -> None:
    pbp, box = opener
    out = tmp_path / f"final.{suffix}"
    result = runner.invoke(app, ["replay", str(pbp), "--output", str(out)])
    assert result.exit_code == 0, result.output
    frame = {"parquet": pl.read_parquet, "json": pl.read_json, "ndjson": pl.read_ndjson}[suffix](out)
    _check_against_nba(frame, box)
    assert "S. Curry" in frame["PLAYER_NAME"].to_list()  # names from the events: initials


def test_simulated_game_to_stdout(runner) -> None:
    result = runner.invoke(app, ["replay", "--simulate", "11", "--output", "-"])
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(result.stdout.encode())
    assert frame["GAME_ID"].unique().to_list() == [99000011]  # CSV reads the id as a number
    per_team = frame.group_by("TEAM_ID").agg(pl.col("MIN").sum(), pl.len())
    assert per_team["MIN"].to_list() == pytest.approx([240.0, 240.0])
    assert per_team["len"].to_list() == [10, 10]


def test_bad_invocations(runner, opener, tmp_path: Path) -> None:
    result = runner.invoke(app, ["replay", str(tmp_path / "nope.json")])
    assert result.exit_code == 2 and "nope.json: no such file" in result.output
    result = runner.invoke(app, ["replay"])
    assert result.exit_code == 2 and "--simulate" in result.output
    result = runner.invoke(app, ["replay", str(opener[0]), "--output", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 2 and "unknown table format" in result.output
    out = tmp_path / "final.csv"
    result = runner.invoke(app, ["replay", str(opener[0]), "--output", str(out),
                                 "--format", "xlsx"])
    assert result.exit_code == 2 and "unknown table format 'xlsx'" in result.output
    assert not out.exists()  # not JSON written under a .csv name
    result = runner.invoke(app, ["replay", str(opener[0]), "--speed", "-2"])
    assert result.exit_code == 2 and "speed" in result.output


def test_console_entry_point(opener, tmp_path: Path) -> None:
    out = tmp_path / "final.csv"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-m", "courtside", "replay", str(opener[0]),
                           "--boxscore", str(opener[1]), "--output", str(out)],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    _check_against_nba(pl.read_csv(out), opener[1])


def test_paced_replay_prints_the_scoring_plays(runner, tmp_path: Path) -> None:
    out = tmp_path / "sim.csv"
    # 100000x real time: a whole simulated game's pauses add up to well under a second
    result = runner.invoke(app, ["replay", "--simulate", "2", "--speed", "100000",
                                 "--output", str(out)])
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(out)
    plays = re.findall(r"^Q(\d) (\S+)  (\w+) (\d+) - (\d+) (\w+)$", result.stderr, re.M)
    assert plays[0][0] == "1" and plays[-1][0] in ("4", "5")
    _, _, away, away_pts, home_pts, home = plays[-1]  # the last basket gives the final score
    totals = dict(frame.group_by("TEAM_ABBREVIATION").agg(pl.col("PTS").sum()).iter_rows())
    assert totals == {away: int(away_pts), home: int(home_pts)}
    assert len(plays) == frame["FGM"].sum() + frame["FTM"].sum()  # one line per made shot
