"""Benchmark: every composite metric (ratings, four factors, Oliver, Win Shares, BPM 2.0, VORP).

    python bench/composite_metrics.py                 # 2018-19 + 35 seasons (~20,000 rows)
    python bench/composite_metrics.py --rows 100000   # a bigger synthetic history

Cases, best of --repeat, times in seconds:

1. one season from the raw data: the 2018-19 stats.nba.com team game log (read, paired into
   team/opponent totals with possessions and pace) and Basketball-Reference's player totals
   (708 rows), then every composite metric;
2. 35 seasons of player totals (synthetic: the 2018-19 rows with every counting stat scaled by
   a random factor per row and season, so the numbers differ season to season), each season with
   its own team context, every composite metric in one call;
3. one live game: every composite metric for every player of the GSW-BKN box score with the
   scalar (real-time) form, team steps included.

Baseline, measured in the same run on the same rows: ``courtside.compute`` of TS_PCT and
USG_PCT (two one-line formulas, team totals derived). Ratios say what the composite metrics
cost on top of the simplest formulas.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from courtside.batch.compute import compute  # noqa: E402
from courtside.formulas.context import Context  # noqa: E402
from courtside.formulas.entity import evaluate_snapshot  # noqa: E402
from courtside.formulas.gamelog import game_log_teams, league_from_teams  # noqa: E402
from courtside.sources.livedata import parse_boxscore  # noqa: E402
from courtside.sources.tables import read_table  # noqa: E402
from courtside.sources.teamcodes import align_team_codes  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
COMPOSITE = ["ORB_PCT", "DRB_PCT", "TRB_PCT", "STL_PCT", "BLK_PCT", "ORTG", "DRTG",
             "FLOOR_PCT", "SCPOSS", "TOTPOSS", "PPROD", "STOPS", "STOP_PCT", "OWS", "DWS", "WS",
             "WS_48", "BPM", "OBPM", "DBPM", "VORP", "TEAM_ORTG", "TEAM_DRTG", "NET_RTG",
             "PACE", "POSS", "FOUR_FACTORS"]
BASELINE = ["TS_PCT", "USG_PCT"]
COUNTING = ["MP", "FG", "FGA", "3P", "3PA", "FT", "FTA", "ORB", "DRB", "TRB", "AST", "STL",
            "BLK", "TOV", "PF", "PTS"]


def best(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """The best wall time of ``repeat`` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def season_inputs(data: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    totals = pl.read_csv(data / "bbr" / "totals.csv").filter(pl.col("Year") == 2019)
    games = read_table(data / "nba-stats" / "leaguegamelog_2018-19_team.json")
    return totals, games


def one_season(totals: pl.DataFrame, games: pl.DataFrame,
               formulas: list[str]) -> pl.DataFrame:
    teams = game_log_teams(games).rename({"TEAM_ABBREVIATION": "Tm"})
    teams = align_team_codes(teams.drop("SEASON_ID"), "Tm", totals["Tm"].unique())
    context = Context(team=teams, league=league_from_teams(teams))
    return compute(totals.drop("Year"), formulas, preset="bbr", context=context)


def history(totals: pl.DataFrame, teams: pl.DataFrame, rows: int,
            seed: int = 7) -> tuple[pl.DataFrame, Context]:
    """``rows`` player-season rows over as many seasons as it takes, each with its context."""
    rng = np.random.default_rng(seed)
    seasons = max(1, math.ceil(rows / totals.height))
    frames, contexts = [], []
    for i in range(seasons):
        year = 2019 - seasons + 1 + i
        scale = rng.uniform(0.85, 1.15, totals.height)
        frames.append(totals.with_columns(
            pl.lit(year).alias("Year"),
            *[(pl.col(c) * pl.Series(scale)).round(0).cast(pl.Int64).alias(c)
              for c in COUNTING if c != "MP"]))
        team_scale = rng.uniform(0.97, 1.03)
        contexts.append(teams.with_columns(
            pl.lit(year).alias("Year"),
            *[(pl.col(c) * team_scale).alias(c) for c in teams.columns
              if c.startswith(("TEAM_", "OPP_")) and teams.schema[c].is_float()
              and c not in ("TEAM_MIN", "OPP_MIN", "TEAM_GP")]))
    team_frame = pl.concat(contexts)
    return (pl.concat(frames).head(rows),
            Context(team=team_frame, league=league_from_teams(team_frame, by=["Year"])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000,
                        help="player-season rows of the synthetic history (default 20,000)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()

    totals, games = season_inputs(args.data)
    rows: list[tuple[str, float, float]] = []

    base, _ = best(lambda: compute(totals.drop("Year"), BASELINE, preset="bbr"), args.repeat)
    t_ctx, _ = best(lambda: game_log_teams(games), args.repeat)
    t_season, out = best(lambda: one_season(totals, games, COMPOSITE), args.repeat)
    assert out.height == totals.height
    rows += [("2018-19: TS_PCT + USG_PCT, 708 rows (baseline)", base, base),
             ("2018-19: game log -> team context (2,460 rows)", t_ctx, base),
             (f"2018-19: game log + all {len(COMPOSITE)} composite metrics, 708 rows",
              t_season, base)]

    teams = align_team_codes(game_log_teams(games).rename({"TEAM_ABBREVIATION": "Tm"})
                             .drop("SEASON_ID"), "Tm", totals["Tm"].unique())
    frame, context = history(totals, teams, args.rows)
    seasons = frame["Year"].n_unique()
    hist_base, _ = best(lambda: compute(frame, BASELINE, preset="bbr"), args.repeat)
    t_hist, out = best(lambda: compute(frame, COMPOSITE, preset="bbr", context=context),
                       args.repeat)
    # Only the multi-team TOT rows have no team context (and so no BPM).
    assert out.height == frame.height
    assert out["BPM"].null_count() == frame.filter(pl.col("Tm") == "TOT").height
    rows += [(f"{seasons} seasons, {frame.height:,} rows: TS_PCT + USG_PCT (baseline)",
              hist_base, hist_base),
             (f"{seasons} seasons, {frame.height:,} rows: all composite metrics", t_hist,
              hist_base)]

    box = json.loads((args.data / "nba-live" / "boxscore_0022000001.json").read_text())
    snap = parse_boxscore(box)
    league = {k: float(v) for k, v in league_from_teams(teams).row(0, named=True).items()}
    t_live_base, _ = best(lambda: evaluate_snapshot(snap, BASELINE, league), args.repeat * 3)
    t_live, _ = best(lambda: evaluate_snapshot(snap, COMPOSITE, league), args.repeat * 3)
    rows += [(f"live game, {len(snap.players)} players: TS_PCT + USG_PCT, scalar (baseline)",
              t_live_base, t_live_base),
             (f"live game, {len(snap.players)} players: all composite metrics, scalar",
              t_live, t_live_base)]

    width = max(len(r[0]) for r in rows)
    print(f"{'case':<{width}}  {'seconds':>9}  {'x baseline':>10}")
    for label, seconds, baseline in rows:
        print(f"{label:<{width}}  {seconds:9.4f}  {seconds / baseline:10.1f}")


if __name__ == "__main__":
    main()
