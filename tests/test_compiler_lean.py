"""The integer-input fast form of a compiled formula gives exactly the safe form's values."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from courtside.formulas.catalog import STATS, default_catalog
from courtside.formulas.compiler import compile_formula
from courtside.formulas.language import parse

SIMPLE = ["TS_PCT", "EFG_PCT", "TOV_PCT", "GAME_SCORE", "FTA_RATE", "FG3A_RATE", "FG_PCT",
          "AST_TO", "PTS_PER36", "TSA"]
CUSTOM = ["PTS / (FGA - 0.44*FTA)", "(PTS*PTS*PTS) / (FGA*0.001 - FTA*0.001)",
          "-(AST - TOV) / (0.1*MIN + 0.2*PF)", "1 / (1/FGA)", "PTS/FGA/FTA"]


def frame(rows: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    data = {s: rng.integers(-3, 4, rows) for s in STATS}
    data["PTS"][:5] = [2**62, -(2**62), 0, 2**53 + 1, 7]
    data["FGA"][:5] = [1, 3, 0, -1, 2**62]
    return pl.DataFrame(data).with_columns(pl.col("FTA").cast(pl.Int32))


@pytest.mark.parametrize("seed", [0, 1])
def test_fast_form_equals_safe_form(seed: int) -> None:
    catalog = default_catalog()
    data = frame(5000, seed)
    compiled = [catalog.compile(f) for f in SIMPLE]
    compiled += [compile_formula(f"C{i}", parse(t)) for i, t in enumerate(CUSTOM)]
    fast = [c.expr_for(data.schema) for c in compiled]
    assert sum(f is not c.expr for f, c in zip(fast, compiled, strict=True)) >= len(SIMPLE)
    assert_frame_equal(data.select(fast), data.select([c.expr for c in compiled]),
                       check_exact=True)


def test_no_fast_form_without_a_proof() -> None:
    catalog = default_catalog()
    ints = frame(10, 0)
    floats = ints.with_columns(pl.col("PTS").cast(pl.Float64))
    ts = catalog.compile("TS_PCT")
    assert ts.expr_for(floats.schema) is ts.expr  # a float input may be inf or NaN
    for text in ["PTS ** 2", "min(PTS, 1) / FGA", "PTS / (FGA * 1e-300 * 1e-300)",
                 "PTS / 0",
                 "PTS*PTS*PTS*PTS*PTS*PTS*PTS*PTS*PTS*PTS*PTS*PTS*PTS*PTS*PTS*PTS*PTS"]:
        compiled = compile_formula("x", parse(text))
        assert compiled.expr_for(ints.schema) is compiled.expr, text
