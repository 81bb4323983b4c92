"""One usage event per REST call under ``/v1`` (DESIGN.md, "Usage analytics").

A pure ASGI middleware (no per-request task, unlike ``BaseHTTPMiddleware``) opens an
interface call around the request: the tool is the route template (``POST /v1/calculate``),
the client the ``X-Client-Id`` header or the remote address, the outcome the response status.
Service methods called inside (``calculate``) describe this call instead of recording another.
"""

from __future__ import annotations

from typing import Any

from courtside.api.errors import HTTP_CODES

__all__ = ["UsageMiddleware", "client_of"]


def client_of(scope: dict[str, Any]) -> str:
    """Who is calling: ``X-Client-Id`` (up to 100 characters) or the remote address."""
    for name, value in scope.get("headers") or ():
        if name == b"x-client-id":
            given = value.decode("latin-1").strip()[:100]
            if given:
                return given
    client = scope.get("client")
    return client[0] if client else "anonymous"


class UsageMiddleware:
    """Records every ``/v1`` HTTP request in the service's usage tracker."""

    def __init__(self, app: Any, service: Any) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        tracker = getattr(self.service, "usage", None)
        if scope["type"] != "http" or tracker is None or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        from courtside.usage.scope import interface_call

        status = 500

        async def send_status(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with interface_call(tracker, f"{scope['method']} {scope['path']}", interface="rest",
                            client=client_of(scope)) as call:
            await self.app(scope, receive, send_status)
            if call is not None:
                route = scope.get("route")
                if route is not None and getattr(route, "path", None):
                    call.tool = f"{scope['method']} {route.path}"  # the template, not the ids
                if status >= 400 and call.outcome is None:
                    call.fail(HTTP_CODES.get(status, "http_error"),
                              timeout=status == 504)
