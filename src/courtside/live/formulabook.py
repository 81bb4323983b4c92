"""The formulas one service computes with: its catalog, custom definitions and lookups.

:class:`FormulaBook` holds the current catalog (the built-in one unless another was given),
adds custom formulas to it (each redefinition gets the next version, so results cached for the
old one are never served), stores them and restores them with their versions on the next
start, keeps the live engine's formula set in step, and answers the catalog questions the
interfaces ask (one formula, all of a kind, canonical names).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from courtside.live.cache import ResultCache
from courtside.live.engine import LiveEngine
from courtside.live.formulaset import live_formulas
from courtside.live.state import LiveFormula
from courtside.model import ConfigError, CourtsideError

__all__ = ["FormulaBook"]

log = logging.getLogger(__name__)


class FormulaBook:
    """A service's formulas (see the module docstring).

    Args:
        engine: the live engine whose formula set follows the catalog.
        cache: the result cache, invalidated for redefined formulas.
        league: the league context the formulas see.
        catalog: a catalog instead of the built-in one.
        live_only: ids the live engine keeps current; None for every published and custom one.
    """

    def __init__(self, engine: LiveEngine, cache: ResultCache, league: Mapping[str, float],
                 catalog: Any = None, live_only: list[str] | None = None) -> None:
        self.engine = engine
        self.cache = cache
        self.league = league
        self.live_only = live_only
        self._catalog = catalog

    @property
    def catalog(self) -> Any:
        """The formula catalog (the built-in one unless another was given)."""
        if self._catalog is None:
            from courtside.formulas.catalog import default_catalog

            self._catalog = default_catalog()
        return self._catalog

    def live_set(self) -> list[LiveFormula]:
        """The formulas the live engine keeps current, compiled (slow: run off the loop)."""
        return live_formulas(self.catalog, provided=self.league, only=self.live_only)

    async def refresh_engine(self) -> None:
        """Give the live engine the current live set (compiled on a worker thread)."""
        await self.engine.set_formulas(await asyncio.to_thread(self.live_set))

    async def define(self, definitions: Iterable[str | tuple[str, str]] | str, *,
                     database: Any = None) -> list[dict[str, Any]]:
        """Add or redefine custom formulas (``NAME=EXPR`` texts or (name, expression) pairs);
        with a ``database`` (a running service) they are stored and live games compute them
        at once. Returns the definitions made."""
        from courtside.formulas.catalog import parse_definition

        items = [definitions] if isinstance(definitions, str) else list(definitions)
        pairs = [parse_definition(d) if isinstance(d, str) else (str(d[0]), str(d[1]))
                 for d in items]
        new = self.catalog.define(pairs)
        self._catalog = new
        defined = [new.get(name) for name, _ in pairs]
        for formula in defined:
            self.cache.invalidate_formula(formula.id, formula.version)
        if database is not None:
            from courtside.storage.formulas import CustomFormulaStore

            await asyncio.to_thread(CustomFormulaStore(database).save,
                                    [(f.id, f.expression, f.version) for f in defined])
            await self.refresh_engine()
        return [f.to_dict() for f in defined]

    def restore(self, database: Any) -> None:
        """Add the custom formulas stored by earlier runs, with their versions."""
        from courtside.formulas.catalog import Catalog
        from courtside.storage.formulas import CustomFormulaStore

        stored = CustomFormulaStore(database).load()
        if not stored:
            return
        base = self.catalog
        try:
            catalog = base.define([(name, expression) for name, expression, _ in stored])
            versions = {name: version for name, _, version in stored}
            catalog = Catalog([replace(f, version=versions.get(f.id, f.version))
                               if f.kind == "custom" else f for f in catalog],
                              catalog.steps.values())
        except CourtsideError as exc:  # a stored formula the catalog no longer accepts
            log.warning("stored custom formulas not restored: %s", exc)
            return
        self._catalog = catalog

    def formula_info(self, name: str) -> dict[str, Any]:
        """A formula's definition (id, expression, version, level, inputs...)."""
        formula = self.catalog.get(name)
        info = formula.to_dict()
        info["inputs"] = sorted(self.catalog.inputs(formula.id, self.league))
        return info

    def list_formulas(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Every formula's definition (``kind``: stat, step, context or custom, to filter)."""
        from courtside.formulas.catalog import KINDS

        if kind is not None and kind not in KINDS:
            raise ConfigError(f"unknown formula kind {kind!r}; expected one of {', '.join(KINDS)}")
        return [f.to_dict() for f in self.catalog if kind is None or f.kind == kind]

    def resolve_names(self, names: Iterable[str]) -> list[str]:
        """Canonical spellings of formula ids, aliases and stat names.

        Raises NotFoundError naming the first name that is neither.
        """
        out = []
        for name in names:
            resolved = self.catalog.resolve_name(name)
            if resolved is None:
                self.catalog.get(name)  # raises NotFoundError with suggestions
            out.append(resolved)
        return out
