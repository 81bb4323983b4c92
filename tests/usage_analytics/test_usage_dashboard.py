"""The usage dashboard in headless chromium, fed by a real UsageTracker database."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from courtside.usage.dashboard import dashboard_data, render_dashboard
from courtside.usage.tracker import UsageTracker

from .server import serve


def test_dashboard_data_filters_by_client(db):
    with UsageTracker(db) as tracker:
        for client, n in (("alice", 3), ("bob", 2)):
            for _ in range(n):
                with tracker.track("calculate", client=client, formula="PER"):
                    pass
    d = dashboard_data(db, period="hour", client="bob")
    assert d["patterns"]["totals"]["calls"] == 2 and d["all_clients"] == ["alice", "bob"]
    assert d["patterns"]["filters"] == {"client": "bob"}


def test_page_escapes_its_configuration():
    page = render_dashboard('/x?a="</script><script>alert(1)</script>', title="<b>t</b>")
    assert "</script><script>alert(1)" not in page and "&lt;b&gt;t&lt;/b&gt;" in page


def test_a_title_naming_a_placeholder_stays_text():
    # Both come from an MCP caller (create_usage_dashboard): the title is escaped once and the
    # data URL lands in the script only, never in the page's markup.
    page = render_dashboard("/d?<img src=x onerror=alert(1)>", title="__CONFIG__ __OPTIONS__")
    head = page.split("<script>")[0]
    assert "<img" not in head and "<title>__CONFIG__ __OPTIONS__</title>" in head
    assert page.count("onerror") == 1


@pytest.mark.browser
def test_dashboard_renders_filters_and_refreshes_live(db, chromium_path):
    from playwright.sync_api import expect, sync_playwright

    tracker = UsageTracker(db, flush_interval=0.05).start()
    for client, formula, n in (("alice", "PER", 6), ("bob", "TS_PCT", 3), ("bob", "PER", 1)):
        for _ in range(n):
            with tracker.track("calculate_formula_realtime", interface="rest", client=client,
                               formula=formula):
                pass
    with tracker.track("process_batch_calculations", interface="mcp", client="carol"):
        pass
    tracker.flush()

    async def page(_: Request):
        return HTMLResponse(render_dashboard("/v1/usage/dashboard.json", refresh_seconds=0.3))

    async def data(request: Request):
        q = request.query_params
        return JSONResponse(dashboard_data(db, period=q.get("period"), client=q.get("client")))

    app = Starlette(routes=[Route("/", page), Route("/v1/usage/dashboard.json", data)])
    try:
        with serve(app) as base, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path, headless=True,
                                         args=["--no-sandbox"])
            tab = browser.new_page()
            tab.set_default_timeout(20_000)
            expect.set_options(timeout=20_000)  # the machine is shared: be patient, not flaky
            requests, errors = [], []
            tab.on("request", lambda r: requests.append(r.url))
            tab.on("pageerror", lambda e: errors.append(str(e)))
            tab.on("console", lambda m: m.type == "error" and errors.append(m.text))
            tab.goto(base + "/")
            expect(tab.locator("#kpi-calls")).to_have_text("11")
            expect(tab.locator("#kpi-clients")).to_have_text("3")
            bars = tab.locator("#chart-formulas rect.bar")
            expect(bars).to_have_count(2)
            assert [(b.get_attribute("data-label"), b.get_attribute("data-value"))
                    for b in bars.all()] == [("PER", "7"), ("TS_PCT", "3")]
            expect(tab.locator("#chart-latency rect.bar")).to_have_count(6)  # 2 tools x 3
            assert tab.locator("#chart-volume polyline.series").count() == 2
            assert tab.locator("#client option").all_inner_texts() == [
                "all clients", "alice", "bob", "carol"]

            tab.select_option("#client", "bob")
            expect(tab.locator("#kpi-calls")).to_have_text("4")
            expect(tab.locator("#chart-formulas rect.bar")).to_have_count(2)
            # the count is 4 for day and week alike: wait for the week's request itself
            with tab.expect_request(lambda r: "period=week" in r.url):
                tab.select_option("#period", "week")
            expect(tab.locator("#kpi-calls")).to_have_text("4")
            last = parse_qs(urlparse([u for u in requests if "dashboard.json" in u][-1]).query)
            assert last == {"period": ["week"], "client": ["bob"]}

            # Live: new calls reach the page through the tracker and the next poll.
            for _ in range(5):
                with tracker.track("calculate_formula_realtime", client="bob", formula="USG_PCT"):
                    pass
            expect(tab.locator("#kpi-calls")).to_have_text("9", timeout=5000)
            expect(tab.locator("#chart-formulas rect.bar").first).to_have_attribute(
                "data-label", "USG_PCT")
            assert errors == []
            assert all(urlparse(u).hostname == "127.0.0.1" for u in requests)
            browser.close()
    finally:
        tracker.close()
