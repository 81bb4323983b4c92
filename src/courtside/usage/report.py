"""Usage reports for a period: JSON, CSV, Markdown and self-contained HTML with SVG charts."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from courtside.model import ConfigError, utcnow
from courtside.storage.db import Database
from courtside.usage.charts import bar_chart, grouped_bar_chart, line_chart
from courtside.usage.insights import Insight, Thresholds, generate_insights
from courtside.usage.optimise import Action, Policy, recommend_actions
from courtside.usage.patterns import Patterns, analyze_usage_patterns

FORMATS = ("json", "csv", "markdown", "html")
_ALIASES = {"md": "markdown", "htm": "html"}


@dataclass(slots=True)
class UsageReport:
    """A period's patterns, the insights and the recommended actions derived from them."""

    generated_at: datetime
    patterns: Patterns
    insights: list[Insight]
    actions: list[Action]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"generated_at": self.generated_at.isoformat(),
                "patterns": self.patterns.to_dict(),
                "insights": [i.to_dict() for i in self.insights],
                "actions": [a.to_dict() for a in self.actions]}


def build_report(db: Database, period: str | None = None, *,
                 since: datetime | str | None = None, until: datetime | str | None = None,
                 filters: Mapping[str, str | None] | None = None,
                 thresholds: Thresholds | None = None, policy: Policy | None = None,
                 known_tools: Iterable[str] = (), known_formulas: Iterable[str] = (),
                 current: Mapping[str, Any] | None = None) -> UsageReport:
    """Compute everything a report shows for one period."""
    pats = analyze_usage_patterns(db, period, since=since, until=until, filters=filters)
    return UsageReport(
        generated_at=utcnow(), patterns=pats,
        insights=generate_insights(pats, thresholds=thresholds, known_tools=known_tools,
                                   known_formulas=known_formulas),
        actions=recommend_actions(pats, policy=policy, current=current))


def normalise_format(fmt: str) -> str:
    """Accept ``md``/``htm`` aliases; reject anything else with the list of formats."""
    f = _ALIASES.get(fmt.lower(), fmt.lower())
    if f not in FORMATS:
        raise ConfigError(f"report format {fmt!r} is not one of {list(FORMATS)} (or md)")
    return f


def render_report(report: UsageReport, fmt: str = "json") -> str:
    """The report as text in ``fmt``: json, csv, markdown (md) or html."""
    f = normalise_format(fmt)
    return {"json": _json, "csv": _csv, "markdown": _markdown, "html": _html}[f](report)


def _n(v: Any, digits: int = 1) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v * 100:.1f}%"


# ---------------------------------------------------------------------------- json / csv


def _json(r: UsageReport) -> str:
    return json.dumps(r.to_dict(), indent=2, default=str)


def _csv(r: UsageReport) -> str:
    """One long table: section, name, metric, value; every figure of the report on its own row."""
    p = r.patterns
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["section", "name", "metric", "value"])
    w.writerow(["period", p.period.name, "since", p.period.since.isoformat()])
    w.writerow(["period", p.period.name, "until", p.period.until.isoformat()])
    for k, v in p.totals.items():
        w.writerow(["totals", "all", k, "" if v is None else v])
    for section, key, rows in (("formula", "formula", p.top_formulas), ("tool", "tool", p.top_tools),
                               ("client", "client", p.top_clients),
                               ("interface", "interface", p.interfaces)):
        for row in rows:
            for metric in ("calls", "share", "errors", "error_rate", "cache_hit_rate", "p50_ms",
                           "p95_ms", "p99_ms"):
                w.writerow([section, row[key], metric, "" if row[metric] is None else row[metric]])
    for v in p.volume:
        w.writerow(["volume", v["start"].isoformat(), "calls", v["calls"]])
        w.writerow(["volume", v["start"].isoformat(), "errors", v["errors"]])
    for h in p.time_of_day:
        w.writerow(["hour_utc", h["hour"], "calls", h["calls"]])
    for k, ch in p.trend["change"].items():
        w.writerow(["trend", k, "first_half", "" if p.trend["first_half"][k] is None
                    else p.trend["first_half"][k]])
        w.writerow(["trend", k, "second_half", "" if p.trend["second_half"][k] is None
                    else p.trend["second_half"][k]])
        w.writerow(["trend", k, "pct_change", "" if ch["pct"] is None else ch["pct"]])
    for i in r.insights:
        w.writerow(["insight", i.subject, i.kind, i.message])
    for a in r.actions:
        w.writerow(["action", a.kind, "params", json.dumps(a.params)])
    return buf.getvalue()


