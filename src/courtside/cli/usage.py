"""``courtside usage``: reports, patterns, insights and alert rules from the usage database."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from courtside.cli import app
from courtside.cli.options import Db, fail, open_database

usage_app = typer.Typer(name="usage", no_args_is_help=True,
                        help="Usage analytics: reports, patterns, insights and alerts.")
alerts_app = typer.Typer(name="alerts", no_args_is_help=True,
                         help="Alert rules on usage metrics: list, add, remove, evaluate, history.")
usage_app.add_typer(alerts_app, name="alerts")
app.add_typer(usage_app, name="usage")

PERIOD_HELP = "hour, day, week, month, year, all, or a span such as 15m, 6h, 7d."

PeriodOpt = typer.Option(None, "--period", "-p", help=PERIOD_HELP)
SinceOpt = typer.Option(None, "--since", help="Start (ISO 8601, UTC); overrides the period's.")
UntilOpt = typer.Option(None, "--until", help="End (ISO 8601, UTC); default now.")
ClientOpt = typer.Option(None, "--client", help="Only this client's calls.")
OutputOpt = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout.")
FormatOpt = typer.Option("table", "--format", "-f", help="table or json.")


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output} ({len(text.encode())} bytes)", err=True)


def _table_or_json(fmt: str) -> str:
    f = fmt.lower()
    if f not in ("table", "json"):
        fail(f"format {fmt!r} is not one of ['table', 'json']")
    return f


def _fmt(v: object, pct: bool = False) -> str:
    if v is None:
        return "–"
    if pct:
        return f"{float(v) * 100:.1f}%"  # type: ignore[arg-type]
    return f"{v:.1f}" if isinstance(v, float) else str(v)


def _rich_text(render: Callable[[Console], None]) -> str:
    # Plain text out: names from callers ("[/]", ":smile:") are printed, not interpreted.
    console = Console(record=True, width=120, file=io.StringIO(), markup=False, emoji=False)
    render(console)
    return console.export_text()


# ---------------------------------------------------------------------------------- report


@usage_app.command("report")
def report_cmd(
    db: Db = None, period: str | None = PeriodOpt, since: str | None = SinceOpt,
    until: str | None = UntilOpt, client: str | None = ClientOpt,
    fmt: str = typer.Option("markdown", "--format", "-f", help="json, csv, markdown (md) or html."),
    output: Path | None = OutputOpt,
) -> None:
    """A usage report for a period: patterns, insights and recommended actions."""
    from courtside.usage.report import build_report, normalise_format, render_report

    with open_database(db) as database:
        f = normalise_format(fmt)
        rep = build_report(database, period, since=since, until=until, filters={"client": client})
        _emit(render_report(rep, f), output)


# ---------------------------------------------------------------------------------- patterns


@usage_app.command("patterns")
def patterns_cmd(
    db: Db = None, period: str | None = PeriodOpt, since: str | None = SinceOpt,
    until: str | None = UntilOpt, client: str | None = ClientOpt,
    top: int = typer.Option(10, "--top", min=1, help="How many formulas, tools, clients."),
    fmt: str = FormatOpt,
    output: Path | None = OutputOpt,
) -> None:
    """Volume, top formulas/tools/clients, latency percentiles, error rates and trends."""
    from courtside.usage.patterns import analyze_usage_patterns

    f = _table_or_json(fmt)
    with open_database(db) as database:
        p = analyze_usage_patterns(database, period, since=since, until=until,
                                   filters={"client": client}, top=top)
    if f == "json":
        _emit(json.dumps(p.to_dict(), indent=2, default=str), output)
        return

    def render(con: Console) -> None:
        t = p.totals
        con.print(f"{p.period.since:%Y-%m-%d %H:%M} to {p.period.until:%Y-%m-%d %H:%M} UTC"
                  f" ({p.period.name}): {t['calls']} calls, {t['clients']} clients, error rate "
                  f"{_fmt(t['error_rate'], True)}, cache hit rate {_fmt(t['cache_hit_rate'], True)}, "
                  f"p95 {_fmt(t['p95_ms'])} ms")
        for title, key, rows in (("Top formulas", "formula", p.top_formulas),
                                 ("Top tools", "tool", p.top_tools),
                                 ("Top clients", "client", p.top_clients)):
            tab = Table(title=title)
            for col in (key, "calls", "share", "error rate", "p95 ms"):
                tab.add_column(col, justify="left" if col == key else "right")
            for r in rows:
                tab.add_row(str(r[key]), str(r["calls"]), _fmt(r["share"], True),
                            _fmt(r["error_rate"], True), _fmt(r["p95_ms"]))
            con.print(tab)
        tab = Table(title="Latency by tool (ms)")
        for col in ("tool", "calls", "p50", "p95", "p99"):
            tab.add_column(col, justify="left" if col == "tool" else "right")
        for r in p.latency:
            tab.add_row(r["tool"], str(r["calls"]), _fmt(r["p50_ms"]), _fmt(r["p95_ms"]),
                        _fmt(r["p99_ms"]))
        con.print(tab)
        ch = p.trend["change"]["calls"]
        con.print(f"Trend: {p.trend['first_half']['calls']} calls in the first half, "
                  f"{p.trend['second_half']['calls']} in the second"
                  + (f" ({ch['pct']:+.1f}%)" if ch["pct"] is not None else ""))

    _emit(_rich_text(render), output)


# ---------------------------------------------------------------------------------- insights


@usage_app.command("insights")
def insights_cmd(
    db: Db = None, period: str | None = PeriodOpt, since: str | None = SinceOpt,
    until: str | None = UntilOpt, client: str | None = ClientOpt,
    min_calls: int = typer.Option(10, help="Calls needed before a rate is judged."),
    error_rate: float = typer.Option(0.05, help="Report formulas failing at least this often."),
    slow_p95_ms: float = typer.Option(500.0, help="Report tools whose p95 is at least this."),
    cache_hit_rate: float = typer.Option(0.5, help="Report cache hit rates below this."),
    known_tool: list[str] = typer.Option([], "--known-tool",  # noqa: B008
                                         help="A tool that exists (repeat); unused ones are reported."),
    known_formula: list[str] = typer.Option([], "--known-formula",  # noqa: B008
                                            help="A formula that exists (repeat)."),
    fmt: str = FormatOpt,
    output: Path | None = OutputOpt,
) -> None:
    """Findings computed from the period's usage, each with its numbers."""
    from courtside.usage.insights import Thresholds, generate_insights
    from courtside.usage.patterns import analyze_usage_patterns

    f = _table_or_json(fmt)
    with open_database(db) as database:
        p = analyze_usage_patterns(database, period, since=since, until=until,
                                   filters={"client": client})
        found = generate_insights(
            p, thresholds=Thresholds(min_calls=min_calls, error_rate=error_rate,
                                     slow_p95_ms=slow_p95_ms, cache_hit_rate=cache_hit_rate),
            known_tools=known_tool, known_formulas=known_formula)
    if f == "json":
        _emit(json.dumps([i.to_dict() for i in found], indent=2, default=str), output)
        return

    def render(con: Console) -> None:
        if not found:
            con.print(f"No findings over {p.totals['calls']} calls.")
            return
        tab = Table(title=f"Insights ({p.period.name})")
        for col in ("severity", "kind", "subject", "finding"):
            tab.add_column(col)
        for i in found:
            tab.add_row(i.severity, i.kind, i.subject, i.message)
        con.print(tab)

    _emit(_rich_text(render), output)


