"""The MCP interface: courtside's service as tools and game resources for AI agents.

``create_mcp_server(service)`` builds an ``MCPServer`` (mcp 2.x) over a
``RealTimeCalculationService``; ``courtside mcp`` serves it on stdio and ``courtside serve``
mounts its streamable HTTP app at ``/mcp``. Modules: ``server`` (the factory), ``calls``
(usage tracking and error translation around every call), ``service_tools``,
``game_tools``, ``usage_tools``, ``resources`` (``courtside://games/{gameId}`` and its update
notifications) and ``http`` (the token-guarded HTTP app).

The package shares its name with the SDK it builds on: inside it, ``import mcp`` is absolute
and always means the SDK.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_mcp_server", "mcp_http_app"]


def create_mcp_server(service: Any, **options: Any) -> Any:
    """The MCP server over ``service`` (see ``courtside.mcp.server.create_mcp_server``)."""
    from courtside.mcp.server import create_mcp_server as create

    return create(service, **options)


def mcp_http_app(server: Any, **options: Any) -> Any:
    """The streamable HTTP app of ``server`` (see ``courtside.mcp.http.mcp_http_app``)."""
    from courtside.mcp.http import mcp_http_app as make

    return make(server, **options)