# ---------------------------------------------------------------------------- markdown


def _md_table(headers: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return "_none_\n"
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(out) + "\n"


def _markdown(r: UsageReport) -> str:
    p, t = r.patterns, r.patterns.totals
    s = [f"# Usage report: {p.period.since:%Y-%m-%d %H:%M} to {p.period.until:%Y-%m-%d %H:%M} UTC",
         "",
         f"Period `{p.period.name}`" + (f", filters {p.filters}" if p.filters else "")
         + f"; generated {r.generated_at:%Y-%m-%d %H:%M:%S} UTC.", "",
         "## Totals", "",
         _md_table(["calls", "clients", "error rate", "timeouts", "cache hit rate", "p50 ms",
                    "p95 ms", "p99 ms"],
                   [[_n(t["calls"]), _n(t["clients"]), _pct(t["error_rate"]), _n(t["timeouts"]),
                     _pct(t["cache_hit_rate"]), _n(t["p50_ms"]), _n(t["p95_ms"]),
                     _n(t["p99_ms"])]]),
         "## Top formulas", "",
         _md_table(["formula", "calls", "share", "error rate", "cache hit rate", "p95 ms"],
                   [[f["formula"], _n(f["calls"]), _pct(f["share"]), _pct(f["error_rate"]),
                     _pct(f["cache_hit_rate"]), _n(f["p95_ms"])] for f in p.top_formulas]),
         "## Top tools", "",
         _md_table(["tool", "calls", "share", "error rate"],
                   [[x["tool"], _n(x["calls"]), _pct(x["share"]), _pct(x["error_rate"])]
                    for x in p.top_tools]),
         "## Top clients", "",
         _md_table(["client", "calls", "share", "error rate"],
                   [[x["client"], _n(x["calls"]), _pct(x["share"]), _pct(x["error_rate"])]
                    for x in p.top_clients]),
         "## Latency by tool", "",
         _md_table(["tool", "calls", "p50 ms", "p95 ms", "p99 ms", "max ms"],
                   [[x["tool"], _n(x["calls"]), _n(x["p50_ms"]), _n(x["p95_ms"]), _n(x["p99_ms"]),
                     _n(x["max_ms"])] for x in p.latency]),
         "## Errors by code", "",
         _md_table(["code", "calls"], [[x["error_code"], _n(x["calls"])]
                                       for x in p.errors["by_code"]]),
         "## Trend (first half vs second half)", "",
         _md_table(["metric", "first half", "second half", "change"],
                   [[k, _n(p.trend["first_half"][k], 3), _n(p.trend["second_half"][k], 3),
                     "–" if ch["pct"] is None else f"{ch['pct']:+.1f}%"]
                    for k, ch in p.trend["change"].items()]),
         f"## Volume per {p.bucket}", "",
         _md_table(["from", "calls", "errors"],
                   [[f"{v['start']:%Y-%m-%d %H:%M}", _n(v["calls"]), _n(v["errors"])]
                    for v in p.volume if v["calls"]]),
         "## Time of day (UTC)", "",
         _md_table(["hour", "calls"], [[f"{h['hour']:02d}", _n(h["calls"])]
                                       for h in p.time_of_day if h["calls"]]),
         "## Insights", ""]
    s += [f"- **{i.severity}** {i.kind} `{i.subject}`: {i.message}" for i in r.insights] or ["_none_"]
    s += ["", "## Recommended actions", ""]
    s += [f"- `{a.kind}` {json.dumps(a.params)}: {a.reason}" for a in r.actions] or ["_none_"]
    return "\n".join(s) + "\n"


# ---------------------------------------------------------------------------- html

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:980px;color:#111827}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #e5e7eb}
table{border-collapse:collapse;margin:8px 0}td,th{padding:3px 10px;border-bottom:1px solid #f3f4f6;
text-align:right}td:first-child,th:first-child{text-align:left}.kpis{display:flex;gap:12px;
flex-wrap:wrap}.kpi{border:1px solid #e5e7eb;border-radius:6px;padding:8px 14px}.kpi b{display:block;
font-size:20px}.critical{color:#b91c1c}.warning{color:#b45309}.info{color:#1d4ed8}svg{max-width:100%}
"""


def _html_table(headers: list[str], rows: list[list[str]], table_id: str = "") -> str:
    if not rows:
        return "<p><em>none</em></p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def report_charts(p: Patterns) -> dict[str, str]:
    """The report's three SVG charts: volume over time, top formulas, latency percentiles."""
    labels = [f"{v['start']:%m-%d %H:%M}" for v in p.volume]
    lat = p.latency[:8]
    return {
        "volume": line_chart(f"Calls per {p.bucket}", labels,
                             {"calls": [v["calls"] for v in p.volume],
                              "errors": [v["errors"] for v in p.volume]}, chart_id="chart-volume"),
        "formulas": bar_chart("Most used formulas (calls)",
                              [(f["formula"], f["calls"]) for f in p.top_formulas],
                              chart_id="chart-formulas"),
        "latency": grouped_bar_chart("Latency by tool", [x["tool"] for x in lat],
                                     {q: [x[f"{q}_ms"] for x in lat] for q in ("p50", "p95", "p99")},
                                     unit=" ms", chart_id="chart-latency"),
    }


def _html(r: UsageReport) -> str:
    p, t = r.patterns, r.patterns.totals
    charts = report_charts(p)
    kpis = [("calls", _n(t["calls"])), ("clients", _n(t["clients"])),
            ("error rate", _pct(t["error_rate"])), ("cache hit rate", _pct(t["cache_hit_rate"])),
            ("p95 latency", f"{_n(t['p95_ms'])} ms")]
    insights = "".join(f'<li class="{escape(i.severity)}"><b>{escape(i.kind)}</b> '
                       f'<code>{escape(i.subject)}</code>: {escape(i.message)}</li>'
                       for i in r.insights) or "<li><em>none</em></li>"
    actions = "".join(f"<li><code>{escape(a.kind)}</code> {escape(json.dumps(a.params))}: "
                      f"{escape(a.reason)}</li>" for a in r.actions) or "<li><em>none</em></li>"
    title = f"Usage report {p.period.since:%Y-%m-%d %H:%M} – {p.period.until:%Y-%m-%d %H:%M} UTC"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>{_CSS}</style></head><body>
<h1>{escape(title)}</h1>
<p>Period <code>{escape(p.period.name)}</code>{escape(f", filters {p.filters}" if p.filters else "")};
generated {r.generated_at:%Y-%m-%d %H:%M:%S} UTC.</p>
<div class="kpis">{"".join(f'<div class="kpi">{escape(k)}<b>{escape(v)}</b></div>' for k, v in kpis)}</div>
<h2>Volume</h2>{charts["volume"]}
<h2>Top formulas</h2>{charts["formulas"]}
{_html_table(["formula", "calls", "share", "error rate", "cache hit rate", "p95 ms"],
             [[f["formula"], _n(f["calls"]), _pct(f["share"]), _pct(f["error_rate"]),
               _pct(f["cache_hit_rate"]), _n(f["p95_ms"])] for f in p.top_formulas], "formulas")}
<h2>Latency</h2>{charts["latency"]}
{_html_table(["tool", "calls", "p50 ms", "p95 ms", "p99 ms"],
             [[x["tool"], _n(x["calls"]), _n(x["p50_ms"]), _n(x["p95_ms"]), _n(x["p99_ms"])]
              for x in p.latency], "latency")}
<h2>Clients</h2>
{_html_table(["client", "calls", "share", "error rate"],
             [[x["client"], _n(x["calls"]), _pct(x["share"]), _pct(x["error_rate"])]
              for x in p.top_clients], "clients")}
<h2>Errors by code</h2>
{_html_table(["code", "calls"], [[x["error_code"], _n(x["calls"])] for x in p.errors["by_code"]])}
<h2>Insights</h2><ul id="insights">{insights}</ul>
<h2>Recommended actions</h2><ul id="actions">{actions}</ul>
</body></html>
"""
