"""The ``/v1/ws`` endpoint: authenticate, then hand the connection to a session."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from courtside.api.auth import token_ok, websocket_token
from courtside.api.usage import client_of
from courtside.api.ws.protocol import CLOSE_UNAUTHORIZED
from courtside.api.ws.session import WebSocketSession

__all__ = ["router"]

router = APIRouter()


@router.websocket("/v1/ws")
async def websocket_endpoint(ws: WebSocket) -> None:
    """Live values over WebSocket; the protocol is in docs/websocket.md."""
    app = ws.app
    await ws.accept()
    if not token_ok(app.state.token, websocket_token(ws)):
        # Accept first so that the client sees the close code and reason, not a bare 403.
        await ws.close(code=CLOSE_UNAUTHORIZED,
                       reason="API token required: 'Authorization: Bearer <token>' or ?token=")
        return
    hooks = app.state.ws_hooks
    session = WebSocketSession(ws, app.state.service.bus, app.state.ws_settings,
                               check_names=hooks.check_names, on_drop=hooks.on_drop,
                               on_sent=hooks.on_sent, track=hooks.track,
                               client=client_of(ws.scope))
    hub = app.state.hub
    hub.add(session)
    hooks.connected(hub)
    try:
        await session.run()
    finally:
        hub.remove(session)
        hooks.connected(hub)
        await session.close()
