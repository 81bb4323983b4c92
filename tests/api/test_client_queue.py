"""The per-client queue: order kept while short, coalescing when behind, overflow when stuck."""

from __future__ import annotations

import asyncio

import pytest

from courtside.api.ws.queue import ClientQueue, QueueOverflow


def _update(seq: int, pid: str, **values: float) -> dict:
    return {"type": "update", "topic": "game:1", "seq": seq,
            "entity": {"kind": "player", "id": pid}, "values": values}


def _drain(q: ClientQueue) -> list[dict]:
    out = []
    while (m := q.pop_nowait()) is not None:
        out.append(m)
    return out


def test_short_queue_keeps_every_update_in_order() -> None:
    q = ClientQueue(soft_limit=10, hard_limit=20)
    for seq in range(1, 8):
        q.put_update(_update(seq, "A", PTS=seq))
    sent = _drain(q)
    assert [m["seq"] for m in sent] == list(range(1, 8))
    assert all("coalesced_from" not in m for m in sent)
    assert q.coalesced == 0


def test_behind_client_gets_latest_value_per_entity_with_seqs_explained() -> None:
    q = ClientQueue(soft_limit=2, hard_limit=100)
    q.put_update(_update(1, "A", PTS=2, FGM=1))
    q.put_update(_update(2, "B", PTS=3))
    # The queue is at its soft limit now: A's next updates merge into its waiting one.
    q.put_update(_update(3, "A", PTS=4))
    q.put_update(_update(4, "A", TS_PCT=0.5))
    assert q.behind
    sent = _drain(q)
    assert [m["seq"] for m in sent] == [2, 4]          # seq still increases
    merged = sent[1]
    assert merged["entity"]["id"] == "A"
    assert merged["values"] == {"PTS": 4, "FGM": 1, "TS_PCT": 0.5}  # later values win
    assert merged["coalesced_from"] == [1, 3, 4]
    # Every seq 1..4 is either sent or listed as coalesced: the gap is explained.
    covered = {m["seq"] for m in sent} | set(merged["coalesced_from"])
    assert covered == {1, 2, 3, 4}
    assert q.coalesced == 2
    assert not q.behind


def test_control_messages_are_never_merged() -> None:
    q = ClientQueue(soft_limit=1, hard_limit=100)
    q.put({"type": "snapshot", "topic": "game:1", "seq": 0, "entities": []})
    q.put({"type": "pong"})
    q.put({"type": "pong"})
    assert [m["type"] for m in _drain(q)] == ["snapshot", "pong", "pong"]


def test_hard_limit_overflows_and_get_raises() -> None:
    q = ClientQueue(soft_limit=2, hard_limit=5)
    for i in range(10):  # ten distinct entities cannot be merged
        q.put_update(_update(i + 1, f"P{i}", PTS=1))
    assert q.overflow is not None and "more than 5" in q.overflow
    with pytest.raises(QueueOverflow):
        q.pop_nowait()


def test_hard_limit_bounds_messages_that_are_never_merged() -> None:
    # a client that sends pings (or follows a job's events) but never reads
    q = ClientQueue(soft_limit=2, hard_limit=5)
    for _ in range(50):
        q.put({"type": "pong"})
    assert q.overflow is not None and "more than 5" in q.overflow
    assert len(q) == 0
    with pytest.raises(QueueOverflow):
        q.pop_nowait()


def test_staying_behind_too_long_overflows() -> None:
    now = [0.0]
    q = ClientQueue(soft_limit=2, hard_limit=100, max_behind_seconds=5, clock=lambda: now[0])
    for seq in range(1, 4):
        q.put_update(_update(seq, "A", PTS=seq))
    assert q.behind and q.overflow is None
    now[0] = 6.0
    q.put_update(_update(4, "A", PTS=4))
    assert q.overflow is not None and "behind for more than 5" in q.overflow


async def test_get_waits_for_a_message() -> None:
    q = ClientQueue()
    waiter = asyncio.create_task(q.get())
    await asyncio.sleep(0.01)
    assert not waiter.done()
    q.put({"type": "pong"})
    assert (await asyncio.wait_for(waiter, 1))["type"] == "pong"
