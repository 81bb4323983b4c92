"""MCP tools for usage analytics: record, analyse, advise, optimise, report, alert, dashboard.

Every number these tools return is computed from the recorded usage events (each MCP, REST,
WebSocket, CLI and Python call is one), read after the tracker's buffer is flushed.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel, Field

from courtside.mcp.calls import tool_errors
from courtside.model import ConfigError
from courtside.usage import tools as usage_tools
from courtside.usage.alerts import alert_history
from courtside.usage.dashboard import dashboard_data

__all__ = ["register_usage_tools"]

Period = Annotated[str, Field(description="hour, day, week, month, year, all, or a span such "
                                          "as 15m, 6h, 7d (ending now).")]
Filter = Annotated[str | None, Field(description="Only events with this value.")]


class AlertRuleSpec(BaseModel):
    """One alert rule: fires when ``metric comparison threshold`` over the window."""

    name: str = Field(description="Unique rule name.")
    metric: Literal["error_rate", "timeout_rate", "p50_latency_ms", "p95_latency_ms",
                    "p99_latency_ms", "volume", "cache_hit_rate"] = Field(
        description="What is measured over the window (rates are fractions: 0.05 is 5%).")
    comparison: Literal[">", ">=", "<", "<="] = Field(description="How it is compared.")
    threshold: float = Field(description="The value compared against.")
    window_seconds: float = Field(300.0, gt=0, description="Sliding window length.")
    cooldown_seconds: float = Field(900.0, ge=0, description="Quiet time after firing.")
    min_events: int = Field(1, ge=0, description="Judge only windows with this many events.")
    filters: dict[str, str] = Field(default_factory=dict, description="Only events matching: "
                                    "client, interface, tool or formula.")
    webhook_url: str | None = Field(None, description="Also POST alerts of this rule here.")


def register_usage_tools(server: MCPServer, service: Any) -> None:
    """Add the usage analytics tools to ``server``: each calls its namesake in
    ``courtside.usage.tools`` on the service's usage database."""

    async def known() -> dict[str, list[str]]:
        return {"known_tools": sorted(t.name for t in await server.list_tools()),
                "known_formulas": [f.id for f in service.catalog]}

    async def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
        def run() -> Any:
            return fn(service.usage_database(), *args, **kwargs)

        return await asyncio.to_thread(run)

    @server.tool(description="Record one usage event now (for work done outside courtside "
                 "that should count in its usage analytics). It is written before this call "
                 "returns and survives a crash. Returns the event id.")
    async def track_usage_event(
        tool: Annotated[str, Field(description="The tool, command or endpoint called.")],
        duration_ms: Annotated[float, Field(ge=0, description="How long it took.")] = 0.0,
        outcome: Annotated[Literal["ok", "error", "timeout"], Field(
            description="How it ended.")] = "ok",
        interface: Annotated[Literal["mcp", "rest", "websocket", "cli", "python"], Field(
            description="Where the call came in.")] = "mcp",
        client: Annotated[str | None, Field(description="Who called.")] = None,
        formula: Annotated[str | None, Field(description="The formula computed, if any.")] = None,
        error_code: Annotated[str | None, Field(description="Error code when it failed.")] = None,
        cache_hit: Annotated[bool | None, Field(description="Whether a cache answered.")] = None,
        items: Annotated[int | None, Field(ge=0, description="Rows or values processed.")] = None,
    ) -> dict[str, Any]:
        with tool_errors():
            if service.usage is None:
                raise ConfigError("the service is not started; start it to record usage")
            return await asyncio.to_thread(
                usage_tools.track_usage_event, service.usage, tool=tool, interface=interface,
                client=client, formula=formula, duration_ms=duration_ms, outcome=outcome,
                error_code=error_code, cache_hit=cache_hit, items=items)

    @server.tool(description="Usage patterns over a period: call volume over time, top "
                 "formulas, tools and clients, latency p50/p95/p99, error rates, trend between "
                 "the period's halves, time-of-day profile. Optional filters narrow the events.")
    async def analyze_usage_patterns(period: Period = "day", client: Filter = None,
                                     interface: Filter = None, tool: Filter = None,
                                     formula: Filter = None) -> dict[str, Any]:
        with tool_errors():
            return await call(usage_tools.analyze_usage_patterns, period=period, client=client,
                              interface=interface, tool=tool, formula=formula)

    @server.tool(description="Findings computed from a period's usage, most severe first, each "
                 "with the numbers behind it: formulas with high error rates, slow tools, low "
                 "cache hit rates, spikes, trends, unused tools and formulas.")
    async def generate_usage_insights(period: Period = "day",
                                      client: Filter = None) -> list[dict[str, Any]]:
        with tool_errors():
            return await call(usage_tools.generate_usage_insights, period=period,
                              client=client, **await known())

    @server.tool(description="Optimisation actions derived from a period's usage: warm the "
                 "cache for the most used formulas, adjust the cache TTL, batch size and sync "
                 "intervals, each with its reason and evidence. With apply=true they are "
                 "applied and the effect is measured (before, after, delta).")
    async def optimize_usage_based_performance(
        period: Period = "hour",
        apply: Annotated[bool, Field(description="Apply the actions.")] = False,
    ) -> dict[str, Any]:
        with tool_errors():
            return await service.optimize_from_usage(period=period, apply=apply)

    @server.tool(description="A usage report for a period: totals, volume, top formulas, "
                 "tools and clients, latency percentiles, error rates, insights and "
                 "recommended actions. format json returns the data as an object; csv, "
                 "markdown and html (with charts) return the document as text in content.")
    async def generate_usage_report(
        period: Period = "day",
        format: Annotated[Literal["json", "csv", "markdown", "html"], Field(
            description="Report format.")] = "json",
        client: Filter = None,
    ) -> dict[str, Any]:
        with tool_errors():
            out = await call(usage_tools.generate_usage_report, period=period, client=client,
                             format=format, **await known())
            if out["format"] == "json":
                out["content"] = json.loads(out["content"])
            return out

    @server.tool(description="Add alert rules on usage metrics (and remove rules by name) and "
                 "evaluate them continuously (every interval_seconds) while the service runs; "
                 "alerts go to the rules' webhooks, the 'alerts' WebSocket topic and the log, "
                 "deduplicated by each rule's cooldown. Returns every stored rule and the "
                 "recent alerts.")
    async def setup_usage_alerts(
        rules: Annotated[list[AlertRuleSpec], Field(
            description="Rules to add; may be empty to list what is set up.")],
        remove: Annotated[list[str] | None, Field(
            description="Names of rules to delete.")] = None,
        interval_seconds: Annotated[float, Field(
            ge=1, le=3600, description="How often rules are evaluated.")] = 30.0,
    ) -> dict[str, Any]:
        with tool_errors():
            out = await call(usage_tools.setup_usage_alerts,
                             rules=[r.model_dump(exclude_none=True) for r in rules],
                             remove=remove or [])
            service.watch_usage_alerts(interval_seconds)
            history = await call(alert_history, limit=20)
            out["recent_alerts"] = [e.to_dict() for e in history]
            return out

    @server.tool(description="The data of the usage dashboard for a period (and optionally one "
                 "client): patterns (volume, top formulas, tools and clients, latencies, "
                 "errors), insights and the known clients.")
    async def create_usage_dashboard(period: Period = "day",
                                     client: Filter = None) -> dict[str, Any]:
        with tool_errors():
            return await call(dashboard_data, period=period, client=client, **await known())
