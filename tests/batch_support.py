"""Helpers for the batch tests: the 2023-24 box scores made computable, and a slow compute.

The shared CSV has no game id: a game is the date plus the two teams of its ``Opponent``
matchup text ("NYK @ MIL" / "MIL vs. NYK"), which gives every team-game its opponent.
"""

from __future__ import annotations

import time
from typing import Any

import polars as pl

import courtside

MAPPING = ["Minutes=MIN", "Points=PTS", "3PM=FG3M", "3PA=FG3A", "TO=TOV", "+/-=PLUS_MINUS",
           "Game=GAME"]


def with_game(season: pl.DataFrame) -> pl.DataFrame:
    """The season with a ``Game`` column (date and both teams)."""
    teams = pl.col("Opponent").str.extract_all(r"[A-Z]{3}").list.sort().list.join("-")
    return season.with_columns(pl.concat_str([pl.col("Date"), teams], separator=" ")
                               .alias("Game"))


def compute(data: Any, formulas: list[str], **kwargs: Any) -> pl.DataFrame:
    """``courtside.compute`` with the box scores' column mapping."""
    kwargs.setdefault("mapping", MAPPING)
    return courtside.compute(data, formulas, **kwargs)


def slow_compute(data: Any, formulas: list[str], **kwargs: Any) -> pl.DataFrame:
    """``courtside.compute`` taking at least 0.15 s per chunk: for cancel and timeout tests."""
    time.sleep(0.15)
    return courtside.compute(data, formulas, **kwargs)
