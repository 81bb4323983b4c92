"""The usage dashboard: a self-contained HTML page that polls a JSON endpoint, and that JSON.

The API mounts both: ``render_dashboard(data_url)`` at the page's path and
``dashboard_data(db, ...)`` behind ``data_url`` (query parameters ``period``, ``client``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from courtside.model import utcnow
from courtside.storage.db import Database
from courtside.storage.usage import distinct_values
from courtside.usage.insights import Thresholds, generate_insights
from courtside.usage.patterns import analyze_usage_patterns

PERIODS = ("hour", "6h", "day", "week", "month", "all")


def dashboard_data(db: Database, *, period: str | None = "day", client: str | None = None,
                   thresholds: Thresholds | None = None, known_tools: Iterable[str] = (),
                   known_formulas: Iterable[str] = ()) -> dict[str, Any]:
    """What the dashboard shows for a period and (optionally) one client, JSON-ready."""
    pats = analyze_usage_patterns(db, period or "day", filters={"client": client})
    insights = generate_insights(pats, thresholds=thresholds, known_tools=known_tools,
                                 known_formulas=known_formulas)
    return {"generated_at": utcnow().isoformat(), "all_clients": distinct_values(db, "client"),
            "patterns": pats.to_dict(), "insights": [i.to_dict() for i in insights]}


def render_dashboard(data_url: str, *, title: str = "courtside usage",
                     refresh_seconds: float = 10.0, periods: Sequence[str] = PERIODS,
                     default_period: str = "day") -> str:
    """The dashboard page; it fetches ``data_url?period=..&client=..`` every ``refresh_seconds``."""
    config = json.dumps({"dataUrl": data_url, "refreshMs": int(refresh_seconds * 1000)})
    config = config.replace("</", "<\\/")  # never close the script element from data
    options = "".join(f'<option value="{escape(p)}"{" selected" if p == default_period else ""}>'
                      f"{escape(p)}</option>" for p in periods)
    values = {"TITLE": escape(title), "OPTIONS": options, "CONFIG": config}
    # One pass: a title holding "__CONFIG__" must not have the data URL put there, unescaped.
    return _SLOT.sub(lambda m: values[m.group(1)], _PAGE)


_SLOT = re.compile(r"__(TITLE|OPTIONS|CONFIG)__")


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>__TITLE__</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="data:,">
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#111827;background:#f9fafb}
header{display:flex;gap:16px;align-items:center;padding:12px 20px;background:#111827;color:#fff}
header h1{font-size:18px;margin:0 auto 0 0}select{font:inherit;padding:2px 6px}
main{padding:16px 20px;display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px}
section{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:12px}
h2{font-size:15px;margin:0 0 8px}.kpis{display:flex;gap:12px;flex-wrap:wrap;grid-column:1/-1}
.kpi{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:8px 16px;min-width:120px}
.kpi b{display:block;font-size:22px}svg{width:100%;height:auto}#status{font-size:12px;opacity:.8}
.critical{color:#b91c1c}.warning{color:#b45309}.info{color:#1d4ed8}
</style></head><body>
<header><h1>__TITLE__</h1>
<label>Period <select id="period">__OPTIONS__</select></label>
<label>Client <select id="client"><option value="">all clients</option></select></label>
<span id="status">loading…</span></header>
<main>
<div class="kpis">
<div class="kpi">calls<b id="kpi-calls">–</b></div><div class="kpi">clients<b id="kpi-clients">–</b></div>
<div class="kpi">error rate<b id="kpi-error-rate">–</b></div>
<div class="kpi">cache hit rate<b id="kpi-cache">–</b></div>
<div class="kpi">p95 latency<b id="kpi-p95">–</b></div></div>
<section><h2>Calls over time</h2><svg id="chart-volume" viewBox="0 0 600 220"></svg></section>
<section><h2>Top formulas</h2><svg id="chart-formulas" viewBox="0 0 600 220"></svg></section>
<section><h2>Latency by tool (p50 / p95 / p99 ms)</h2><svg id="chart-latency" viewBox="0 0 600 220"></svg></section>
<section><h2>Time of day (UTC)</h2><svg id="chart-hours" viewBox="0 0 600 220"></svg></section>
<section><h2>Top clients</h2><svg id="chart-clients" viewBox="0 0 600 220"></svg></section>
<section><h2>Insights</h2><ul id="insights"></ul></section>
</main>
<script>
"use strict";
const CONFIG = __CONFIG__;
const NS = "http://www.w3.org/2000/svg";
const COLORS = ["#2563eb", "#dc2626", "#16a34a"];
const $ = (id) => document.getElementById(id);
function el(tag, attrs, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
function niceMax(v) {
  if (!(v > 0)) return 1;
  const mag = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * mag >= v) return m * mag;
  return v;
}
function fmt(v) { return v == null ? "–" : (Math.abs(v) >= 100 || Number.isInteger(v) ? v.toFixed(0) : v.toFixed(1)); }
function pct(v) { return v == null ? "–" : (v * 100).toFixed(1) + "%"; }
function axes(svg, top, L, T, W, H) {
  for (let k = 0; k <= 4; k++) {
    const y = T + H - H * k / 4;
    svg.append(el("line", {x1: L, x2: L + W, y1: y, y2: y, stroke: "#e5e7eb"}));
    svg.append(el("text", {x: L - 4, y: y + 4, "font-size": 10, "text-anchor": "end"}, fmt(top * k / 4)));
  }
}
function lineChart(svg, labels, series) {
  svg.replaceChildren();
  const L = 40, T = 10, W = 550, H = 180, n = Math.max(labels.length, 1);
  const top = niceMax(Math.max(0, ...Object.values(series).flat()));
  axes(svg, top, L, T, W, H);
  const x = (i) => L + (n > 1 ? W * i / (n - 1) : W / 2), y = (v) => T + H - H * v / top;
  Object.entries(series).forEach(([name, vals], j) => {
    svg.append(el("polyline", {class: "series", "data-series": name, fill: "none", stroke: COLORS[j],
      "stroke-width": 2, points: vals.map((v, i) => x(i) + "," + y(v)).join(" ")}));
    vals.forEach((v, i) => { if (v) { const c = el("circle", {cx: x(i), cy: y(v), r: 2.5, fill: COLORS[j], "data-value": v});
      c.append(el("title", {}, name + " " + labels[i] + ": " + v)); svg.append(c); } });
  });
  [0, Math.floor((n - 1) / 2), n - 1].forEach((i) => labels[i] !== undefined &&
    svg.append(el("text", {x: x(i), y: 214, "font-size": 10, "text-anchor": "middle"}, labels[i])));
}
function barChart(svg, items) {
  svg.replaceChildren();
  const L = 120, T = 6, W = 420, bh = Math.min(24, 200 / Math.max(items.length, 1));
  const top = Math.max(1, ...items.map((d) => d[1]));
  if (!items.length) svg.append(el("text", {x: L, y: 30, "font-size": 12}, "no data"));
  items.forEach(([label, v], i) => {
    const y = T + i * bh, w = Math.max(1, W * v / top);
    svg.append(el("text", {x: L - 6, y: y + bh * 0.65, "font-size": 11, "text-anchor": "end"}, label));
    svg.append(el("rect", {class: "bar", "data-label": label, "data-value": v, x: L, y: y + 2, width: w,
      height: bh - 4, fill: COLORS[0]}));
    svg.append(el("text", {x: L + w + 4, y: y + bh * 0.65, "font-size": 11}, fmt(v)));
  });
}
function groupedBars(svg, groups, series) {
  svg.replaceChildren();
  const L = 50, T = 10, W = 540, H = 170;
  const top = niceMax(Math.max(0, ...Object.values(series).flat().map((v) => v || 0)));
  axes(svg, top, L, T, W, H);
  const gw = W / Math.max(groups.length, 1), keys = Object.keys(series), bw = gw * 0.8 / keys.length;
  groups.forEach((g, gi) => {
    const x0 = L + gi * gw + gw * 0.1;
    svg.append(el("text", {x: x0 + gw * 0.4, y: 198, "font-size": 10, "text-anchor": "middle"}, g));
    keys.forEach((k, si) => {
      const v = series[k][gi] || 0, h = H * v / top;
      svg.append(el("rect", {class: "bar", "data-group": g, "data-series": k, "data-value": v,
        x: x0 + si * bw, y: T + H - h, width: bw * 0.9, height: h, fill: COLORS[si % 3]}));
    });
  });
}
function render(d) {
  const p = d.patterns, t = p.totals;
  $("kpi-calls").textContent = t.calls;
  $("kpi-clients").textContent = t.clients;
  $("kpi-error-rate").textContent = pct(t.error_rate);
  $("kpi-cache").textContent = pct(t.cache_hit_rate);
  $("kpi-p95").textContent = t.p95_ms == null ? "–" : fmt(t.p95_ms) + " ms";
  const sel = $("client"), chosen = sel.value;
  const have = new Set([...sel.options].map((o) => o.value));
  for (const c of d.all_clients) if (!have.has(c)) sel.append(new Option(c, c));
  sel.value = chosen;
  lineChart($("chart-volume"), p.volume.map((v) => v.start.slice(5, 16).replace("T", " ")),
            {calls: p.volume.map((v) => v.calls), errors: p.volume.map((v) => v.errors)});
  barChart($("chart-formulas"), p.top_formulas.map((f) => [f.formula, f.calls]));
  const lat = p.latency.slice(0, 8);
  groupedBars($("chart-latency"), lat.map((x) => x.tool),
              {p50: lat.map((x) => x.p50_ms), p95: lat.map((x) => x.p95_ms), p99: lat.map((x) => x.p99_ms)});
  barChart($("chart-hours"), p.time_of_day.filter((h) => h.calls).map((h) => [String(h.hour).padStart(2, "0") + ":00", h.calls]));
  barChart($("chart-clients"), p.top_clients.map((c) => [c.client, c.calls]));
  const ul = $("insights");
  ul.replaceChildren(...(d.insights.length ? d.insights.map((i) => {
    const li = document.createElement("li"); li.className = i.severity;
    li.textContent = i.kind + " (" + i.subject + "): " + i.message; return li;
  }) : [Object.assign(document.createElement("li"), {textContent: "none"})]));
}
let inflight = false;
async function refresh() {
  if (inflight) return;
  inflight = true;
  const q = new URLSearchParams({period: $("period").value});
  if ($("client").value) q.set("client", $("client").value);
  try {
    const r = await fetch(CONFIG.dataUrl + (CONFIG.dataUrl.includes("?") ? "&" : "?") + q);
    if (!r.ok) throw new Error("HTTP " + r.status);
    render(await r.json());
    $("status").textContent = "updated " + new Date().toLocaleTimeString();
    document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
  } catch (e) {
    $("status").textContent = "could not refresh: " + e.message;
  } finally { inflight = false; }
}
$("period").addEventListener("change", refresh);
$("client").addEventListener("change", refresh);
refresh();
if (CONFIG.refreshMs > 0) setInterval(refresh, CONFIG.refreshMs);
</script></body></html>
"""
