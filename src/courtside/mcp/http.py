"""The MCP server over streamable HTTP, ready to mount in the FastAPI app at ``/mcp``.

When the service has an API token, every request must carry ``Authorization: Bearer <token>``
(checked in constant time; 401 otherwise). The SDK's DNS-rebinding protection (Host and Origin
must be loopback) stays on without a token; with one it is off, because the token already
keeps browsers on other sites out and a server bound beyond loopback must accept its own
address in Host.
"""

from __future__ import annotations

import contextlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings

__all__ = ["MCPHttp", "mcp_http_app"]

PATH = "/mcp"


class MCPHttp:
    """The ASGI endpoint of one MCP server and the lifespan its session manager needs.

    Mount ``app`` at :data:`PATH` (a route, so ``/mcp`` answers without a redirect) and run
    ``async with running():`` inside the host app's lifespan: a mounted app's own lifespan
    is not run by Starlette.
    """

    def __init__(self, server: MCPServer, *, token: str | None = None) -> None:
        security = None if not token else TransportSecuritySettings(
            enable_dns_rebinding_protection=False)
        inner = server.streamable_http_app(streamable_http_path=PATH,
                                           transport_security=security)
        self.server = server
        self.session_manager = server.session_manager
        self.app = _BearerGuard(inner, token)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run the session manager (and the MCP sessions it holds) for the host's lifetime."""
        async with self.session_manager.run():
            yield


def mcp_http_app(server: MCPServer, *, token: str | None = None) -> MCPHttp:
    """The streamable HTTP endpoint of ``server``, guarded by ``token`` when given."""
    return MCPHttp(server, token=token)


class _BearerGuard:
    """ASGI wrapper answering 401 unless the request carries the bearer token."""

    def __init__(self, app: Any, token: str | None) -> None:
        self.app = app
        self.token = token.encode() if token else None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.token is None or scope["type"] != "http" or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        body = json.dumps({"error": {"code": "unauthorized", "message":
                                     "the MCP endpoint needs the API token: send "
                                     "'Authorization: Bearer <token>'"}}).encode()
        await send({"type": "http.response.start", "status": 401,
                    "headers": [(b"content-type", b"application/json"),
                                (b"www-authenticate", b"Bearer"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    def _allowed(self, scope: Any) -> bool:
        for name, value in scope.get("headers") or ():
            if name == b"authorization":
                scheme, _, given = value.partition(b" ")
                return scheme.lower() == b"bearer" and hmac.compare_digest(
                    given.strip(), self.token or b"")
        return False
