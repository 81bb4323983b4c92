"""pandas frames in, Polars frames out: one conversion for ``compute`` and batch jobs.

pandas is never imported here: a frame is recognised by its class's module, because importing
pandas only to say "not pandas" costs seconds.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from courtside.model import DataError

__all__ = ["from_pandas", "is_pandas_frame"]


def is_pandas_frame(data: Any) -> bool:
    """Whether ``data`` is a pandas DataFrame (by its class's module; pandas not imported)."""
    return type(data).__module__.startswith("pandas") and hasattr(data, "columns")


def from_pandas(data: Any) -> pl.DataFrame:
    """A pandas frame as a Polars frame; ``DataError`` naming the cause when a column cannot
    be converted (e.g. numbers and text mixed in one column)."""
    try:
        return pl.from_pandas(data)
    except (TypeError, ValueError, pl.exceptions.PolarsError) as exc:
        # pyarrow's ArrowInvalid/ArrowTypeError are ValueError/TypeError subclasses.
        raise DataError(f"cannot convert the pandas frame: {exc}") from None
