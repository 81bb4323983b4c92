"""The /v1/ws protocol against a real uvicorn and a real websockets client (docs/websocket.md)."""

from __future__ import annotations

import asyncio

import pytest
from tests.api.wsclient import recv, send, update
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from courtside.api.ws.session import SessionSettings

TOPIC = "game:0022000001"


async def _publish(server, topic: str, payload: dict) -> int:  # type: ignore[no-untyped-def]
    return await server.acall(server.service.bus.publish(topic, payload))


async def test_subscribe_gives_snapshot_then_updates_one_seq_apart(server) -> None:  # type: ignore[no-untyped-def]
    await _publish(server, TOPIC, update("0022000001", "player", "1", PTS=2, FGA=1))
    await _publish(server, TOPIC, update("0022000001", "player", "2", PTS=3))
    await _publish(server, TOPIC, update("0022000001", "player", "1", PTS=4))
    async with connect(server.ws_url) as ws:
        await send(ws, type="subscribe", topic=TOPIC, id="s1")
        snap = await recv(ws)
        assert snap["type"] == "snapshot" and snap["topic"] == TOPIC and snap["id"] == "s1"
        assert snap["seq"] == 3
        values = {e["id"]: e["values"] for e in snap["entities"]}
        assert values == {"1": {"PTS": 4, "FGA": 1}, "2": {"PTS": 3}}  # merged, latest wins
        for i in range(5):
            await _publish(server, TOPIC, update("0022000001", "player", "2", PTS=10 + i))
        got = [await recv(ws) for _ in range(5)]
    assert [m["type"] for m in got] == ["update"] * 5
    assert [m["seq"] for m in got] == [4, 5, 6, 7, 8]
    assert [m["values"] for m in got] == [{"PTS": 10 + i} for i in range(5)]
    assert got[0]["entity"]["id"] == "2" and got[0]["data_time"] is None
    assert "sent_at" in got[0]


async def test_formulas_filter_keeps_only_named_values_and_seq_gap_free(server) -> None:  # type: ignore[no-untyped-def]
    await _publish(server, TOPIC, update("0022000001", "player", "1", PTS=2, TS_PCT=0.5))
    await _publish(server, TOPIC, update("0022000001", "game", "0022000001",
                                         GAME_STATUS=2, PERIOD=1, HOME_PTS=2))
    async with connect(server.ws_url) as ws:
        await send(ws, type="subscribe", topic=TOPIC, formulas=["TS_PCT"])
        snap = await recv(ws)
        assert snap["formulas"] == ["TS_PCT"]
        by_kind = {e["kind"]: e["values"] for e in snap["entities"]}
        assert by_kind["player"] == {"TS_PCT": 0.5}
        # the game entity's fields survive any filter
        assert by_kind["game"] == {"GAME_STATUS": 2, "PERIOD": 1, "HOME_PTS": 2}
        await _publish(server, TOPIC, update("0022000001", "player", "1", PTS=4))
        await _publish(server, TOPIC, update("0022000001", "player", "1", PTS=6, TS_PCT=0.6))
        first, second = await recv(ws), await recv(ws)
    assert (first["seq"], first["values"]) == (3, {})
    assert (second["seq"], second["values"]) == (4, {"TS_PCT": 0.6})


async def test_ping_unsubscribe_and_errors_keep_the_connection(server) -> None:  # type: ignore[no-untyped-def]
    async with connect(server.ws_url) as ws:
        await send(ws, type="ping", id=7)
        pong = await recv(ws)
        assert pong["type"] == "pong" and pong["id"] == 7

        bad = [
            ("{not json", "invalid_json"),
            ('["a"]', "invalid_message"),
            ('{"type": "shout"}', "unknown_type"),
            ('{"type": "subscribe", "topic": "court:1"}', "invalid_topic"),
            ('{"type": "subscribe", "topic": "game:1", "formulas": "PER"}', "invalid_formulas"),
            ('{"type": "subscribe", "topic": "game:1", "formulas": ["NOT_A_STAT"]}',
             "unknown_formula"),
            ('{"type": "resume", "topic": "game:1", "seq": -1}', "invalid_seq"),
            ('{"type": "unsubscribe", "topic": "game:1"}', "not_subscribed"),
        ]
        for text, code in bad:
            await ws.send(text)
            error = await recv(ws)
            assert error["type"] == "error", text
            assert error["code"] == code, (text, error)
            assert error["message"]

        await send(ws, type="subscribe", topic=TOPIC)
        assert (await recv(ws))["type"] == "snapshot"
        await send(ws, type="unsubscribe", topic=TOPIC, id="u")
        assert await recv(ws) == {"type": "unsubscribed", "topic": TOPIC, "id": "u"}
        await _publish(server, TOPIC, update("0022000001", "player", "1", PTS=1))
        await send(ws, type="ping")
        # nothing from the topic we left arrives before the pong
        assert (await recv(ws))["type"] == "pong"


