"""Per-row errors: a null formula result becomes an entry (row index, formula, reason).

Rows are never dropped: the result keeps its null and the error table says why. The reason
comes from an ``Explainer`` (the compiled formula's ``explain``); rows whose inputs are null
or zero in the same places share one explanation, so a season of zero-attempt rows costs one
call per pattern.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import polars as pl

ERROR_SCHEMA = {"row_index": pl.Int64, "formula": pl.String, "reason": pl.String}


class Explainer(Protocol):
    """Says why one row's formula value is null."""

    def values(self, frame: pl.DataFrame, context: Any) -> pl.DataFrame:
        """The rows' values as the formulas see them (canonical names, context joined)."""

    def inputs(self, formula: str) -> Sequence[str] | None:
        """The input columns the formula reads (None: every column)."""

    def explain(self, formula: str, values: dict[str, Any], context: Any) -> str | None:
        """The reason for a null, or None when the value is not null."""


def default_reason(formula: str) -> str:
    """The reason given when no explainer can say more."""
    return f"{formula} is null: an input is null or a denominator is zero"


def row_errors(frame_in: pl.DataFrame, out: pl.DataFrame, formula_columns: Sequence[str],
               explainer: Explainer | None, *, context: Any = None) -> pl.DataFrame:
    """One entry per (row, formula) whose result is null; ``out`` carries ``row_index``."""
    if not formula_columns or not out.height:
        return pl.DataFrame(schema=ERROR_SCHEMA)
    any_null = out.select(pl.any_horizontal(pl.col(formula_columns).is_null())).to_series()
    if not any_null.any():
        return pl.DataFrame(schema=ERROR_SCHEMA)
    failed_out = out.filter(any_null)
    # The failed rows are mapped once, then each formula reads its own columns.
    values = explainer.values(frame_in.filter(any_null), context) if explainer else None
    parts: list[pl.DataFrame] = []
    for formula in formula_columns:
        nulls = failed_out.get_column(formula).is_null()
        if not nulls.any():
            continue
        rows = failed_out.filter(nulls).get_column("row_index")
        if explainer is None or values is None:
            reasons = pl.Series("reason", [default_reason(formula)] * rows.len(), pl.String)
        else:
            reasons = _explained(values.filter(nulls), formula, explainer, context)
        parts.append(pl.DataFrame({"row_index": rows,
                                   "formula": pl.Series([formula] * rows.len(), dtype=pl.String),
                                   "reason": reasons}))
    if not parts:
        return pl.DataFrame(schema=ERROR_SCHEMA)
    return pl.concat(parts).cast(ERROR_SCHEMA)  # type: ignore[arg-type]


def _shape(column: str) -> pl.Expr:
    # What decides a reason: whether each input is null, zero or something else.
    col = pl.col(column)
    return (pl.when(col.is_null()).then(0).when(col == 0).then(1).otherwise(2)
            .cast(pl.UInt8).alias(column))


def _explained(failed: pl.DataFrame, formula: str, explainer: Explainer,
               context: Any) -> pl.Series:
    """Reasons for rows whose ``formula`` is null.

    Rows whose inputs are null or zero in the same places share one explanation (that of the
    first such row): a reason names the null input or the zero denominator, so this keeps the
    reason exact in practice while a season of null rows costs a few dozen calls.
    """
    wanted = explainer.inputs(formula)
    columns = [c for c in (wanted or failed.columns) if c in failed.columns]
    if not columns:
        return pl.Series("reason", [default_reason(formula)] * failed.height, dtype=pl.String)
    keys = failed.select(_shape(c) for c in columns).hash_rows()
    reasons: dict[int, str] = {}
    for position in keys.is_first_distinct().arg_true().to_list():
        row = failed.row(position, named=True)
        values = {c: row[c] for c in columns}
        reasons[keys[position]] = (explainer.explain(formula, values, context)
                                   or default_reason(formula))
    return keys.replace_strict(reasons, return_dtype=pl.String).alias("reason")
