"""The API token: when one is configured, every write and the WebSocket require it.

Reads stay open (the live page, status and metrics are meant to be looked at). The token is
compared in constant time. Binding beyond loopback without a token is refused up front by
:func:`check_bind`, so a service reachable from the network is never unauthenticated.
"""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import HTTPException, Request, WebSocket

__all__ = ["check_bind", "is_loopback", "require_token", "token_ok", "websocket_token"]


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse to listen beyond loopback without a token; the message says how to fix it."""
    if not is_loopback(host) and not token:
        raise PermissionError(
            f"refusing to listen on {host}: that address is reachable from other machines and "
            "no API token is set. Pass --token SECRET (or set COURTSIDE_TOKEN), or bind to "
            "127.0.0.1.")


def token_ok(expected: str | None, given: str | None) -> bool:
    """True when no token is configured, or ``given`` matches it."""
    if not expected:
        return True
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


async def require_token(request: Request) -> None:
    """FastAPI dependency guarding writes: ``Authorization: Bearer <token>``."""
    expected = request.app.state.token
    if not token_ok(expected, _bearer(request.headers.get("authorization"))):
        raise HTTPException(
            status_code=401,
            detail="this endpoint needs the API token: send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"})


def websocket_token(ws: WebSocket) -> str | None:
    """The token a WebSocket client sent: the Authorization header or ``?token=``."""
    return _bearer(ws.headers.get("authorization")) or ws.query_params.get("token")
