"""A stand-in for ``courtside.compute`` used by the batch tests until the foundation lands.

It maps the shared box-score CSV's vocabulary by hand and computes a few catalog formulas with
Polars, including USG_PCT, which needs team totals per game: the context the batch engine must
derive once over the whole input.
"""

from __future__ import annotations

import time
from typing import Any

import polars as pl

MAPPING = {"Minutes": "MIN", "Points": "PTS", "3PM": "FG3M", "3PA": "FG3A", "TO": "TOV"}
STATS = ["MIN", "PTS", "FGM", "FGA", "FG3M", "FG3A", "FTM", "FTA", "OREB", "DREB", "REB",
         "AST", "STL", "BLK", "TOV", "PF"]
GAME_KEY = ["Date", "Team"]


def _div(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    return pl.when(b != 0).then(a / b).otherwise(None)


FORMULAS: dict[str, pl.Expr] = {
    "TS_PCT": _div(pl.col("PTS"), 2 * (pl.col("FGA") + 0.44 * pl.col("FTA"))),
    "EFG_PCT": _div(pl.col("FGM") + 0.5 * pl.col("FG3M"), pl.col("FGA")),
    "FTA_RATE": _div(pl.col("FTA"), pl.col("FGA")),
    "FG3A_RATE": _div(pl.col("FG3A"), pl.col("FGA")),
    "TOV_PCT": _div(100 * pl.col("TOV"), pl.col("FGA") + 0.44 * pl.col("FTA") + pl.col("TOV")),
    "GAME_SCORE": (pl.col("PTS") + 0.4 * pl.col("FGM") - 0.7 * pl.col("FGA")
                   - 0.4 * (pl.col("FTA") - pl.col("FTM")) + 0.7 * pl.col("OREB")
                   + 0.3 * pl.col("DREB") + pl.col("STL") + 0.7 * pl.col("AST")
                   + 0.7 * pl.col("BLK") - 0.4 * pl.col("PF") - pl.col("TOV")),
    "USG_PCT": _div(100 * (pl.col("FGA") + 0.44 * pl.col("FTA") + pl.col("TOV"))
                    * (pl.col("TEAM_MIN") / 5),
                    pl.col("MIN") * (pl.col("TEAM_FGA") + 0.44 * pl.col("TEAM_FTA")
                                     + pl.col("TEAM_TOV"))),
}
NEEDS_CONTEXT = {"USG_PCT"}


def canonical(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame in canonical stat names."""
    return frame.rename({k: v for k, v in MAPPING.items() if k in frame.columns})


def team_totals(lazy: pl.LazyFrame) -> pl.DataFrame:
    """Team totals per game (the USG_PCT context)."""
    stats = ["MIN", "FGA", "FTA", "TOV"]
    return (lazy.group_by(GAME_KEY).agg([pl.col(s).sum().alias(f"TEAM_{s}") for s in stats])
            .collect())


def compute(data: pl.DataFrame, formulas: list[str], *, preset: Any = None,
            context: Any = None, define: Any = None) -> pl.DataFrame:
    """The foundation's contract: non-stat columns kept, one Float64 column per formula."""
    frame = canonical(data)
    if set(formulas) & NEEDS_CONTEXT:
        totals = context if context is not None else team_totals(frame.lazy())
        frame = frame.join(totals, on=GAME_KEY, how="left", maintain_order="left")
    kept = [c for c in data.columns if MAPPING.get(c, c) not in STATS]
    return frame.select(*kept, *[FORMULAS[f].cast(pl.Float64).alias(f) for f in formulas])


def derive(source: Any, formulas: list[str], *, preset: Any = None, define: Any = None,
           context: Any = None) -> Any:
    """Context over the whole input (every partition), as the engine must derive it."""
    if context is not None or not set(formulas) & NEEDS_CONTEXT:
        return context
    from courtside.batch.inputs import scan

    lazies = [part.frame.lazy() if part.frame is not None else scan(part.path, part.fmt)
              for part in source.partitions]
    return team_totals(canonical_lazy(pl.concat(lazies, how="diagonal_relaxed")))


def canonical_lazy(lazy: pl.LazyFrame) -> pl.LazyFrame:
    names = lazy.collect_schema().names()
    return lazy.rename({k: v for k, v in MAPPING.items() if k in names})


def slow_compute(data: pl.DataFrame, formulas: list[str], **kwargs: Any) -> pl.DataFrame:
    """``compute`` taking at least 0.15 s per chunk: for cancel and timeout tests."""
    time.sleep(0.15)
    return compute(data, formulas, **kwargs)