# ---------------------------------------------------------------------------------- alerts


@alerts_app.command("list")
def alerts_list(db: Db = None,
                fmt: str = FormatOpt) -> None:
    """The stored alert rules."""
    from courtside.usage.alerts import list_rules

    f = _table_or_json(fmt)
    with open_database(db) as database:
        rules = list_rules(database)
    if f == "json":
        _emit(json.dumps([r.to_dict() for r in rules], indent=2), None)
        return

    def render(con: Console) -> None:
        tab = Table(title="Alert rules")
        for col in ("id", "name", "condition", "cooldown s", "enabled", "webhook"):
            tab.add_column(col)
        for r in rules:
            tab.add_row(str(r.rule_id), r.name, r.describe(), f"{r.cooldown_seconds:g}",
                        "yes" if r.enabled else "no", r.webhook_url or "")
        con.print(tab if rules else "No alert rules; add one with `courtside usage alerts add`.")

    _emit(_rich_text(render), None)


@alerts_app.command("add")
def alerts_add(
    name: str = typer.Argument(..., help="A unique name."),
    metric: str = typer.Option(..., help="error_rate, timeout_rate, p50/p95/p99_latency_ms, "
                                         "volume or cache_hit_rate."),
    comparison: str = typer.Option(">", help="> >= < <="),
    threshold: float = typer.Option(..., help="Rates as fractions (0.05 = 5%)."),
    window: float = typer.Option(300.0, help="Window in seconds."),
    cooldown: float = typer.Option(900.0, help="Seconds of silence after firing."),
    min_events: int = typer.Option(1, help="Events needed before a rate is judged."),
    tool: str | None = typer.Option(None, help="Only this tool's calls."),
    formula: str | None = typer.Option(None, help="Only this formula's calls."),
    client: str | None = typer.Option(None, help="Only this client's calls."),
    webhook: str | None = typer.Option(None, help="POST each alert of this rule here."),
    db: Db = None,
) -> None:
    """Store a new alert rule."""
    from courtside.usage.alerts import AlertRule, add_rule

    filters = {k: v for k, v in (("tool", tool), ("formula", formula), ("client", client)) if v}
    with open_database(db) as database:
        rule = add_rule(database, AlertRule(name, metric, comparison, threshold, window, cooldown,
                                            min_events, filters, webhook))
    typer.echo(f"added rule {rule.rule_id} {rule.name}: {rule.describe()}")


