"""Reports of ``known_events`` in JSON, CSV, Markdown and self-contained HTML."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest

from courtside.model import ConfigError
from courtside.usage.insights import Thresholds
from courtside.usage.report import build_report, render_report

from .known import T0

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def report(known_db):
    return build_report(known_db, since=T0, until=T0 + timedelta(hours=4),
                        thresholds=Thresholds(min_calls=2, error_rate=0.25),
                        known_formulas=["PER", "TS_PCT", "USG_PCT"])


def test_json(report):
    d = json.loads(render_report(report, "json"))
    assert d["patterns"]["totals"]["calls"] == 16
    assert d["patterns"]["top_formulas"][0] == {**d["patterns"]["top_formulas"][0],
                                                "formula": "PER", "calls": 10, "share": 0.625}
    assert {(i["kind"], i["subject"]) for i in d["insights"]} >= {
        ("high_error_rate", "formula:TS_PCT"), ("unused_feature", "formula:USG_PCT")}


def test_csv_holds_every_figure_on_its_own_row(report):
    rows = list(csv.DictReader(io.StringIO(render_report(report, "csv"))))
    get = {(r["section"], r["name"], r["metric"]): r["value"] for r in rows}
    assert get[("totals", "all", "calls")] == "16"
    assert float(get[("totals", "all", "error_rate")]) == 0.125
    assert get[("formula", "TS_PCT", "error_rate")] == "0.5"
    assert float(get[("tool", "calculate", "p95_ms")]) == pytest.approx(136.75)
    assert sum(int(r["value"]) for r in rows if r["section"] == "volume" and r["metric"] == "calls") == 16
    assert get[("trend", "calls", "pct_change")] == "-40.0"
    assert ("insight", "formula:TS_PCT", "high_error_rate") in get


def test_markdown_tables(report):
    md = render_report(report, "md")
    assert md.startswith("# Usage report: 2026-01-01 00:00 to 2026-01-01 04:00 UTC")
    assert "| PER | 10 | 62.5% | 0.0% | 50.0% |" in md
    assert "| calculate | 14 | 45.0 | 136.7 | 191.3 | 205.0 |" in md
    assert "| calls | 10 | 6 | -40.0% |" in md
    assert "**critical** high_error_rate `formula:TS_PCT`: TS_PCT failed 2 of 4 calls" in md


def test_html_is_self_contained_with_the_three_charts(report):
    page = render_report(report, "html")
    assert "<script" not in page and not re.search(r'\b(src|href)=', page)
    assert re.findall(r"https?://[^\"' ]+", page) == ["http://www.w3.org/2000/svg"] * 3
    svgs = {m.group(1): ET.fromstring(m.group(0))
            for m in re.finditer(r'<svg [^>]*id="([^"]+)".*?</svg>', page, re.S)}
    assert set(svgs) == {"chart-volume", "chart-formulas", "chart-latency"}
    bars = [(r.get("data-label"), float(r.get("data-value")))
            for r in svgs["chart-formulas"].iter(f"{SVG}rect")]
    assert bars == [("PER", 10.0), ("TS_PCT", 4.0)]
    lat = {(r.get("data-group"), r.get("data-series")): float(r.get("data-value"))
           for r in svgs["chart-latency"].iter(f"{SVG}rect")}
    assert lat[("calculate", "p95")] == pytest.approx(136.75) and lat[("batch", "p50")] == 1500
    calls = [p for p in svgs["chart-volume"].iter(f"{SVG}polyline") if p.get("data-series") == "calls"]
    assert len(calls[0].get("points").split()) == 48  # one point per 5-minute bucket
    dots = sum(float(c.get("data-value")) for c in svgs["chart-volume"].iter(f"{SVG}circle")
               if c.find(f"{SVG}title").text.startswith("calls"))
    assert dots == 16


def test_unknown_format_is_refused(report):
    with pytest.raises(ConfigError, match="report format 'pdf' is not one of"):
        render_report(report, "pdf")
