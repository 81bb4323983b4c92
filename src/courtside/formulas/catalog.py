"""The formula catalog: named, documented formulas in the formula language, compiled once.

A :class:`Formula` is a definition (id, expression text, aliases, unit, citation, level, kind,
version); a :class:`ContextStep` is a named value that is not an expression over one row but
an aggregate over many (PER's league aPER); a :class:`Catalog` holds both, resolves names
case-insensitively through aliases, accepts custom ``NAME=EXPR`` definitions and caches the
compiled forms.

Names an expression may use:

- the canonical stats (``STATS``) and their team, opponent and league totals
  (``TEAM_<stat>``, ``OPP_<stat>``, ``LG_<stat>``);
- context values (``TEAM_POSS``, ``OPP_POSS``, ``TEAM_PACE``, ``LG_POSS``, ``LG_PACE``): formulas
  of kind ``context`` that are derived from totals unless the caller supplies them;
- context steps (``LG_APER``) and any other formula id or identifier-like alias.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from types import MappingProxyType

from courtside.formulas.compiler import CompiledFormula, compile_formula
from courtside.formulas.language import Name, Node, names_in, parse, walk
from courtside.model import CANONICAL_STATS, FormulaError, NotFoundError

__all__ = [
    "COUNTING_STATS",
    "INPUT_NAMES",
    "KINDS",
    "LEVELS",
    "PREFIXES",
    "STATS",
    "UNITS",
    "Catalog",
    "ContextStep",
    "Formula",
    "context_of",
    "default_catalog",
    "parse_definition",
]

STATS: tuple[str, ...] = CANONICAL_STATS
"""The canonical stat names (stats.nba.com's), one player or team over a game or a season."""
COUNTING_STATS = STATS
PREFIXES: dict[str, str] = {"TEAM_": "team", "OPP_": "opponent", "LG_": "league"}
"""Prefix of a total -> the context that supplies it."""
INPUT_NAMES: frozenset[str] = frozenset(STATS) | frozenset(
    p + s for p in PREFIXES for s in STATS)

UNITS = ("fraction", "percent", "count", "ratio", "score", "number")
"""fraction: 0-1 (TS% = 0.612); percent: a 0-100 rate (USG% = 28.4); the rest as named."""
LEVELS = ("player", "team", "any")
KINDS = ("stat", "step", "context", "custom")
"""stat: a published result; step: an intermediate of a multi-step formula; context: a context
value the caller may supply instead; custom: defined at run time."""

_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_DEFINITION = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)(.*)$", re.S)


@dataclass(frozen=True, slots=True)
class Formula:
    """One formula's definition.

    Attributes:
        id: the stable id (output column name), e.g. ``TS_PCT``.
        expression: the formula text in the formula language.
        description: one sentence for people.
        aliases: other names it is found by (``ts%``, ``true_shooting``), case-insensitive;
            identifier-like ones may also be used inside expressions.
        unit: one of ``UNITS`` (Basketball-Reference scale: fractions and 0-100 rates).
        citation: where the definition is published.
        level: ``player``, ``team`` or ``any``: the rows it is meant for.
        kind: one of ``KINDS``.
        version: bumped whenever the expression changes (custom formulas count their edits).
        context: the contexts it reads (``team``, ``opponent``, ``league``), derived by the
            catalog from the names it uses; context values it uses count as their own context.
    """

    id: str
    expression: str
    description: str = ""
    aliases: tuple[str, ...] = ()
    unit: str = "number"
    citation: str = ""
    level: str = "any"
    kind: str = "stat"
    version: int = 1
    context: frozenset[str] = frozenset()

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready description."""
        return {"id": self.id, "expression": self.expression, "description": self.description,
                "aliases": list(self.aliases), "unit": self.unit, "citation": self.citation,
                "level": self.level, "kind": self.kind, "version": self.version,
                "context": sorted(self.context)}


@dataclass(frozen=True, slots=True)
class ContextStep:
    """A named value aggregated over many rows, used by formulas like an input.

    The value of ``formula`` is computed on every row that is not a multi-team aggregate,
    then combined per ``scope`` (``league``: one value per season/partition; ``team``: one
    per team and game, like the team totals) by ``how``: ``weighted_mean`` (by the stat
    ``weight``, rows whose value is null left out), ``mean`` or ``sum``.
    """

    name: str
    formula: str
    scope: str = "league"
    how: str = "weighted_mean"
    weight: str | None = None
    description: str = ""
    citation: str = ""

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready description."""
        return {"name": self.name, "formula": self.formula, "scope": self.scope,
                "how": self.how, "weight": self.weight, "description": self.description,
                "citation": self.citation}


def context_of(names: Iterable[str]) -> frozenset[str]:
    """The contexts (team, opponent, league) that supply these input names."""
    out = set()
    for name in names:
        for prefix, context in PREFIXES.items():
            if name.startswith(prefix):
                out.add(context)
    return frozenset(out)


