"""The formula context of a job, derived once over the whole input.

Formulas such as USG_PCT and PER need team and league totals. Computed per chunk they would be
wrong (a chunk holds part of a team's games), so the job derives them once over every
partition and hands the same context to every chunk.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from courtside.batch.inputs import BatchInput

ContextFn = Callable[..., Any]


def derive_context(source: BatchInput, formulas: list[str], *, preset: str | None,
                   define: Any, context: Any, derive: ContextFn | None = None) -> Any:
    """The context for every chunk: ``derive`` over the whole input, with the caller's
    ``context`` taking precedence; the caller's context alone when there is no deriver."""
    if derive is None:
        return context
    return derive(source, formulas, preset=preset, define=define, context=context)
