"""Which catalog formulas the live engine keeps current, compiled for live entities.

Every published formula (``kind`` ``stat``) and every custom formula is live; steps and context
values are inlined into them. A formula's ``level`` picks the entity kinds: ``player``,
``team``, or both for ``any``. The league context names given as ``provided`` (``LG_PACE``...)
stay inputs instead of being derived.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from courtside.live.state import LiveFormula

__all__ = ["LIVE_KINDS", "live_formulas"]

LIVE_KINDS = ("stat", "custom")

_LEVEL_KINDS = {"player": frozenset({"player"}), "team": frozenset({"team"}),
                "any": frozenset({"player", "team"})}


def live_formulas(catalog: Any, provided: Iterable[str] = (),
                  only: Iterable[str] | None = None) -> list[LiveFormula]:
    """The live formulas of a catalog (``courtside.formulas.catalog.Catalog``), in its order.

    ``only`` restricts them to some ids (or aliases).
    """
    given = frozenset(provided)
    wanted = None if only is None else {catalog.get(name).id for name in only}
    out = []
    for formula in catalog:
        if wanted is not None and formula.id not in wanted:
            continue
        if wanted is None and formula.kind not in LIVE_KINDS:
            continue
        out.append(LiveFormula(formula.id, catalog.compile(formula.id, given),
                               formula.version, _LEVEL_KINDS.get(formula.level,
                                                                 _LEVEL_KINDS["any"])))
    return out
