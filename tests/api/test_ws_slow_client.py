"""A client that stops reading is coalesced, then closed; the others never wait for it."""

from __future__ import annotations

import asyncio
import re
import time

import httpx
from tests.api.rawclient import StalledClient
from tests.api.wsclient import recv, send, update
from websockets.asyncio.client import connect

from courtside.api.ws.queue import CLOSE_SLOW_CONSUMER
from courtside.api.ws.session import SessionSettings

TOPIC = "game:0022000001"
PLAYERS = 20
UPDATES = 3000


async def test_stalled_client_is_coalesced_and_closed_while_others_get_everything(
        make_server) -> None:  # type: ignore[no-untyped-def]
    server = make_server(ws=SessionSettings(soft_limit=50, hard_limit=100_000,
                                            max_behind_seconds=1.0, heartbeat_seconds=60))
    bus = server.service.bus
    # ~4 KB per message, 12 MB in all: more than the kernel buffers (4 MB send buffer at
    # most on Linux) can hide, so the stalled client's own queue really fills up.
    padding = {"PAD": "x" * 4000}

    async def publish_all() -> None:
        # Paced over about 2.5 s so that the stalled client stays behind past its limit.
        for i in range(UPDATES):
            await bus.publish(TOPIC, update("0022000001", "player", str(i % PLAYERS),
                                            PTS=i, **padding))
            if i % 30 == 29:
                await asyncio.sleep(0.025)

    slow = StalledClient(server.ws_url)
    slow.send(type="subscribe", topic=TOPIC)
    assert slow.read_one()["type"] == "snapshot"
    # `slow` reads nothing from here on.
    try:
        async with connect(server.ws_url) as fast:
            await send(fast, type="subscribe", topic=TOPIC)
            assert (await recv(fast))["type"] == "snapshot"
            started = time.monotonic()
            publishing = asyncio.create_task(server.acall(publish_all(), timeout=60))
            seqs = []
            while len(seqs) < UPDATES:
                message = await recv(fast, timeout=10)
                seqs.append(message["seq"])
                assert "coalesced_from" not in message
            fast_done = time.monotonic() - started
            await publishing
        assert seqs == list(range(1, UPDATES + 1))  # every update, in order, no gap

        # Now the stalled client reads what reached it: coalesced updates, then a 4408 close.
        close = await asyncio.to_thread(slow.read_until_closed)
    finally:
        slow.shutdown()
    received = slow.messages[1:]
    code, reason = (close.code, close.reason) if close else (None, "")
    assert code == CLOSE_SLOW_CONSUMER, (code, reason)
    assert "slow consumer" in reason
    assert len(received) < UPDATES  # it never got everything
    # whatever it got is in seq order, and gaps are explained by coalesced_from
    got = [m["seq"] for m in received if m["type"] == "update"]
    assert got == sorted(got)
    merged = [m for m in received if m.get("coalesced_from")]
    for m in merged:
        assert m["coalesced_from"][-1] == m["seq"]
    # The fast client was not held back: it finished while publishing was still paced.
    assert fast_done < 15

    async with httpx.AsyncClient(base_url=server.url) as http:
        text = (await http.get("/metrics")).text
    dropped = {m.group(1): float(m.group(2)) for m in re.finditer(
        r'courtside_messages_dropped_total\{reason="(\w+)"\} ([0-9.e+]+)', text)}
    assert dropped.get("closed_slow", 0) > 0 or dropped.get("coalesced", 0) > 0
