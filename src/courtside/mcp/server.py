"""``create_mcp_server(service)``: courtside's MCP server, built fresh for one service."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.subscriptions import InMemorySubscriptionBus

from courtside import __version__
from courtside.mcp.calls import UsageMiddleware
from courtside.mcp.game_tools import register_game_tools
from courtside.mcp.resources import GameNotifier, register_game_resources
from courtside.mcp.service_tools import register_service_tools
from courtside.mcp.usage_tools import register_usage_tools

__all__ = ["create_mcp_server"]

INSTRUCTIONS = """courtside computes NBA statistics (TS%, PER, USG%, ratings, custom formulas)
live from game data and in batch over seasons.
- Live games: list_live_games, then get_game_boxscore or the resource
  courtside://games/{gameId} (subscribe to it for updates while the game is live).
- One value: calculate_formula_realtime with a player or team (id or name) and/or input_data.
- Formulas: list_formulas, describe_formula, define_formula.
- Seasons: process_batch_calculations returns a job id; get_batch_job(wait=true) follows it with
  progress; get_batch_results reads the rows.
- Usage analytics: analyze_usage_patterns, generate_usage_insights, generate_usage_report,
  optimize_usage_based_performance, setup_usage_alerts, create_usage_dashboard."""


def create_mcp_server(service: Any, *, name: str = "courtside",
                      notify_interval: float = 0.2) -> MCPServer:
    """An MCP server whose tools and resources call ``service`` (a RealTimeCalculationService).

    The server does not start the service: its owner does (``courtside mcp``, ``courtside
    serve``), or an agent calls ``start_realtime_service``. ``notify_interval`` is the shortest
    time between two update notifications of one game resource. The game notifier is kept as
    ``server.courtside_notifier``.
    """
    bus = InMemorySubscriptionBus()
    notifier = GameNotifier(service, bus, min_interval=notify_interval)
    server: MCPServer = MCPServer(
        name, title="courtside", version=__version__, instructions=INSTRUCTIONS,
        subscriptions=bus, log_level="WARNING",
        middleware=[UsageMiddleware(service, on_message=notifier.ensure_running)])
    register_service_tools(server, service)
    register_game_tools(server, service)
    register_usage_tools(server, service)
    register_game_resources(server, service)
    notifier.install_legacy_subscriptions(server)
    server.courtside_notifier = notifier  # type: ignore[attr-defined]
    return server
