"""``courtside usage``: report, patterns, insights and alerts against a real SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from courtside.cli import _register, app

SRC = Path(__file__).resolve().parents[2] / "src"
SPAN = ["--since", "2026-01-01T00:00:00Z", "--until", "2026-01-01T04:00:00Z"]


@pytest.fixture
def cli():
    _register()
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["usage", *args])


def test_report_in_each_format_to_a_file(cli, known_db, tmp_path):
    url = known_db.url
    out = tmp_path / "r.md"
    res = cli("report", "--db", url, *SPAN, "--format", "md", "--output", str(out))
    assert res.exit_code == 0, res.output
    assert "| PER | 10 | 62.5% | 0.0% | 50.0% |" in out.read_text()
    res = cli("report", "--db", url, *SPAN, "--format", "html", "-o", str(tmp_path / "r.html"))
    assert res.exit_code == 0 and 'id="chart-volume"' in (tmp_path / "r.html").read_text()
    res = cli("report", "--db", url, *SPAN, "--format", "json", "--client", "bob")
    assert json.loads(res.stdout)["patterns"]["totals"]["calls"] == 6
    res = cli("report", "--db", url, *SPAN, "--format", "csv")
    assert "totals,all,calls,16" in res.stdout


def test_patterns_table_and_json(cli, known_db):
    res = cli("patterns", "--db", known_db.url, *SPAN)
    assert res.exit_code == 0, res.output
    assert "16 calls, 2 clients, error rate 12.5%, cache hit rate 50.0%" in res.stdout
    assert "Trend: 10 calls in the first half, 6 in the second (-40.0%)" in res.stdout
    res = cli("patterns", "--db", known_db.url, *SPAN, "--format", "json", "--top", "1")
    d = json.loads(res.stdout)
    assert [f["formula"] for f in d["top_formulas"]] == ["PER"]


def test_insights_with_thresholds_from_options(cli, known_db):
    res = cli("insights", "--db", known_db.url, *SPAN, "--min-calls", "2", "--error-rate", "0.25",
              "--known-formula", "USG_PCT", "--known-formula", "PER", "--format", "json")
    assert res.exit_code == 0, res.output
    found = {(i["kind"], i["subject"]) for i in json.loads(res.stdout)}
    assert ("high_error_rate", "formula:TS_PCT") in found
    assert ("unused_feature", "formula:USG_PCT") in found
    assert ("unused_feature", "formula:PER") not in found


def test_alert_rules_through_the_cli(cli, tmp_path):
    from courtside.storage.db import Database
    from courtside.usage.tracker import UsageTracker

    url = f"sqlite:///{tmp_path / 'a.db'}"
    res = cli("alerts", "add", "errs", "--metric", "error_rate", "--threshold", "0.4",
              "--tool", "calculate", "--db", url)
    assert res.exit_code == 0 and "error_rate > 0.4 over 300 s, tool=calculate" in res.output
    assert "errs" in cli("alerts", "list", "--db", url).stdout
    assert cli("alerts", "evaluate", "--db", url).stdout.strip() == "no alert fired"
    db = Database(url)
    with UsageTracker(db) as tracker:
        for fail in (True, False):
            with tracker.track("calculate") as call:
                if fail:
                    call.fail("invalid_data")
    res = cli("alerts", "evaluate", "--db", url)
    assert "ALERT" in res.stdout and "errs: error_rate was 0.5 (> 0.4)" in res.stdout
    hist = json.loads(cli("alerts", "history", "--db", url, "--format", "json").stdout)
    assert [(h["rule_name"], h["value"]) for h in hist] == [("errs", 0.5)]
    assert cli("alerts", "remove", "errs", "--db", url).exit_code == 0
    assert json.loads(cli("alerts", "list", "--db", url, "-f", "json").stdout) == []
    db.dispose()


def test_bad_input_gives_a_clear_message_and_exit_code_2(cli, db):
    res = cli("report", "--db", db.url, "--format", "pdf")
    assert res.exit_code == 2 and "report format 'pdf' is not one of" in res.stderr
    res = cli("patterns", "--db", db.url, "--period", "fortnight")
    assert res.exit_code == 2 and "period 'fortnight' is not known" in res.stderr
    res = cli("patterns", "--db", "courtside.db")
    assert res.exit_code == 2 and "has no scheme" in res.stderr
    res = cli("alerts", "add", "x", "--metric", "latency", "--threshold", "1", "--db", db.url)
    assert res.exit_code == 2 and "metric 'latency' is not one of" in res.stderr


def test_registered_on_the_courtside_command(known_db):
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    res = subprocess.run([sys.executable, "-m", "courtside", "usage", "patterns", "--db",
                          known_db.url, *SPAN, "-f", "json"], capture_output=True, text=True,
                         env=env, timeout=60)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["totals"]["calls"] == 16


def test_names_in_tables_are_text_not_rich_markup(cli, db):
    from courtside.storage.usage import insert_events
    from courtside.usage.events import make_event

    from .known import T0

    # Client and formula names come from callers (X-Client-Id, MCP): "[/]" is markup to Rich.
    insert_events(db, [make_event(client="[bold]eve[/]", tool="calculate", formula="X[/]",
                                  started_at=T0).to_row() for _ in range(12)]
                   + [make_event(client=":smile:", tool="calculate", started_at=T0).to_row()])
    res = cli("patterns", "--db", db.url, *SPAN)
    assert res.exit_code == 0, res.output
    assert "[bold]eve[/]" in res.stdout and "X[/]" in res.stdout and ":smile:" in res.stdout
    res = cli("insights", "--db", db.url, *SPAN, "--known-tool", "[red]gone[/red]")
    assert res.exit_code == 0, res.output
    assert "tool:[red]gone[/red]" in res.stdout
