"""Team codes across sources, and listed positions as numbers.

Basketball-Reference abbreviates three current teams differently from the NBA (``BRK``,
``CHO``, ``PHO`` for ``BKN``, ``CHA``, ``PHX``); a team context built from an NBA game log is
aligned to a Basketball-Reference table (or the reverse) through this table.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from courtside.formulas.context import AGGREGATE_TEAMS
from courtside.model import DataError

__all__ = ["BBR_TO_NBA", "NBA_TO_BBR", "align_team_codes", "position_expr", "position_number"]

BBR_TO_NBA: dict[str, str] = {"BRK": "BKN", "CHO": "CHA", "PHO": "PHX"}
"""Basketball-Reference abbreviation -> the NBA's, where they differ (current teams)."""
NBA_TO_BBR: dict[str, str] = {v: k for k, v in BBR_TO_NBA.items()}

_POSITIONS = {"PG": 1.0, "SG": 2.0, "SF": 3.0, "PF": 4.0, "C": 5.0, "G": 1.5, "F": 3.5}


def position_number(text: object) -> float | None:
    """A listed position as BPM's number: PG 1 ... C 5, G 1.5, F 3.5; ``PF-C`` averages (4.5).

    Unknown or blank positions give None (BPM then uses 3, the middle).
    """
    if not isinstance(text, str) or not text.strip():
        return None
    parts = [p.strip().upper() for p in text.replace("/", "-").split("-") if p.strip()]
    numbers = [_POSITIONS[p] for p in parts if p in _POSITIONS]
    if not numbers or len(numbers) != len(parts):
        return None
    return sum(numbers) / len(numbers)


def position_expr(values: pl.Series) -> pl.Expr:
    """An expression turning the listed positions in ``values``' column into numbers."""
    if values.dtype.is_numeric():
        return pl.col(values.name).cast(pl.Float64)
    table = {v: position_number(v) for v in values.drop_nulls().unique().to_list()}
    return pl.col(values.name).cast(pl.String).replace_strict(
        table, default=None, return_dtype=pl.Float64)


def align_team_codes(frame: pl.DataFrame, column: str, wanted: Iterable[object]) -> pl.DataFrame:
    """``frame`` with the team codes in ``column`` spelled as in ``wanted`` (another source's).

    Codes already in ``wanted`` stay; others are translated between the NBA's and
    Basketball-Reference's spellings when that makes them match. Raises ``DataError`` naming
    the input's teams the frame has no row for.
    """
    want = {str(v) for v in wanted if v is not None} - AGGREGATE_TEAMS
    have = {str(v) for v in frame[column].drop_nulls().to_list()}
    table = {}
    for code in have - want:
        for mapping in (BBR_TO_NBA, NBA_TO_BBR):
            if mapping.get(code) in want:
                table[code] = mapping[code]
    out = frame.with_columns(pl.col(column).cast(pl.String).replace(table)) if table else \
        frame.with_columns(pl.col(column).cast(pl.String))
    missing = sorted(want - {str(v) for v in out[column].drop_nulls().to_list()})
    if missing:
        raise DataError(f"the team context has no row for team(s) {', '.join(missing[:10])}"
                        f"{' ...' if len(missing) > 10 else ''} (it has "
                        f"{', '.join(sorted(have)[:10])}...); is it the same season?")
    return out
