"""``POST /v1/calculate`` requests per second, against a bare FastAPI endpoint, in one run.

Both apps are served by uvicorn in this process (one at a time, same settings); the load comes
from a separate process (httpx, ``--concurrency`` requests in flight) so that the client does
not share the server's GIL. Cases:

- baseline: a bare FastAPI endpoint that parses the same JSON body with a pydantic model and
  returns TS% computed by hand (no service, no task, no cache, no metrics);
- ``/v1/calculate`` with the same inputs every time (cache hit after the first call);
- ``/v1/calculate`` with different inputs every request (cache miss: compute and store).

    python bench/http_calculate.py [--requests 2000] [--concurrency 16] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class BareBody(BaseModel):
    """The baseline's request body: the same JSON the service takes."""

    formula: str
    inputs: dict[str, float | None]


def bare_app() -> Any:
    """The baseline: FastAPI, a pydantic body, TS% by hand."""
    from fastapi import FastAPI

    app = FastAPI()

    @app.post("/v1/calculate")
    async def calculate(body: BareBody) -> dict[str, Any]:
        v = body.inputs
        tsa = v["FGA"] + 0.44 * v["FTA"]
        return {"formula_id": body.formula, "status": "completed",
                "result": v["PTS"] / (2 * tsa) if tsa else None}

    return app


class Served:
    """uvicorn in a thread of this process."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = _free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(20)


def _load(port: int, requests: int, concurrency: int, vary: bool, out: Any) -> None:
    """Client process: fire ``requests`` POSTs with ``concurrency`` in flight."""
    import httpx

    async def main() -> tuple[float, list[float], int]:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits,
                                     timeout=30) as client:
            counter = iter(range(requests))
            latencies: list[float] = []
            errors = 0

            async def worker() -> None:
                nonlocal errors
                for i in counter:
                    pts = 20 + (i if vary else 0)
                    body = {"formula": "TS_PCT",
                            "inputs": {"PTS": pts, "FGA": 18, "FTA": 6}}
                    t = time.perf_counter()
                    r = await client.post("/v1/calculate", json=body)
                    latencies.append(time.perf_counter() - t)
                    if r.status_code != 200 or r.json()["result"] is None:
                        errors += 1

            # warm the connections up before timing
            await asyncio.gather(*(client.post("/v1/calculate", json={
                "formula": "TS_PCT", "inputs": {"PTS": 1, "FGA": 1, "FTA": 1}})
                for _ in range(concurrency)))
            start = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return time.perf_counter() - start, latencies, errors

    elapsed, latencies, errors = asyncio.run(main())
    out.put((elapsed, latencies, errors))


def measure(port: int, requests: int, concurrency: int, vary: bool) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=_load, args=(port, requests, concurrency, vary, out))
    proc.start()
    elapsed, latencies, errors = out.get(timeout=600)
    proc.join(30)
    latencies.sort()
    return {"rps": requests / elapsed, "p50": statistics.median(latencies) * 1000,
            "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000, "errors": errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from courtside.api.app import create_app
    from courtside.service import RealTimeCalculationService

    cases = [("baseline: bare FastAPI endpoint", "bare", False),
             ("/v1/calculate, same inputs (cache hit)", "courtside", False),
             ("/v1/calculate, new inputs (cache miss)", "courtside", True)]
    best: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        service = RealTimeCalculationService(data_dir=Path(tmp))
        with Served(bare_app()) as bare, Served(create_app(service)) as ours:
            ports = {"bare": bare.port, "courtside": ours.port}
            # Rounds alternate the cases so that a change in the machine's load hits them
            # alike; the best round of each case is kept.
            for _ in range(args.rounds):
                for name, target, vary in cases:
                    r = measure(ports[target], args.requests, args.concurrency, vary)
                    if name not in best or r["rps"] > best[name]["rps"]:
                        best[name] = r
    rows = [(name, best[name]) for name, _, _ in cases]
    base = rows[0][1]["rps"]
    print(f"{args.requests} requests per case, {args.concurrency} in flight, best of "
          f"{args.rounds} alternating rounds\n")
    print("| case | requests/s | p50 | p99 | x baseline | errors |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in rows:
        print(f"| {name} | {r['rps']:,.0f} | {r['p50']:.1f} ms | {r['p99']:.1f} ms | "
              f"{r['rps'] / base:.2f} | {r['errors']} |")


if __name__ == "__main__":
    main()
