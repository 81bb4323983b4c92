"""A synthetic, seeded season of player-game box scores (for the demo and benchmarks).

Not real data: plausible counting stats drawn per player-game with numpy, both sides of
every game present, ten players per team per game whose minutes add up to 240, and
``FGM <= FGA``, ``FG3M <= FGM`` and the like always true.
"""

from __future__ import annotations

import numpy as np
import polars as pl

__all__ = ["TEAMS", "synthetic_player_games"]

TEAMS: tuple[str, ...] = (
    "ATL", "BOS", "BKN", "CHA", "CHI", "CLE", "DAL", "DEN", "DET", "GSW", "HOU", "IND", "LAC",
    "LAL", "MEM", "MIA", "MIL", "MIN", "NOP", "NYK", "OKC", "ORL", "PHI", "PHX", "POR", "SAC",
    "SAS", "TOR", "UTA", "WAS",
)
_MINUTES = np.array([36, 34, 33, 30, 28, 24, 20, 15, 12, 8], dtype=np.float64)  # sums to 240
_PER_TEAM = len(_MINUTES)


def synthetic_player_games(rows: int = 24_600, *, seed: int = 7) -> pl.DataFrame:
    """About ``rows`` player-game rows (rounded to whole games of 20 rows), canonical names.

    Columns: SEASON_ID, GAME_ID, GAME_DATE, TEAM_ABBREVIATION, PLAYER_ID, PLAYER_NAME, then
    the canonical stats. 24,600 rows is one 1,230-game season.
    """
    rng = np.random.default_rng(seed)
    games = max(1, rows // (2 * _PER_TEAM))
    n = games * 2 * _PER_TEAM
    home = rng.integers(0, len(TEAMS), games)
    away = (home + rng.integers(1, len(TEAMS), games)) % len(TEAMS)
    team_idx = np.stack([home, away], axis=1).repeat(_PER_TEAM, axis=1).reshape(-1)
    slot = np.tile(np.arange(_PER_TEAM), games * 2)
    game_idx = np.arange(games).repeat(2 * _PER_TEAM)
    minutes = _MINUTES[slot]
    skill = rng.normal(1.0, 0.15, n).clip(0.5, 1.6)
    fga = rng.poisson(minutes * 0.42 * skill)
    fgm = rng.binomial(fga, 0.47)
    fg3a = rng.binomial(fga, 0.39)
    fg3m = np.minimum(rng.binomial(fg3a, 0.36), fgm)
    fta = rng.poisson(minutes * 0.12 * skill)
    ftm = rng.binomial(fta, 0.78)
    oreb = rng.poisson(minutes * 0.03)
    dreb = rng.poisson(minutes * 0.11)
    margin = rng.normal(0, 12, games).round()
    sign = np.tile(np.repeat([1.0, -1.0], _PER_TEAM), games)
    plus_minus = (margin[game_idx] * sign * minutes / 48 + rng.normal(0, 3, n)).round()
    player_id = 1_000 + team_idx * 100 + slot
    return pl.DataFrame({
        "SEASON_ID": np.full(n, "22099"),
        "GAME_ID": game_idx + 1,
        "GAME_DATE": (np.datetime64("2099-10-20") + (game_idx * 170 // max(games, 1))
                      .astype("timedelta64[D]")),
        "TEAM_ABBREVIATION": pl.Series(team_idx).replace_strict(
            dict(enumerate(TEAMS)), return_dtype=pl.String),
        "PLAYER_ID": player_id,
        "PLAYER_NAME": slot + 1,
        "MIN": minutes,
        "PTS": 2 * fgm + fg3m + ftm,
        "FGM": fgm, "FGA": fga, "FG3M": fg3m, "FG3A": fg3a, "FTM": ftm, "FTA": fta,
        "OREB": oreb, "DREB": dreb, "REB": oreb + dreb,
        "AST": rng.poisson(minutes * 0.07 * skill),
        "STL": rng.poisson(minutes * 0.025),
        "BLK": rng.poisson(minutes * 0.016),
        "TOV": rng.poisson(minutes * 0.045 * skill),
        "PF": rng.poisson(minutes * 0.055),
        "PLUS_MINUS": plus_minus,
    }).with_columns(
        pl.concat_str(pl.lit("00299"), pl.col("GAME_ID").cast(pl.String).str.zfill(5))
        .alias("GAME_ID"),
        pl.concat_str(pl.col("TEAM_ABBREVIATION"), pl.lit(" player "),
                      pl.col("PLAYER_NAME").cast(pl.String)).alias("PLAYER_NAME"),
    )
