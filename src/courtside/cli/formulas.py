"""``courtside formulas``: list, show and check formulas."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from courtside.cli import app

formulas_app = typer.Typer(help="List, show and check formulas (built-in and your own).",
                           no_args_is_help=True)
app.add_typer(formulas_app, name="formulas")


def _catalog(define: list[str] | None):  # type: ignore[no-untyped-def]
    from courtside.formulas.catalog import default_catalog

    catalog = default_catalog()
    return catalog.define(define) if define else catalog


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


@formulas_app.command("list")
def list_command(
    all: bool = typer.Option(False, "--all", help="Also list intermediate steps and "
                                                  "context values (TEAM_PACE...)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    define: Annotated[list[str] | None, typer.Option(
        "--define", "-d", help="Add a custom NAME=EXPR (repeatable).")] = None,
) -> None:
    """List formula ids with their unit, context needed and aliases."""
    from courtside.model import CourtsideError

    try:
        catalog = _catalog(define)
    except CourtsideError as exc:
        _fail(str(exc))
    shown = [f for f in catalog if all or f.kind in ("stat", "custom")]
    if as_json:
        typer.echo(json.dumps([f.to_dict() for f in shown], indent=2))
        return
    table = Table(title=f"{len(shown)} formulas" + ("" if all else " (--all adds steps)"))
    for column in ("id", "unit", "context", "kind" if all else None, "aliases", "description"):
        if column:
            table.add_column(column, overflow="fold")
    for f in shown:
        cells = [f.id, f.unit, ", ".join(sorted(f.context)) or "-"]
        if all:
            cells.append(f.kind)
        cells += [", ".join(f.aliases), f.description]
        table.add_row(*cells)
    Console(width=160).print(table)


@formulas_app.command("show")
def show_command(
    id: str = typer.Argument(..., help="A formula id or alias, e.g. PER or ts%."),
    define: Annotated[list[str] | None, typer.Option(
        "--define", "-d", help="Add a custom NAME=EXPR (repeatable).")] = None,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show one formula: expression, unit, citation, inputs and steps."""
    from courtside.model import CourtsideError

    try:
        catalog = _catalog(define)
        formula = catalog.get(id)
        inputs = sorted(catalog.inputs(formula.id))
        supplied = sorted(catalog.inputs(formula.id, catalog.context_values))
    except CourtsideError as exc:
        _fail(str(exc))
    refs = sorted(catalog.references(formula.id))
    steps = {n: catalog.steps[n].to_dict() for n in inputs if n in catalog.steps}
    if as_json:
        typer.echo(json.dumps({**formula.to_dict(), "references": refs, "inputs": inputs,
                               "steps": steps}, indent=2))
        return
    lines = [
        f"{formula.id} (v{formula.version}, {formula.kind}): {formula.description}",
        f"  = {formula.expression}",
        f"unit: {formula.unit}   level: {formula.level}   "
        f"context: {', '.join(sorted(formula.context)) or 'none'}",
        f"aliases: {', '.join(formula.aliases) or '-'}",
        f"citation: {formula.citation or '-'}",
    ]
    if refs:
        lines.append(f"refers to: {', '.join(refs)}")
    lines.append(f"inputs: {' '.join(inputs)}")
    if supplied != inputs:
        lines.append(f"inputs when TEAM_PACE/LG_PACE... are supplied: {' '.join(supplied)}")
    for name, step in steps.items():
        lines.append(f"context step {name}: {step['how']} of {step['formula']} per "
                     f"{step['scope']}" + (f" by {step['weight']}" if step["weight"] else "")
                     + f": {step['description']}")
    typer.echo("\n".join(lines))


@formulas_app.command("check")
def check_command(
    expression: str = typer.Argument(..., help="Formula text, or NAME=EXPR. Put it after "
                                               "'--' so that a leading '-' is not an option."),
    define: Annotated[list[str] | None, typer.Option(
        "--define", "-d", help="Add a custom NAME=EXPR (repeatable).")] = None,
) -> None:
    """Check formula text: exit 0 when valid, else 1 with the reason on stderr.

    Example: courtside formulas check -- 'PTS / (2*TSA) if FGA > 0 else 0'
    """
    from courtside.formulas.language import render
    from courtside.model import CourtsideError

    try:
        catalog = _catalog(define)
        tree = catalog.check(expression)
        inputs = sorted(catalog.compile_tree(tree).inputs)
    except CourtsideError as exc:
        _fail(str(exc))
    typer.echo(f"ok: {render(tree)}\ninputs: {' '.join(inputs)}")


@formulas_app.command("docs")
def docs_command(
    output: Annotated[str, typer.Option(
        "--output", "-o", help="Markdown file to write; '-' = stdout.")] = "-",
    check: bool = typer.Option(False, "--check",
                               help="Exit 1 when --output differs from the catalog."),
) -> None:
    """The formula reference (docs/formulas.md), generated from the catalog."""
    from pathlib import Path

    from courtside.formulas.catalog import default_catalog
    from courtside.formulas.docs import render_formulas_markdown

    text = render_formulas_markdown(default_catalog())
    if output == "-":
        typer.echo(text, nl=False)
        return
    path = Path(output)
    if check:
        current = path.read_text(encoding="utf-8") if path.is_file() else ""
        if current != text:
            _fail(f"{output} is out of date: run `courtside formulas docs --output {output}`")
        typer.echo(f"{output} is up to date", err=True)
        return
    path.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {output} ({text.count(chr(10))} lines)", err=True)
