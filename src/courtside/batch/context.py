"""The formula context of a job, derived once over the whole input.

Formulas such as USG_PCT and PER need team and league totals. Computed per chunk they would be
wrong (a chunk holds part of a team's games), so the job derives them once over every
partition and hands the same context to every chunk: chunked values then equal a single
``compute``. Formulas that need no context never cause the whole input to be read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import polars as pl

from courtside.batch.inputs import BatchInput, Partition, read_slice, scan

ContextFn = Callable[..., Any]


def _lazy(part: Partition) -> pl.LazyFrame:
    if part.frame is not None:
        return part.frame.lazy()
    if part.fmt == "csv":
        # The same parse as the chunks (text cast to the file's schema), so context values
        # come from exactly the numbers the chunks see.
        return read_slice(part, 0, part.rows).lazy()
    return scan(part.path or "", part.fmt)


def whole_input(source: BatchInput, drop: Sequence[str] = ()) -> pl.DataFrame:
    """Every partition as one frame without the ``drop`` columns (only built when a formula
    needs context)."""
    if not source.partitions:
        return pl.DataFrame()
    lazy = pl.concat([_lazy(p) for p in source.partitions], how="diagonal_relaxed")
    if drop:
        lazy = lazy.drop(drop, strict=False)
    return lazy.collect()


def first_rows(source: BatchInput, n: int = 0) -> pl.DataFrame:
    """The first partition's schema with ``n`` rows (a cheap probe)."""
    for part in source.partitions:
        return read_slice(part, 0, min(n, part.rows))
    return pl.DataFrame()


def compute_context(source: BatchInput, formulas: list[str], *, preset: str | None,
                    define: Any, context: Any, mapping: Any = None) -> Any:
    """The foundation's ``derive_context`` over the whole input.

    A first call on zero rows tells whether the formulas need context at all (and fails early
    on unknown formulas or unmapped columns); only then is the whole input read.
    """
    from courtside.batch.compute import derive_context, load

    probe_rows = first_rows(source)
    probe = derive_context(probe_rows, formulas, preset=preset, define=define,
                           context=context, mapping=mapping)
    if probe is None:
        return None
    # Totals read stats and key columns only: names and other text stay on disk.
    prepared = load(probe_rows, preset=preset, mapping=mapping, define=define)
    drop = [c for c in prepared.passthrough if c not in prepared.keys.columns]
    return derive_context(whole_input(source, drop), formulas, preset=preset, define=define,
                          context=context, mapping=mapping)


def derive_context(source: BatchInput, formulas: list[str], *, preset: str | None,
                   define: Any, context: Any, mapping: Any = None,
                   derive: ContextFn | None = None) -> Any:
    """The context for every chunk: ``derive`` (default ``compute_context``) over the whole
    input, the caller's ``context`` taking precedence where both have a value."""
    derive = derive or compute_context
    return derive(source, formulas, preset=preset, define=define, context=context,
                  mapping=mapping)
