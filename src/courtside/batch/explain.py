"""Why a formula is null on a row: the compiled formula's ``explain`` on that row's values.

Picklable (it travels to pool processes and Dask workers with the chunk task): it keeps only
the preset, mapping and custom definitions, and rebuilds the catalog where it runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl


class FormulaExplainer:
    """Maps failed rows as ``compute`` does, then asks each compiled formula why it is null."""

    def __init__(self, *, preset: str | None = None, mapping: Any = None,
                 define: Any = None) -> None:
        self.preset = preset
        self.mapping = mapping
        self.define = define
        self._provided: frozenset[str] = frozenset()
        self._catalog: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {"preset": self.preset, "mapping": self.mapping, "define": self.define}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def _compiled(self, formula: str) -> Any:
        return self._catalog.compile(formula, self._provided)

    def values(self, frame: pl.DataFrame, context: Any) -> pl.DataFrame:
        """The rows in canonical names with the context's columns joined on."""
        from courtside.batch.compute import load, provided_names
        from courtside.formulas.context import attach

        prepared = load(frame, preset=self.preset, mapping=self.mapping, define=self.define)
        self._catalog = prepared.catalog
        # The same compiled formulas as ``compute``'s, or a reason would name inputs that
        # formula never read (TEAM_PACE given as a column, not derived from OPP_ totals).
        self._provided = frozenset(provided_names(prepared, context))
        return attach(prepared.rows.lazy(), prepared.keys, context).collect()

    def inputs(self, formula: str) -> Sequence[str] | None:
        """The names the compiled formula reads."""
        return sorted(self._compiled(formula).inputs)

    def explain(self, formula: str, values: dict[str, Any], context: Any) -> str | None:
        """The compiled formula's reason for a null."""
        return self._compiled(formula).explain(values)