@alerts_app.command("remove")
def alerts_remove(name: str = typer.Argument(..., help="Rule name or id."),
                  db: Db = None) -> None:
    """Delete an alert rule (its history stays)."""
    from courtside.usage.alerts import remove_rule

    with open_database(db) as database:
        remove_rule(database, name)
    typer.echo(f"removed rule {name}")


@alerts_app.command("evaluate")
def alerts_evaluate(
    db: Db = None,
    webhook: list[str] = typer.Option([], "--webhook", help="Also POST alerts here (repeat)."),  # noqa: B008
    watch: float = typer.Option(0.0, "--watch", help="Keep evaluating every this many seconds."),
) -> None:
    """Evaluate every enabled rule now (or continuously with --watch) and deliver what fires."""
    import asyncio

    from courtside.usage.alerts import AlertEvaluator

    def show(ev) -> None:  # type: ignore[no-untyped-def]
        typer.echo(f"ALERT {ev.fired_at:%Y-%m-%d %H:%M:%S} {ev.message}")

    with open_database(db) as database:
        evaluator = AlertEvaluator(database, webhook_urls=webhook, callbacks=[show],
                                   log_alerts=False)
        if watch > 0:
            with suppress(KeyboardInterrupt):
                asyncio.run(evaluator.run(watch))
            return
        fired = evaluator.evaluate()
    if not fired:
        typer.echo("no alert fired")


@alerts_app.command("history")
def alerts_history(
    db: Db = None, rule: str | None = typer.Option(None, help="Only this rule."),
    limit: int = typer.Option(50, min=1), fmt: str = FormatOpt,
) -> None:
    """Alerts fired, newest first."""
    from courtside.usage.alerts import alert_history

    f = _table_or_json(fmt)
    with open_database(db) as database:
        hist = alert_history(database, rule=rule, limit=limit)
    if f == "json":
        _emit(json.dumps([h.to_dict() for h in hist], indent=2), None)
        return

    def render(con: Console) -> None:
        tab = Table(title="Alert history")
        for col in ("fired at", "rule", "value", "message", "deliveries"):
            tab.add_column(col)
        for h in hist:
            tab.add_row(f"{h.fired_at:%Y-%m-%d %H:%M:%S}", h.rule_name, _fmt(h.value), h.message,
                        ", ".join(f"{k}: {v}" for k, v in h.deliveries.items()))
        con.print(tab if hist else "No alerts fired.")

    _emit(_rich_text(render), None)
