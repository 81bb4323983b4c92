"""Small helpers around a real ``websockets`` client for the API tests."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection


async def recv(ws: ClientConnection, timeout: float = 5.0, *,
               skip: tuple[str, ...] = ("heartbeat",)) -> dict[str, Any]:
    """The next message that is not a heartbeat."""
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if message["type"] not in skip:
            return message


async def send(ws: ClientConnection, **message: Any) -> None:
    await ws.send(json.dumps(message))


def update(game_id: str, kind: str, ident: str, **values: Any) -> dict[str, Any]:
    """A bus payload shaped like the live engine's."""
    return {"entity": {"kind": kind, "id": ident, "game_id": game_id, "team_id": None,
                       "name": ident},
            "values": values, "data_time": None, "sent_at": "2026-01-01T00:00:00+00:00"}
