"""The WebSocket message size limit counts UTF-8 bytes, not characters (real uvicorn)."""

from __future__ import annotations

import json

from tests.api.wsclient import recv
from websockets.asyncio.client import connect


async def test_message_limit_counts_bytes(server) -> None:
    padding = "é" * 9000  # 9,000 characters, 18,000 bytes
    message = json.dumps({"type": "ping", "pad": padding}, ensure_ascii=False)
    assert len(message) < 16_384 < len(message.encode())
    async with connect(server.ws_url) as ws:
        await ws.send(message)
        reply = await recv(ws)
        assert (reply["type"], reply["code"]) == ("error", "message_too_large")
        await ws.send(json.dumps({"type": "ping", "pad": "é" * 8000}, ensure_ascii=False))
        assert (await recv(ws))["type"] == "pong"  # 16,000 bytes: within the limit
