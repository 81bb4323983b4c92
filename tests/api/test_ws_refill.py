"""A seq gap whose refill from the Redis history fails: the client gets a fresh snapshot and
the topic keeps flowing (real uvicorn, real WebSocket client, the machine's Redis)."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from tests.api.wsclient import recv, send, update
from websockets.asyncio.client import connect

TOPIC = "game:0022000001"


@pytest.mark.redis
async def test_a_failing_refill_falls_back_to_a_snapshot_and_the_topic_flows(
        make_server, redis_url: str) -> None:
    from courtside.live.redisbus import RedisBus

    bus = RedisBus(redis_url, prefix=f"test-{uuid.uuid4().hex[:8]}")
    server = make_server(bus=bus)
    client = server.call(_redis(bus))
    try:
        async with connect(server.ws_url) as ws:
            await send(ws, type="subscribe", topic=TOPIC)
            assert (await recv(ws))["seq"] == 0
            await server.acall(bus.publish(TOPIC, update("0022000001", "player", "1", PTS=2)))
            assert (await recv(ws))["seq"] == 1

            # The history turns unreadable (a real Redis error on LRANGE), then a message
            # arrives past a gap: seq 3 after 1.
            hist, seq_key = bus._key(TOPIC, "hist"), bus._key(TOPIC, "seq")
            await server.acall(client.set(hist, "not a list"))
            await server.acall(client.set(seq_key, 3))
            body = json.dumps(update("0022000001", "player", "1", PTS=6))
            await server.acall(client.publish(bus._key(TOPIC, "chan"), f"3|{body}"))
            snapshot = await recv(ws)
            assert snapshot["type"] == "snapshot" and snapshot["reason"] == "resume_gap"
            assert snapshot["seq"] == 3

            await server.acall(client.delete(hist))
            await server.acall(bus.publish(TOPIC, update("0022000001", "player", "1", PTS=8)))
            after = await recv(ws)
            assert (after["type"], after["seq"], after["values"]) == ("update", 4, {"PTS": 8})
        # the session's tasks (refills included) are gone once the client has left
        for _ in range(100):
            names = server.call(_task_names())
            if not any(n.startswith("ws-") for n in names):
                break
            await asyncio.sleep(0.05)
        assert not any(n.startswith("ws-") for n in names), names
    finally:
        server.call(bus.clear())


async def _redis(bus):
    return bus._client()


async def _task_names() -> list[str]:
    return [t.get_name() for t in asyncio.all_tasks()]
