"""docs/formulas.md, generated from the catalog so that it cannot drift from the code.

Pure: the catalog in, Markdown text out. ``courtside formulas docs --output docs/formulas.md``
writes it; a test fails when the committed file differs from what the catalog gives.
"""

from __future__ import annotations

from collections.abc import Mapping

from courtside.formulas.catalog import Catalog, Formula
from courtside.formulas.composite import DEVIATIONS as COMPOSITE_DEVIATIONS

__all__ = ["DEVIATIONS", "render_formulas_markdown"]

_ROWS = "2018-19, 381 player-team rows with at least 500 minutes, game-log context"
DEVIATIONS: dict[str, str] = {
    **COMPOSITE_DEVIATIONS,
    "ORB_PCT": f"{_ROWS}: every row within 0.05 of Basketball-Reference (its rounding).",
    "DRB_PCT": f"{_ROWS}: every row within 0.05 of Basketball-Reference (its rounding).",
    "TRB_PCT": f"{_ROWS}: every row within 0.05 of Basketball-Reference (its rounding).",
    "STL_PCT": f"{_ROWS}: every row within 0.06 of Basketball-Reference.",
    "BLK_PCT": f"{_ROWS}: every row within 0.05 of Basketball-Reference (its rounding).",
    "USG_PCT": f"{_ROWS}: every row within 0.13 (team totals from the game log include team "
               "turnovers; summed from player rows they do not, which moves USG% up to 0.3).",
    "PER": f"{_ROWS}: every row within 0.12, mean absolute error 0.03.",
}
"""Measured differences from published values, by formula id."""

_SECTIONS = (
    ("stat", "Published metrics"),
    ("context", "Context values (derived unless supplied)"),
    ("step", "Intermediate steps"),
)
_CONTEXT_NAMES = {"team": "team totals", "opponent": "opponent totals", "league": "league"}
_HEADER = """# Formulas

Generated from the catalog by `courtside formulas docs --output docs/formulas.md` (a test
fails when this file and the catalog disagree). Scale as on Basketball-Reference: shooting
percentages are fractions (TS_PCT 0.612), rates 0 to 100 (USG_PCT 28.4). A division by zero
gives null. Names: the stats.nba.com stat names (`FGA`, `FG3M`, `OREB`, `TOV`...), `TEAM_`,
`OPP_` and `LG_` totals, context values and other formula ids.

Multi-step metrics are chains of the formulas below; each is inlined into the ones that use it
and compiled twice (a Python closure for one entity in real time, a Polars expression for
frames), from the same tree. Context steps aggregate a formula over many rows (a team's
players, a league) and are used by formulas like inputs.

Deviations are measured against Basketball-Reference's published tables for 2018-19 (team
context from the stats.nba.com game log, `tests/formulas/test_composite_2019.py`).
"""


def _inputs(catalog: Catalog, formula: Formula) -> str:
    names = sorted(catalog.inputs(formula.id, catalog.context_values))
    return ", ".join(f"`{n}`" for n in names) if names else "none"


def _references(catalog: Catalog, formula: Formula) -> str:
    refs = sorted(catalog.references(formula.id))
    return ", ".join(f"[{r}](#{r.lower()})" if r in catalog else f"`{r}`" for r in refs)


def _entry(catalog: Catalog, formula: Formula, deviations: Mapping[str, str]) -> list[str]:
    lines = [f"### {formula.id}", "", formula.description, ""]
    lines += ["```", formula.expression, "```", ""]
    facts = [f"unit: {formula.unit}", f"level: {formula.level}"]
    if formula.aliases:
        facts.append("aliases: " + ", ".join(f"`{a}`" for a in formula.aliases))
    lines.append("- " + "; ".join(facts))
    refs = _references(catalog, formula)
    if refs:
        lines.append(f"- uses: {refs}")
    lines.append(f"- inputs (after inlining): {_inputs(catalog, formula)}")
    if formula.context:
        lines.append("- context: " + ", ".join(_CONTEXT_NAMES.get(c, c)
                                                 for c in sorted(formula.context)))
    if formula.citation:
        lines.append(f"- source: {formula.citation}")
    if formula.id in deviations:
        lines.append(f"- known deviations: {deviations[formula.id]}")
    lines.append("")
    return lines


def render_formulas_markdown(catalog: Catalog,
                             deviations: Mapping[str, str] | None = None) -> str:
    """Every formula and context step of ``catalog`` as a Markdown reference page."""
    deviations = DEVIATIONS if deviations is None else deviations
    out = [_HEADER]
    for kind, title in _SECTIONS:
        chosen = [f for f in catalog if f.kind == kind]
        if not chosen:
            continue
        out += [f"## {title}", ""]
        out += ["| id | description |", "|---|---|"]
        out += [f"| [{f.id}](#{f.id.lower()}) | {f.description} |" for f in chosen]
        out.append("")
        for formula in chosen:
            out += _entry(catalog, formula, deviations)
    if catalog.steps:
        out += ["## Context steps", "",
                "| name | aggregates | over | how | description |", "|---|---|---|---|---|"]
        for step in catalog.steps.values():
            how = step.how + (f" by {step.weight}" if step.weight else "")
            out.append(f"| {step.name} | [{step.formula}](#{step.formula.lower()}) | "
                       f"each {step.scope} | {how} | {step.description} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