async def test_resume_replays_exactly_what_was_missed(server) -> None:  # type: ignore[no-untyped-def]
    async with connect(server.ws_url) as ws:
        await send(ws, type="subscribe", topic=TOPIC)
        assert (await recv(ws))["seq"] == 0
        for i in range(5):
            await _publish(server, TOPIC, update("0022000001", "player", "1", PTS=i))
        last = [await recv(ws) for _ in range(5)][-1]["seq"]
    assert last == 5
    for i in range(5, 10):  # published while the client is away
        await _publish(server, TOPIC, update("0022000001", "player", str(i % 3), PTS=i))
    async with connect(server.ws_url) as ws:
        await send(ws, type="resume", topic=TOPIC, seq=last)
        resumed = await recv(ws)
        assert resumed == {"type": "resumed", "topic": TOPIC, "after": 5, "replayed": 5}
        replayed = [await recv(ws) for _ in range(5)]
        assert [m["seq"] for m in replayed] == [6, 7, 8, 9, 10]
        assert [m["values"]["PTS"] for m in replayed] == [5, 6, 7, 8, 9]
        await _publish(server, TOPIC, update("0022000001", "player", "1", PTS=99))
        live = await recv(ws)
    assert (live["seq"], live["values"]) == (11, {"PTS": 99})


async def test_resume_beyond_history_sends_a_fresh_snapshot(make_server) -> None:  # type: ignore[no-untyped-def]
    server = make_server(bus_history=5)
    for i in range(20):
        await _publish(server, TOPIC, update("0022000001", "player", "1", PTS=i))
    async with connect(server.ws_url) as ws:
        await send(ws, type="resume", topic=TOPIC, seq=2)
        snap = await recv(ws)
    assert snap["type"] == "snapshot" and snap["reason"] == "resume_gap"
    assert snap["seq"] == 20
    assert snap["entities"][0]["values"] == {"PTS": 19}


async def test_resume_ahead_of_the_server_sends_a_fresh_snapshot(server) -> None:  # type: ignore[no-untyped-def]
    # e.g. the server restarted: its seqs began again, the client remembers seq 412
    for i in range(3):
        await _publish(server, TOPIC, update("0022000001", "player", "1", PTS=i))
    async with connect(server.ws_url) as ws:
        await send(ws, type="resume", topic=TOPIC, seq=412)
        snap = await recv(ws)
        assert snap["type"] == "snapshot" and snap["reason"] == "resume_gap"
        assert snap["seq"] == 3
        await _publish(server, TOPIC, update("0022000001", "player", "1", PTS=99))
        live = await recv(ws)
    assert (live["seq"], live["values"]) == (4, {"PTS": 99})


async def test_heartbeats_carry_the_last_seq_per_topic(make_server) -> None:  # type: ignore[no-untyped-def]
    server = make_server(ws=SessionSettings(heartbeat_seconds=0.2))
    await _publish(server, TOPIC, update("0022000001", "player", "1", PTS=1))
    async with connect(server.ws_url) as ws:
        await send(ws, type="subscribe", topic=TOPIC)
        await recv(ws)
        beat = await recv(ws, timeout=3, skip=())
    assert beat["type"] == "heartbeat" and beat["seqs"] == {TOPIC: 1}


async def test_token_guards_the_websocket(make_server) -> None:  # type: ignore[no-untyped-def]
    server = make_server(token="s3cret")
    for url, headers in [(server.ws_url, None),
                         (server.ws_url + "?token=wrong", None),
                         (server.ws_url, {"Authorization": "Bearer wrong"})]:
        async with connect(url, additional_headers=headers) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
            assert closed.value.rcvd.code == 4401
            assert "token" in closed.value.rcvd.reason
    for url, headers in [(server.ws_url + "?token=s3cret", None),
                         (server.ws_url, {"Authorization": "Bearer s3cret"})]:
        async with connect(url, additional_headers=headers) as ws:
            await send(ws, type="ping")
            assert (await recv(ws))["type"] == "pong"


async def test_event_topics_carry_their_payloads_and_the_last_in_the_snapshot(server) -> None:  # type: ignore[no-untyped-def]
    await _publish(server, "jobs:abc", {"job_id": "abc", "status": "processing", "progress": 0.5})
    async with connect(server.ws_url) as ws:
        await send(ws, type="subscribe", topic="jobs:abc")
        snap = await recv(ws)
        assert snap["entities"] == [] and snap["seq"] == 1
        assert snap["last"] == {"job_id": "abc", "status": "processing", "progress": 0.5}
        await _publish(server, "jobs:abc", {"job_id": "abc", "status": "completed",
                                            "progress": 1.0})
        event = await recv(ws)
    assert event == {"type": "event", "topic": "jobs:abc", "seq": 2, "job_id": "abc",
                     "status": "completed", "progress": 1.0}