def parse_definition(text: str) -> tuple[str, str]:
    """Split ``NAME=EXPR`` into its name and expression text."""
    match = _DEFINITION.match(text or "")
    if match is None:
        raise FormulaError(f"a definition is NAME=EXPR (e.g. MY_TS=PTS/(2*TSA)), not {text!r}")
    name, expr = match.group(1), match.group(2).strip()
    if not expr:
        raise FormulaError(f"definition of {name} has no expression after '='")
    return name, expr


class Catalog:
    """Formulas and context steps by id, with name resolution and a compile cache.

    Immutable from the outside: :meth:`define` returns a new catalog.
    """

    def __init__(self, formulas: Iterable[Formula], steps: Iterable[ContextStep] = ()) -> None:
        self._formulas: dict[str, Formula] = {}
        self._steps: dict[str, ContextStep] = {s.name: s for s in steps}
        # Handed out by ``steps`` (read on every context build): one view, never a copy.
        self._steps_view: Mapping[str, ContextStep] = MappingProxyType(self._steps)
        self._names: dict[str, str] = {}  # upper-cased name or alias -> id
        for formula in formulas:
            self._add(formula)
        for step in self._steps.values():
            self._claim(step.name, step.name)
        self._trees: dict[str, Node] = {}
        for formula in self._formulas.values():
            self._trees[formula.id] = self._parse(formula.id, formula.expression)
        for step in self._steps.values():
            if step.formula not in self._formulas:
                raise FormulaError(f"context step {step.name} aggregates unknown formula "
                                   f"{step.formula}")
            if step.scope not in ("league", "team") or step.how not in (
                    "weighted_mean", "mean", "sum"):
                raise FormulaError(f"context step {step.name}: scope must be league/team and "
                                   "how weighted_mean/mean/sum")
        self._context_memo: dict[str, frozenset[str]] = {}
        for fid in self._formulas:
            self._formulas[fid] = replace(self._formulas[fid], context=self._context(fid))
        self._cache: dict[tuple[str, frozenset[str]], CompiledFormula] = {}

    def __getstate__(self) -> dict[str, object]:
        # A mappingproxy does not pickle; a catalog that has compiled nothing yet did.
        state = dict(self.__dict__)
        del state["_steps_view"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._steps_view = MappingProxyType(self._steps)

    # ----------------------------------------------------------------- building

    def _claim(self, name: str, fid: str) -> None:
        key = name.upper()
        if key in INPUT_NAMES:
            raise FormulaError(f"{name!r} is an input name (a stat or a total); "
                               "choose another formula name")
        owner = self._names.get(key)
        if owner is not None and owner != fid:
            raise FormulaError(f"{name!r} already names {owner}")
        self._names[key] = fid

    def _add(self, formula: Formula) -> None:
        if not _IDENT.match(formula.id):
            raise FormulaError(f"formula name {formula.id!r} must start with a letter and hold "
                               "only letters, digits and '_' (64 characters at most)")
        if formula.unit not in UNITS or formula.level not in LEVELS or formula.kind not in KINDS:
            raise FormulaError(f"formula {formula.id}: unit, level or kind not one of "
                               f"{UNITS}, {LEVELS}, {KINDS}")
        self._claim(formula.id, formula.id)
        for alias in formula.aliases:
            self._claim(alias, formula.id)
        self._formulas[formula.id] = formula

    def _parse(self, fid: str, text: str) -> Node:
        try:
            return parse(text, resolve=self.resolve_name)
        except FormulaError as exc:
            raise FormulaError(f"formula {fid}: {exc}") from None

    def _context(self, fid: str, seen: frozenset[str] = frozenset()) -> frozenset[str]:
        """Contexts a formula reads: its own totals, and those of the steps and formulas it
        refers to, except that a context value counts as one thing the caller can supply."""
        memo = self._context_memo
        if fid in memo:
            return memo[fid]
        out: set[str] = set()
        for name in names_in(self._trees[fid]):
            if name in self._steps:
                out.add(self._steps[name].scope)
                if name not in seen:
                    out |= self._context(self._steps[name].formula, seen | {name})
            elif name in self._formulas and name not in seen:
                if self._formulas[name].kind == "context":
                    out |= context_of([name])
                else:
                    out |= self._context(name, seen | {name})
            else:
                out |= context_of([name])
        memo[fid] = frozenset(out)
        return memo[fid]

    # ----------------------------------------------------------------- lookups

    def resolve_name(self, name: str) -> str | None:
        """The canonical spelling of a name (formula id, alias, step or input), or None."""
        key = name.upper()
        fid = self._names.get(key)
        if fid is not None:
            return fid
        return key if key in INPUT_NAMES else None

    def get(self, name: str) -> Formula:
        """A formula by id or alias, case-insensitive; ``NotFoundError`` with suggestions."""
        fid = self._names.get(name.upper())
        if fid is None or fid not in self._formulas:
            close = difflib.get_close_matches(name.upper(), list(self._names), n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise NotFoundError(f"unknown formula {name!r}{hint} "
                                "(`courtside formulas list` shows them all)")
        return self._formulas[fid]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._names.get(name.upper()) in self._formulas

    def __iter__(self) -> Iterator[Formula]:
        return iter(self._formulas.values())

    def __len__(self) -> int:
        return len(self._formulas)

    @property
    def steps(self) -> Mapping[str, ContextStep]:
        """Context steps by name."""
        return self._steps_view

    def tree(self, fid: str) -> Node:
        """The parsed (not inlined) tree of a formula."""
        return self._trees[self.get(fid).id]

    @property
    def context_values(self) -> frozenset[str]:
        """Ids of the formulas a caller may supply as context instead (TEAM_PACE...)."""
        return frozenset(f.id for f in self._formulas.values() if f.kind == "context")

    # ----------------------------------------------------------------- compiling

    def compile(self, name: str, provided: Iterable[str] = ()) -> CompiledFormula:
        """The compiled formula, cached.

        ``provided`` names context values (``TEAM_PACE``...) the caller supplies: they stay
        inputs instead of being inlined from their own expressions.
        """
        fid = self.get(name).id
        given = frozenset(provided) & self.context_values
        key = (fid, given)
        compiled = self._cache.get(key)
        if compiled is None:
            def lookup(ref: str) -> Node | None:
                if ref in given:
                    return None
                return self._trees.get(ref)
            compiled = compile_formula(fid, self._trees[fid], lookup)
            self._cache[key] = compiled
        return compiled

    def compile_tree(self, tree: Node, name: str = "expr",
                     provided: Iterable[str] = ()) -> CompiledFormula:
        """Compile an ad-hoc tree (not cached) against this catalog's formulas."""
        given = frozenset(provided) & self.context_values
        return compile_formula(name, tree,
                               lambda ref: None if ref in given else self._trees.get(ref))

    # ----------------------------------------------------------------- custom formulas

    def define(self, definitions: Iterable[str | tuple[str, str]] | str, *,
               version: int | None = None) -> Catalog:
        """A new catalog with custom formulas added (``NAME=EXPR`` texts or pairs).

        Custom formulas may use any catalog name and each other; unknown names, cycles and
        names taken by built-ins are rejected. Redefining a custom formula replaces it with
        the next version (or ``version`` when given).
        """
        if isinstance(definitions, str):
            definitions = [definitions]
        pairs = [parse_definition(d) if isinstance(d, str) else d for d in definitions]
        formulas = dict(self._formulas)
        seen: set[str] = set()
        for name, expr in pairs:
            key = name.upper()
            if key in seen:
                raise FormulaError(f"{name} is defined twice")
            seen.add(key)
            current = self._formulas.get(self._names.get(key, ""))
            if current is not None and current.kind != "custom":
                raise FormulaError(f"{name!r} is a built-in formula ({current.id}); "
                                   "choose another name for a custom formula")
            if key in self._steps:
                raise FormulaError(f"{name!r} is a context step; choose another name")
            old_version = current.version if current is not None else 0
            if current is not None:
                del formulas[current.id]
            formulas[name] = Formula(
                id=name, expression=expr, description="Custom formula.", kind="custom",
                version=version if version is not None else old_version + 1)
        catalog = Catalog(formulas.values(), self._steps.values())
        for name, _ in pairs:
            catalog.compile(name)  # rejects cycles now, not at first use
        return catalog

    def customs(self) -> list[Formula]:
        """The custom formulas, in definition order."""
        return [f for f in self._formulas.values() if f.kind == "custom"]

    def check(self, text: str) -> Node:
        """Validate formula text (or a ``NAME=EXPR`` definition) against this catalog."""
        if _DEFINITION.match(text or ""):
            name, _ = parse_definition(text)
            return self.define([text]).tree(name)
        tree = parse(text, resolve=self.resolve_name)
        self.compile_tree(tree, "check")
        return tree

    def inputs(self, name: str, provided: Iterable[str] = ()) -> frozenset[str]:
        """The input names (stats, totals, supplied context values, steps) a formula reads."""
        return self.compile(name, provided).inputs

    def references(self, name: str) -> set[str]:
        """Formula ids and steps a formula refers to directly."""
        return {n.id for n in walk(self.tree(name))
                if isinstance(n, Name) and (n.id in self._formulas or n.id in self._steps)}


@lru_cache(maxsize=1)
def _builtin() -> Catalog:
    from courtside.formulas.definitions import BUILTINS, CONTEXT_STEPS

    return Catalog(BUILTINS, CONTEXT_STEPS)


def default_catalog() -> Catalog:
    """The built-in catalog (built on first use, then shared: it is immutable)."""
    return _builtin()

