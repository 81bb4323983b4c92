"""Subscriptions with ``on_message``: messages handed over as published, in order."""

from __future__ import annotations

from courtside.live.bus import MemoryBus


async def test_on_message_receives_every_message_synchronously_in_order() -> None:
    bus = MemoryBus()
    got: list[tuple[int, dict]] = []
    sub = bus.subscribe("game:1", on_message=lambda seq, payload: got.append((seq, payload)))
    buffered = bus.subscribe("game:1")
    for i in range(5):
        await bus.publish("game:1", {"n": i})
        assert got[-1] == (i + 1, {"n": i})  # before publish returned: no task hop
    assert sub.qsize() == 0 and buffered.qsize() == 5
    sub.close()
    await bus.publish("game:1", {"n": 5})
    assert len(got) == 5 and bus.subscriber_count("game:1") == 1
