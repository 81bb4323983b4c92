"""A known set of usage events whose statistics the tests compute by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from courtside.usage.events import make_event

T0 = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)


def known_events() -> list[dict]:
    """16 events over 2026-01-01 00:00-04:00 UTC whose statistics the tests compute by hand.

    - alice, rest, calculate PER: 10 calls at 00:10..00:19 (one a minute), 10..100 ms,
      cache hit on every other call (5 of 10);
    - bob, mcp, calculate TS_PCT: 4 calls at 02:30..02:33, 5, 5, 5, 205 ms,
      outcomes ok, error (invalid_data), timeout, ok; no cache involved;
    - bob, cli, batch: 1000 items in 2000 ms at 03:00 and 3000 items in 1000 ms at 03:50.
    """
    ev = []
    for k in range(10):
        ev.append(make_event(client="alice", interface="rest", tool="calculate", formula="PER",
                             started_at=T0 + timedelta(minutes=10 + k), duration_ms=10 * (k + 1),
                             cache_hit=(k % 2 == 0)))
    for k, (dur, out, code) in enumerate([(5, "ok", None), (5, "error", "invalid_data"),
                                           (5, "timeout", "timeout"), (205, "ok", None)]):
        ev.append(make_event(client="bob", interface="mcp", tool="calculate", formula="TS_PCT",
                             started_at=T0 + timedelta(hours=2, minutes=30 + k), duration_ms=dur,
                             outcome=out, error_code=code, resource="game:0022000001"))
    ev.append(make_event(client="bob", interface="cli", tool="batch", items=1000,
                         started_at=T0 + timedelta(hours=3), duration_ms=2000))
    ev.append(make_event(client="bob", interface="cli", tool="batch", items=3000,
                         started_at=T0 + timedelta(hours=3, minutes=50), duration_ms=1000))
    return [e.to_row() for e in ev]
