"""GameSnapshot as tables: one row per player, in the stats.nba.com column names."""

from __future__ import annotations

import polars as pl

from courtside.model import GameSnapshot
from courtside.sources.livedata import CANONICAL_STATS

__all__ = ["players_frame"]


def players_frame(snapshot: GameSnapshot, *, played_only: bool = True) -> pl.DataFrame:
    """The snapshot's player lines: GAME_ID, PLAYER_ID (personId), TEAM_ID, TEAM_ABBREVIATION,
    PLAYER_NAME, STARTER, then MIN (float minutes) and the canonical counting stats.

    With ``played_only`` (the default) players without a minute or a stat are left out.
    """
    codes = {snapshot.home_team_id: snapshot.home_tricode,
             snapshot.away_team_id: snapshot.away_tricode}
    rows = []
    for line in snapshot.players:
        if played_only and not any(line.stats.get(s) for s in CANONICAL_STATS):
            continue
        row = {"GAME_ID": snapshot.game_id, "PLAYER_ID": int(line.id),
               "TEAM_ID": int(line.team_id), "TEAM_ABBREVIATION": codes.get(line.team_id, ""),
               "PLAYER_NAME": line.name, "STARTER": line.starter}
        for stat in CANONICAL_STATS:
            value = float(line.stats.get(stat, 0.0))
            row[stat] = value if stat == "MIN" else round(value)
        rows.append(row)
    schema = {"GAME_ID": pl.String, "PLAYER_ID": pl.Int64, "TEAM_ID": pl.Int64,
              "TEAM_ABBREVIATION": pl.String, "PLAYER_NAME": pl.String, "STARTER": pl.Boolean,
              **{s: (pl.Float64 if s == "MIN" else pl.Int64) for s in CANONICAL_STATS}}
    return pl.DataFrame(rows, schema=schema)
