"""The FastAPI application: ``create_app(service)``.

The app is thin: every route calls one method of the service it is given. Its lifespan
starts the service and stops it (after closing every WebSocket) when the server shuts down.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.routing import Route

from courtside import __version__
from courtside.api import pages
from courtside.api.errors import install_error_handlers
from courtside.api.routes import calculate, formulas, games, jobs, sources, status, usage
from courtside.api.usage import UsageMiddleware
from courtside.api.ws import route as ws_route
from courtside.api.ws.hooks import ServiceHooks
from courtside.api.ws.hub import WebSocketHub
from courtside.api.ws.protocol import CLOSE_GOING_AWAY
from courtside.api.ws.session import SessionSettings

__all__ = ["create_app"]

MCP_PATH = "/mcp"

_DESCRIPTION = """Real-time NBA statistics: live box scores with advanced formulas.

Writes (formula definitions, syncs, batch jobs) need `Authorization: Bearer <token>` when the
server has a token. Live values and batch job progress (topic `jobs:<id>`) stream over the
WebSocket at `/v1/ws` (protocol: docs/websocket.md).
Errors are `{"error": {"code": ..., "message": ...}}`.
"""


def create_app(service: Any, *, token: str | None = None,
               ws_settings: SessionSettings | None = None,
               manage_service: bool = True, mcp: bool = True) -> FastAPI:
    """The HTTP/WebSocket app over ``service`` (a RealTimeCalculationService).

    Args:
        service: the service every route calls.
        token: the API token guarding writes and the WebSocket; None leaves them open
            (only safe on loopback: ``courtside serve`` refuses otherwise).
        ws_settings: per-connection WebSocket limits.
        manage_service: start the service with the app and stop it on shutdown (False when
            the caller owns the service's lifecycle).
        mcp: serve the MCP server over streamable HTTP at ``/mcp`` (token-guarded too).
    """
    mcp_http = _mcp_endpoint(service, token) if mcp else None

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if manage_service:
            await service.start()
        try:
            async with mcp_http.running() if mcp_http else contextlib.nullcontext():
                yield
        finally:
            for session in list(app.state.hub.sessions):
                await session.close(CLOSE_GOING_AWAY, "server shutting down")
            if manage_service:
                await service.stop()

    app = FastAPI(title="courtside", version=__version__, description=_DESCRIPTION,
                  docs_url="/docs", redoc_url=None, lifespan=lifespan)
    app.state.service = service
    app.state.token = token or None
    app.state.ws_settings = ws_settings or SessionSettings()
    app.state.hub = WebSocketHub()
    app.state.ws_hooks = ServiceHooks(service)
    install_error_handlers(app)
    app.add_middleware(UsageMiddleware, service=service)
    for module in (calculate, formulas, games, jobs, sources, status, usage, ws_route, pages):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=pages.STATIC_DIR), name="static")
    if mcp_http is not None:
        app.router.routes.append(Route(MCP_PATH, endpoint=mcp_http.app, include_in_schema=False))
    return app


def _mcp_endpoint(service: Any, token: str | None) -> Any:
    from courtside.mcp import create_mcp_server
    from courtside.mcp.http import MCPHttp

    return MCPHttp(create_mcp_server(service), token=token)
