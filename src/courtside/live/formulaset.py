"""Which catalog formulas the live engine keeps current, compiled for live entities.

Every published formula (``kind`` ``stat``) and every custom formula is live; the steps and
context values they read are live too, evaluated before them (not inlined) and not published.
A formula's ``level`` picks the entity kinds: ``player``, ``team``, or both for ``any``. Formulas that read a team-scope context step (the BPM family)
are left out of the default set: they aggregate over the whole team.

The league context (``LG_*``) is fixed for the life of a live formula set, so the parts of a
formula that read only league values (PER's VOP, factor and DRBP...) are computed once, by the
formula's own compiled closure, and put back as numbers: the same IEEE operations in the same
order, so the values are identical, minus the work of repeating them on every event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from courtside.formulas.compiler import CompiledFormula, compile_formula
from courtside.formulas.language import (
    BinOp,
    BoolOp,
    Call,
    Compare,
    IfElse,
    Neg,
    Node,
    Not,
    Num,
    names_in,
)
from courtside.live.state import LiveFormula

__all__ = ["LIVE_KINDS", "fold_constants", "live_formulas"]

LIVE_KINDS = ("stat", "custom")

_LEVEL_KINDS = {"player": frozenset({"player"}), "team": frozenset({"team"}),
                "any": frozenset({"player", "team"})}


def fold_constants(compiled: CompiledFormula, constants: Mapping[str, float]) -> CompiledFormula:
    """The formula with every sub-expression that reads only ``constants`` replaced by its
    value (left as is where that value is null). Same results for any other inputs."""
    if not compiled.inputs & constants.keys():
        return compiled
    tree = _fold(compiled.tree, constants)
    return compiled if tree == compiled.tree else compile_formula(compiled.name, tree)


def _fold(node: Node, constants: Mapping[str, float]) -> Node:
    if isinstance(node, Num):
        return node
    if not isinstance(node, Compare | BoolOp | Not):  # numeric: may become one number
        names = names_in(node)
        if names and names <= constants.keys():
            value = compile_formula("constant", node)(constants)
            if value is not None:
                return Num(value)
    match node:
        case Neg(operand):
            return Neg(_fold(operand, constants))
        case BinOp(op, left, right):
            # the exponent of ** stays a literal
            folded = right if op == "**" else _fold(right, constants)
            if op == "/" and isinstance(folded, Num) and not isinstance(right, Num):
                # A number divisor is compiled as a multiplication by its reciprocal (as
                # Polars does with literals); the batch divides by the league column, so the
                # divisor stays an expression to give the same last bit.
                folded = right
            return BinOp(op, _fold(left, constants), folded)
        case Compare(ops, operands):
            return Compare(ops, tuple(_fold(o, constants) for o in operands))
        case BoolOp(op, values):
            return BoolOp(op, tuple(_fold(v, constants) for v in values))
        case Not(operand):
            return Not(_fold(operand, constants))
        case IfElse(cond, then, other):
            return IfElse(_fold(cond, constants), _fold(then, constants),
                          _fold(other, constants))
        case Call(func, args):
            if func == "round":  # the digits argument stays a literal
                return Call(func, (_fold(args[0], constants), *args[1:]))
            return Call(func, tuple(_fold(a, constants) for a in args))
    return node


def live_formulas(catalog: Any, provided: Mapping[str, float] | Iterable[str] = (),
                  only: Iterable[str] | None = None) -> list[LiveFormula]:
    """The live formulas of a catalog (``courtside.formulas.catalog.Catalog``) and every
    formula they read (steps, context values), each compiled on its own, in dependency order.

    A formula reads the steps it refers to as inputs, so a step shared by several formulas
    (Oliver's scoring possessions in ORTG, FLOOR_PCT, OWS, WS...) is evaluated once per change
    instead of once per formula that inlines it; steps are not published.
    ``provided``: the league context; given as a mapping, its values are folded in.
    ``only`` restricts the published formulas to some ids (or aliases).
    """
    given = frozenset(provided)
    constants = provided if isinstance(provided, Mapping) else {}
    if only is not None:
        roots = list(dict.fromkeys(catalog.get(name).id for name in only))
    else:
        roots = [f.id for f in catalog if f.kind in LIVE_KINDS
                 and not _reads_team_step(catalog, f.id, given)]
    steps = frozenset(catalog.steps)

    def refs(fid: str) -> list[str]:
        return sorted(r for r in catalog.references(fid) if r not in given and r not in steps)

    order: list[str] = []
    seen: set[str] = set()

    def visit(fid: str) -> None:
        if fid in seen:
            return
        seen.add(fid)
        for ref in refs(fid):
            visit(ref)
        order.append(fid)

    for fid in roots:
        visit(fid)
    kinds: dict[str, set[str]] = {fid: set() for fid in order}
    for fid in roots:
        kinds[fid] |= _LEVEL_KINDS.get(catalog.get(fid).level, _LEVEL_KINDS["any"])
    for fid in reversed(order):  # dependents before what they read
        for ref in refs(fid):
            kinds[ref] |= kinds[fid]
    published = set(roots)
    out = []
    for fid in order:
        formula = catalog.get(fid)
        compiled = fold_constants(compile_formula(fid, catalog.tree(fid)), constants)
        out.append(LiveFormula(fid, compiled, formula.version, frozenset(kinds[fid]),
                               publish=fid in published))
    return out


def _reads_team_step(catalog: Any, fid: str, given: frozenset[str]) -> bool:
    """True when a formula reads a team-scope context step (BPM's recentring and team
    adjustment): those aggregate over every player of the team, which this per-entity
    recompute does not do; ``courtside.formulas.entity.evaluate_snapshot`` computes them for
    a whole game."""
    team_steps = {name for name, step in catalog.steps.items() if step.scope == "team"}
    return bool((catalog.inputs(fid, given) & team_steps) - given)

