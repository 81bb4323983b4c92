"""Game resource updates during a replay of the real GSW at BKN game, and usage analytics read
over MCP whose numbers are exactly the calls the test made."""

from __future__ import annotations

import asyncio
import json

import mcp_types as types
import pytest
from mcp import Client, MCPDeprecationWarning
from mcp_types import Implementation

from courtside.mcp import create_mcp_server
from mcp_server.conftest import GAME, data, error_text

URI = f"courtside://games/{GAME}"


def client(service, name: str = "test-agent", **options) -> Client:
    return Client(create_mcp_server(service, notify_interval=0.05),
                  client_info=Implementation(name=name, version="1"), **options)


async def read_game(c: Client) -> dict:
    return json.loads((await c.read_resource(URI)).contents[0].text)


def first_minutes(game_files, n: int) -> tuple[dict, dict, dict]:
    """The recorded game cut after ``n`` actions, then its 'game end' action: a shorter real
    replay (the whole game takes seconds on a busy machine). Also the n-th action."""
    pbp = json.loads(game_files[0].read_text())
    actions = pbp["game"]["actions"]
    pbp["game"]["actions"] = [*actions[:n], actions[-1]]
    assert actions[-1]["actionType"] == "game" and actions[-1]["subType"] == "end"
    return pbp, json.loads(game_files[1].read_text()), actions[n - 1]


async def test_listening_client_is_told_of_every_change_until_the_final(light_service,
                                                                       game_files) -> None:
    service = light_service
    pbp, box, last = first_minutes(game_files, 200)
    async with client(service) as c:
        async with c.listen(resource_subscriptions=[URI]) as sub:
            # paced (at most 10 ms between actions) so that the game is live for a while
            replay = service.start_replay(pbp, box, speed=1, max_gap=0.01)
            seen: list[dict] = []
            async with asyncio.timeout(120):
                async for event in sub:
                    assert event.uri == URI
                    seen.append((await read_game(c))["game"])
                    if seen[-1]["status"] == 3:
                        break
            assert await replay == 202  # the pre-game record and 201 actions
        versions = [g["version"] for g in seen]
        assert len(set(versions)) >= 3 and versions == sorted(versions)
        assert any(g["status"] == 2 for g in seen)  # updates came while the game was live
        # the score the NBA's feed shows after that action
        assert (seen[-1]["home_pts"], seen[-1]["away_pts"]) == (int(last["scoreHome"]),
                                                                int(last["scoreAway"]))
        box = await read_game(c)
        assert {e["kind"] for e in box["entities"]} == {"game", "team", "player"}
        with pytest.raises(Exception, match="not tracked"):
            await c.read_resource("courtside://games/0000000000")
        listing = json.loads((await c.read_resource("courtside://games")).contents[0].text)
        assert [g["game_id"] for g in listing] == [GAME]


async def test_resources_subscribe_of_earlier_protocol_versions(light_service,
                                                                game_files) -> None:
    service = light_service
    updates: list[str] = []

    async def on_message(message) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            updates.append(str(message.params.uri))

    pbp, box, _ = first_minutes(game_files, 60)
    pbp["game"]["actions"].pop()  # no game end: the game stays live
    async with client(service, mode="legacy", message_handler=on_message) as c:
        assert c.server_capabilities.resources.subscribe is True
        with pytest.warns(MCPDeprecationWarning):  # removed in 2026-07-28, still served
            await c.session.subscribe_resource(URI)
        assert await service.start_replay(pbp, box, speed=0) == 61
        async with asyncio.timeout(10):
            while len(updates) < 2:
                await asyncio.sleep(0.05)
        assert set(updates) == {URI}
        game = (await read_game(c))["game"]
        assert game["status"] == 2 and game["version"] >= 2


