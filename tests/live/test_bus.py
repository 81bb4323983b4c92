"""The bus contract on both backends: seq, bounded subscriptions, history, merged state."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from courtside.live.bus import HistoryGap, MemoryBus, topic_for, validate_topic
from courtside.model import ConfigError


def _update(pid: str, **values: float) -> dict:
    return {"entity": {"kind": "player", "id": pid, "game_id": "0022000001"},
            "values": values, "data_time": None, "sent_at": "t"}


async def test_seq_increases_by_one_per_topic_and_subscribers_see_order() -> None:
    bus = MemoryBus()
    sub = bus.subscribe("game:0022000001")
    other = bus.subscribe("player:1")
    seqs = [await bus.publish("game:0022000001", _update("1", PTS=float(i))) for i in range(5)]
    assert seqs == [1, 2, 3, 4, 5]
    assert await bus.publish("player:1", _update("1", PTS=1.0)) == 1  # its own sequence
    got = [sub.get_nowait() for _ in range(5)]
    assert [s for s, _ in got] == [1, 2, 3, 4, 5]
    assert [p["values"]["PTS"] for _, p in got] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert sub.get_nowait() is None
    assert other.qsize() == 1


async def test_subscription_is_bounded_drops_oldest_and_counts() -> None:
    bus = MemoryBus()
    sub = bus.subscribe("scoreboard", maxsize=3)
    for i in range(5):
        await bus.publish("scoreboard", {"n": i})
    assert sub.dropped == 2
    assert [sub.get_nowait()[0] for _ in range(3)] == [3, 4, 5]  # a gap the consumer can see


async def test_close_ends_iteration_and_unsubscribes() -> None:
    bus = MemoryBus()
    sub = bus.subscribe("alerts")
    received = []

    async def consume() -> None:
        async for seq, payload in sub:
            received.append((seq, payload))

    task = asyncio.create_task(consume())
    await bus.publish("alerts", {"a": 1})
    await asyncio.sleep(0)
    assert bus.subscriber_count("alerts") == 1
    sub.close()
    await asyncio.wait_for(task, 1)
    assert received == [(1, {"a": 1})]
    assert bus.subscriber_count() == 0
    await bus.publish("alerts", {"a": 2})  # nobody left to deliver to; no error
    assert received == [(1, {"a": 1})]


async def test_resume_from_history_and_gap_when_too_old() -> None:
    bus = MemoryBus(history=4)
    for i in range(10):
        await bus.publish("jobs:j1", {"progress": i})
    assert [s for s, _ in await bus.resume("jobs:j1", 7)] == [8, 9, 10]
    assert [s for s, _ in await bus.resume("jobs:j1", 6)] == [7, 8, 9, 10]
    assert await bus.resume("jobs:j1", 10) == []
    with pytest.raises(HistoryGap, match="history starts at seq 7"):
        await bus.resume("jobs:j1", 5)


async def test_resume_past_the_latest_seq_is_a_gap_not_silence() -> None:
    # A client of an earlier run (seqs began again at 1) must get a fresh snapshot: treating
    # its seq as current would drop every update up to it.
    bus = MemoryBus()
    for i in range(3):
        await bus.publish("game:1", {"progress": i})
    with pytest.raises(HistoryGap, match="only at seq 3"):
        await bus.resume("game:1", 412)
    with pytest.raises(HistoryGap, match="only at seq 0"):
        await bus.resume("game:2", 5)


async def test_latest_merges_entity_values_at_a_seq() -> None:
    bus = MemoryBus()
    await bus.publish("game:0022000001", _update("1", PTS=2.0, FGM=1.0))
    await bus.publish("game:0022000001", _update("2", PTS=3.0))
    await bus.publish("game:0022000001", _update("1", PTS=4.0))
    state = await bus.latest("game:0022000001")
    assert state.seq == 3
    by_id = {e["id"]: e["values"] for e in state.snapshot_entities()}
    assert by_id == {"1": {"PTS": 4.0, "FGM": 1.0}, "2": {"PTS": 3.0}}
    # a copy: changing it does not change the bus
    state.entities["player:1"]["values"]["PTS"] = -1.0
    assert (await bus.latest("game:0022000001")).entities["player:1"]["values"]["PTS"] == 4.0


def test_topics_are_validated_with_a_clear_message() -> None:
    assert topic_for("game", "0022000001") == "game:0022000001"
    assert validate_topic("scoreboard") == "scoreboard"
    for bad in ("games:1", "game:", "game:a b", "nonsense", "game:" + "9" * 65):
        with pytest.raises(ConfigError, match="topic"):
            validate_topic(bad)


@pytest.mark.redis
async def test_redis_bus_fans_out_between_two_instances(redis_url: str) -> None:
    from courtside.live.redisbus import RedisBus

    prefix = f"test-{uuid.uuid4().hex[:8]}"
    a, b = RedisBus(redis_url, prefix=prefix, history=5), RedisBus(redis_url, prefix=prefix,
                                                                    history=5)
    await a.start()
    await b.start()
    try:
        sub_a, sub_b = a.subscribe("game:0022000001"), b.subscribe("game:0022000001")
        seqs = []
        for i in range(4):
            publisher = a if i % 2 == 0 else b  # both instances publish on one topic
            seqs.append(await publisher.publish("game:0022000001",
                                                _update(str(i % 2), PTS=i + 0.1)))
        assert seqs == [1, 2, 3, 4]
        for sub in (sub_a, sub_b):
            got = [await sub.get(timeout=5) for _ in range(4)]
            assert [s for s, _ in got] == [1, 2, 3, 4]
            assert [p["values"]["PTS"] for _, p in got] == [0.1, 1.1, 2.1, 3.1]
        state = await b.latest("game:0022000001")
        assert state.seq == 4
        assert {e["id"]: e["values"]["PTS"] for e in state.snapshot_entities()} == \
            {"0": 2.1, "1": 3.1}
        assert state.entities["player:0"]["kind"] == "player"
        for _ in range(4):
            await a.publish("game:0022000001", _update("0", PTS=9.0))
        assert [s for s, _ in await b.resume("game:0022000001", 5)] == [6, 7, 8]
        with pytest.raises(HistoryGap):
            await b.resume("game:0022000001", 2)
    finally:
        await a.clear()
        await a.close()
        await b.close()
    assert a._reader is None and b._reader is None


@pytest.mark.redis
async def test_redis_bus_reader_skips_a_malformed_message(redis_url: str, caplog) -> None:
    from courtside.live.redisbus import RedisBus

    prefix = f"test-{uuid.uuid4().hex[:8]}"
    bus = RedisBus(redis_url, prefix=prefix)
    await bus.start()
    try:
        sub = bus.subscribe("game:0022000001")
        channel = f"{prefix}:chan:game:0022000001"
        for junk in ("no-seq-here", "7|{not json", "8|[1, 2]", "x|{}"):
            await bus._client().publish(channel, junk)  # another writer's bad message
        assert await bus.publish("game:0022000001", _update("1", PTS=2.0)) == 1
        got = await sub.get(timeout=5)
        assert got is not None and got[0] == 1 and got[1]["values"] == {"PTS": 2.0}
        assert "malformed" in caplog.text
    finally:
        await bus.clear()
        await bus.close()
