"""docs/formulas.md is generated from the catalog and must match it."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from courtside.cli import _register, app
from courtside.formulas.catalog import default_catalog
from courtside.formulas.docs import DEVIATIONS, render_formulas_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "formulas.md"


def test_the_committed_reference_is_the_catalogs() -> None:
    text = render_formulas_markdown(default_catalog())
    assert DOC.read_text(encoding="utf-8") == text, (
        "docs/formulas.md is out of date: run `courtside formulas docs --output "
        "docs/formulas.md`")


def test_every_formula_and_step_is_documented_with_its_deviations() -> None:
    cat = default_catalog()
    text = render_formulas_markdown(cat)
    for formula in cat:
        assert f"\n### {formula.id}\n" in text
        assert formula.expression in text
    for name in cat.steps:
        assert f"| {name} |" in text
    for fid, note in DEVIATIONS.items():
        assert fid in cat, fid
        section = text.split(f"\n### {fid}\n", 1)[1].split("\n### ", 1)[0]
        assert f"- known deviations: {note}" in section


def test_docs_command_writes_and_checks(tmp_path: Path) -> None:
    _register()
    runner = CliRunner()
    out = tmp_path / "formulas.md"
    stale = runner.invoke(app, ["formulas", "docs", "--output", str(out), "--check"])
    assert stale.exit_code == 1 and "out of date" in stale.output
    wrote = runner.invoke(app, ["formulas", "docs", "--output", str(out)])
    assert wrote.exit_code == 0 and out.read_text() == DOC.read_text()
    fresh = runner.invoke(app, ["formulas", "docs", "--output", str(out), "--check"])
    assert fresh.exit_code == 0