async def test_usage_report_numbers_are_the_calls_made(final_game) -> None:
    async with client(final_game, "report-agent") as c:
        for _ in range(3):  # computed once, then twice from the cache
            await c.call_tool("calculate_formula_realtime",
                              {"formula_id": "TS_PCT", "player": "Stephen Curry"})
        error_text(await c.call_tool("calculate_formula_realtime",
                                     {"formula_id": "TS_PCT", "player": "Nobody Atall"}))
        for _ in range(2):
            await c.call_tool("list_formulas", {})
        # a Python API call on the same service counts too, on its own interface
        await final_game.calculate("EFG_PCT", {"FGM": 1, "FG3M": 0, "FGA": 2})

        report = data(await c.call_tool("generate_usage_report", {"period": "hour"}))["content"]
        p = report["patterns"]
        assert p["totals"]["calls"] == 7 and p["totals"]["errors"] == 1
        assert p["totals"]["cache_hits"] == 2
        tools = {t["tool"]: t for t in p["top_tools"]}
        assert set(tools) == {"calculate_formula_realtime", "list_formulas", "calculate"}
        calc = tools["calculate_formula_realtime"]
        assert (calc["calls"], calc["errors"], calc["cache_hits"], calc["cache_lookups"]) == \
            (4, 1, 2, 3)
        assert tools["list_formulas"]["calls"] == 2 and tools["list_formulas"]["errors"] == 0
        assert {i["interface"]: i["calls"] for i in p["interfaces"]} == {"mcp": 6, "python": 1}
        assert {c_["client"]: c_["calls"] for c_ in p["top_clients"]} == {
            "report-agent": 6, "anonymous": 1}
        assert {f["formula"]: f["calls"] for f in p["top_formulas"]} == {"TS_PCT": 3,
                                                                          "EFG_PCT": 1}
        assert p["errors"]["by_code"] == [{"error_code": "not_found", "calls": 1}]

        # the report call itself is now one more event
        again = data(await c.call_tool("analyze_usage_patterns",
                                       {"period": "hour", "client": "report-agent"}))
        assert again["totals"]["calls"] == 7
        assert {t["tool"] for t in again["top_tools"]} >= {"generate_usage_report"}

        md = data(await c.call_tool("generate_usage_report", {"period": "hour",
                                                              "format": "markdown"}))
        assert "calculate_formula_realtime" in md["content"]
        html = data(await c.call_tool("generate_usage_report", {"period": "day",
                                                                "format": "html"}))
        assert html["content"].lstrip().lower().startswith("<!doctype html") \
            and "<svg" in html["content"]
        assert "format" in error_text(await c.call_tool("generate_usage_report",
                                                        {"format": "pdf"}))
        assert "period" in error_text(await c.call_tool("analyze_usage_patterns",
                                                        {"period": "fortnight"})).lower()


async def test_track_insights_optimise_alerts_and_dashboard(final_game) -> None:
    service = final_game
    alerts = service.bus.subscribe("alerts")
    async with client(service, "ops-agent") as c:
        tracked = data(await c.call_tool("track_usage_event", {
            "tool": "external_model", "duration_ms": 250.0, "formula": "PER",
            "outcome": "error", "error_code": "upstream_down"}))
        assert tracked["stored"] is True and tracked["event_id"] >= 1
        assert "interface" in error_text(await c.call_tool(
            "track_usage_event", {"tool": "x", "interface": "carrier-pigeon"}))
        for _ in range(4):
            await c.call_tool("calculate_formula_realtime", {"formula_id": "TS_PCT",
                                                             "player": "Curry"})
        pats = data(await c.call_tool("analyze_usage_patterns", {"period": "hour",
                                                                 "tool": "external_model"}))
        assert pats["totals"]["calls"] == 1 and pats["totals"]["p50_ms"] == 250.0
        assert pats["errors"]["by_code"] == [{"error_code": "upstream_down", "calls": 1}]

        insights = data(await c.call_tool("generate_usage_insights", {"period": "hour"}))
        unused = {i["subject"] for i in insights if i["kind"] == "unused_feature"}
        assert "tool:cancel_batch_job" in unused
        assert "tool:calculate_formula_realtime" not in unused
        assert all(i["evidence"] for i in insights)

        plan = data(await c.call_tool("optimize_usage_based_performance", {"period": "hour"}))
        assert plan["applied"] is None and plan["calls"] >= 6
        warm = [a for a in plan["actions"] if a["kind"] == "warm_cache"]
        applied = data(await c.call_tool("optimize_usage_based_performance",
                                         {"period": "hour", "apply": True}))
        if warm:
            assert all(r["ok"] for r in applied["applied"]["results"])
            assert applied["applied"]["after"]["cache_size"] >= \
                applied["applied"]["before"]["cache_size"]

        rule = {"name": "busy", "metric": "volume", "comparison": ">=", "threshold": 1,
                "window_seconds": 3600, "cooldown_seconds": 3600}
        setup = data(await c.call_tool("setup_usage_alerts", {"rules": [rule],
                                                              "interval_seconds": 1}))
        assert [r["name"] for r in setup["rules"]] == ["busy"]
        message = await alerts.get(timeout=20)
        assert message is not None and message[1]["rule_name"] == "busy"
        assert message[1]["value"] >= 6  # at least the calls made above were in the window
        assert "already" in error_text(await c.call_tool("setup_usage_alerts",
                                                         {"rules": [rule]}))
        assert "metric" in error_text(await c.call_tool("setup_usage_alerts", {
            "rules": [{**rule, "name": "odd", "metric": "happiness"}]}))
        listed = data(await c.call_tool("setup_usage_alerts", {"rules": [],
                                                               "remove": ["busy"]}))
        assert listed["rules"] == [] and listed["recent_alerts"][0]["rule_name"] == "busy"

        board = data(await c.call_tool("create_usage_dashboard", {"period": "hour",
                                                                  "client": "ops-agent"}))
        assert "ops-agent" in board["all_clients"]
        assert board["patterns"]["filters"] == {"client": "ops-agent"}
    alerts.close()
