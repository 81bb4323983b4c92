"""What recording one usage event per call costs each interface, measured in one run.

Each case runs the same calls with usage tracking on and off (the service's tracker detached),
in alternating rounds so that both sides see the same machine load, and prints the median time
per call and the ratio on/off:

- REST: ``POST /v1/calculate`` (explicit inputs, a cache hit) through the FastAPI app in
  process (``httpx.ASGITransport``: no sockets, so the middleware's share is not diluted);
- MCP: ``calculate_formula_realtime`` through ``mcp.Client`` connected in process;
- the scope alone: ``interface_call`` around an empty body, against ``nullcontext`` (what
  every interface adds per call, without the call's own noise);
- CLI: writing a command's event after it ran (stdlib sqlite3), against the SQLAlchemy path.

    python bench/usage_interfaces.py [--calls 400] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

BODY = {"formula": "TS_PCT", "inputs": {"PTS": 30, "FGA": 20, "FTA": 10}}


async def _timed(fn, calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        await fn()
    return (time.perf_counter() - started) / calls * 1e6  # microseconds per call


async def _paired(service, fn, calls: int, rounds: int) -> tuple[float, float]:
    tracker = service.usage
    on, off = [], []
    await _timed(fn, calls // 4)  # warm up both paths
    for _ in range(rounds):
        service.usage = tracker
        on.append(await _timed(fn, calls))
        service.usage = None
        off.append(await _timed(fn, calls))
    service.usage = tracker
    return statistics.median(on), statistics.median(off)


async def bench_rest(service, calls: int, rounds: int) -> tuple[float, float]:
    import httpx

    from courtside.api.app import create_app

    app = create_app(service, manage_service=False, mcp=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://bench") as http:
        async def call() -> None:
            r = await http.post("/v1/calculate", json=BODY)
            assert r.status_code == 200

        return await _paired(service, call, calls, rounds)


async def bench_mcp(service, calls: int, rounds: int) -> tuple[float, float]:
    from mcp import Client

    from courtside.mcp import create_mcp_server

    async with Client(create_mcp_server(service)) as client:
        async def call() -> None:
            result = await client.call_tool("calculate_formula_realtime",
                                            {"formula_id": "TS_PCT",
                                             "input_data": BODY["inputs"]})
            assert not result.is_error

        return await _paired(service, call, calls, rounds)


def bench_cli(folder: Path, calls: int) -> tuple[float, float]:
    from courtside.cli import tracking

    args = {"data_dir": folder}
    row_time = time.time()
    tracking._record("bench", args, row_time, 1.0, "ok", None)  # creates the tables
    fast = []
    for _ in range(calls):
        t0 = time.perf_counter()
        tracking._record("bench", args, row_time, 1.0, "ok", None)
        fast.append(time.perf_counter() - t0)
    from courtside.usage.events import make_event

    row = make_event(tool="bench", interface="cli").to_row()
    slow = []
    for _ in range(calls):
        t0 = time.perf_counter()
        tracking._sqlalchemy_insert(f"sqlite:///{folder / 'courtside.db'}", row)
        slow.append(time.perf_counter() - t0)
    return statistics.median(fast) * 1e3, statistics.median(slow) * 1e3


def bench_scope(tracker, calls: int) -> tuple[float, float]:
    from contextlib import nullcontext

    from courtside.usage.scope import interface_call

    def run(make) -> float:
        started = time.perf_counter()
        for _ in range(calls):
            with make():
                pass
        return (time.perf_counter() - started) / calls * 1e6

    tracked = lambda: interface_call(tracker, "bench", interface="mcp", client="c")  # noqa: E731
    on = statistics.median(run(tracked) for _ in range(5))
    off = statistics.median(run(nullcontext) for _ in range(5))
    return on, off


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from courtside.service import RealTimeCalculationService

    with tempfile.TemporaryDirectory() as tmp:
        service = RealTimeCalculationService(data_dir=Path(tmp), live_formulas=["TS_PCT"])
        await service.start()
        try:
            for name, bench in (("REST POST /v1/calculate", bench_rest),
                                ("MCP calculate_formula_realtime", bench_mcp)):
                on, off = await bench(service, args.calls, args.rounds)
                print(f"{name:34s} tracked {on:8.1f} us/call   untracked {off:8.1f} us/call"
                      f"   ratio {on / off:5.3f}")
            on, off = bench_scope(service.usage, args.calls * 50)
            print(f"{'interface_call scope alone':34s} tracked {on:8.2f} us/call   "
                  f"nullcontext {off:8.2f} us/call   difference {on - off:6.2f} us")
            print(f"{'events recorded':34s} {service.usage.stats.recorded}")
        finally:
            await service.stop()
        fast, slow = bench_cli(Path(tmp) / "cli", max(20, args.calls // 20))
        print(f"{'CLI event after a command':34s} stdlib sqlite3 {fast:6.2f} ms   "
              f"SQLAlchemy (+migrate) {slow:6.2f} ms   ratio {fast / slow:5.3f}")


if __name__ == "__main__":
    asyncio.run(main())
