"""A real game replayed at full speed to 100 and to 1,000 WebSocket subscribers.

The service (``create_app`` over ``RealTimeCalculationService``) runs under uvicorn in this
process; the subscribers are real ``websockets`` clients in ``--workers`` other processes, all
subscribed to ``game:0022000001`` before the replay of its 610 actions starts at speed 0 (as
fast as the engine goes). Each client checks its seqs: every seq from its snapshot to the last
is either received or listed in a later message's ``coalesced_from``; anything else is a gap.

Baseline in the same run: the same clients against a bare ``websockets`` broadcast server that
sends the very same update payloads (captured from a replay without subscribers) at the very
same offsets in time: the transport alone, with no engine, no bus and no per-client queues.

Reported per case: updates published per second on the topic, messages delivered per second
over all clients, event-to-client latency p50/p99 (from the payload's ``sent_at``, stamped when
the engine publishes, to the client's receipt), coalesced messages, slow-consumer closes, gaps.

    python bench/ws_fanout.py [--subscribers 100,1000] [--workers 4] [--actions 610]
                              [--formulas TS_PCT,PER,...|all]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import socket
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

GAME = "0022000001"
TOPIC = f"game:{GAME}"
DATA = ROOT.parent / "shared" / "data" / "nba-live"
# The page's formulas and a few more; the whole catalog (ratings, Win Shares: huge inlined
# trees) costs the engine ~30x more per action, which would measure the engine, not fan-out.
LIVE = ["TS_PCT", "EFG_PCT", "USG_PCT", "GAME_SCORE", "PER", "AST_PCT", "TOV_PCT", "ORB_PCT",
        "DRB_PCT", "STL_PCT", "BLK_PCT", "PIE", "PTS_PER36"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------- clients


def _client_process(url: str, count: int, final: Any, ready: Any, out: Any,
                    sample_every: int) -> None:
    """``count`` subscribers in one process; reports their figures on ``out``."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    async def one(index: int, results: list[dict[str, Any]]) -> None:
        stats = {"received": 0, "covered": 0, "coalesced": 0, "latencies": [],
                 "close": None, "first_seq": None, "last_seq": 0}
        try:
            async with connect(url, max_size=None, open_timeout=120, ping_interval=None,
                               close_timeout=1) as ws:
                await ws.send(json.dumps({"type": "subscribe", "topic": TOPIC}))
                snap = json.loads(await ws.recv())
                stats["first_seq"] = stats["last_seq"] = snap["seq"]
                ready.put(1)
                silent = 0.0
                while True:
                    target = final.value
                    if target and stats["last_seq"] >= target:
                        break
                    try:
                        raw = await asyncio.wait_for(ws.recv(), 1.0)
                    except TimeoutError:
                        silent += 1.0
                        if target and silent > 15:
                            break
                        continue
                    silent = 0.0
                    now = time.time()
                    message = json.loads(raw)
                    if message.get("type") != "update":
                        continue
                    stats["received"] += 1
                    merged = message.get("coalesced_from")
                    stats["covered"] += len(merged) if merged else 1
                    stats["coalesced"] += bool(merged)
                    stats["last_seq"] = message["seq"]
                    if index % sample_every == 0:
                        sent = datetime.fromisoformat(message["sent_at"]).timestamp()
                        stats["latencies"].append(now - sent)
        except ConnectionClosed as exc:
            stats["close"] = exc.rcvd.code if exc.rcvd else -1
        results.append(stats)

    async def main() -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        await asyncio.gather(*(one(i, results) for i in range(count)))
        return results

    out.put(asyncio.run(main()))


class Clients:
    """Subscribers spread over worker processes."""

    def __init__(self, url: str, total: int, workers: int) -> None:
        ctx = mp.get_context("spawn")
        self.final = ctx.Value("q", 0)
        self.ready = ctx.Queue()
        self.out = ctx.Queue()
        self.total = total
        sizes = [total // workers + (i < total % workers) for i in range(workers)]
        sample_every = max(1, total // 100)  # about 100 clients' latencies
        self.procs = [ctx.Process(target=_client_process,
                                  args=(url, n, self.final, self.ready, self.out,
                                        sample_every)) for n in sizes if n]

    def start(self, timeout: float = 300) -> None:
        for proc in self.procs:
            proc.start()
        for _ in range(self.total):
            self.ready.get(timeout=timeout)

    def finish(self, final_seq: int, timeout: float = 600) -> list[dict[str, Any]]:
        self.final.value = final_seq
        results: list[dict[str, Any]] = []
        for _ in self.procs:
            results += self.out.get(timeout=timeout)
        for proc in self.procs:
            proc.join(30)
        return results


# --------------------------------------------------------------------------- servers


class LoopThread:
    """An event loop in a thread, running a server coroutine."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coro: Any, timeout: float = 600) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


async def _start_uvicorn(app: Any, port: int) -> Any:
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False,
                                           ws_ping_interval=None, ws_max_queue=64))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    return server, task


def _now_iso() -> str:
    return datetime.now().astimezone().isoformat()


async def _bare_server(port: int, messages: list[tuple[float, dict[str, Any]]],
                       go: asyncio.Event, done: asyncio.Event) -> Any:
    """The baseline: websockets' own server and broadcast, same payloads, same pacing."""
    from websockets.asyncio.server import broadcast, serve

    clients: set[Any] = set()

    async def handler(ws: Any) -> None:
        await ws.recv()  # the subscribe message
        await ws.send(json.dumps({"type": "snapshot", "topic": TOPIC, "seq": 0,
                                  "entities": []}))
        clients.add(ws)
        try:
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    async def pump() -> None:
        await go.wait()
        loop = asyncio.get_running_loop()
        start = loop.time()
        for seq, (offset, payload) in enumerate(messages, start=1):
            delay = start + offset - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            text = json.dumps({"type": "update", "topic": TOPIC, "seq": seq,
                               **payload, "sent_at": _now_iso()}, separators=(",", ":"))
            broadcast(clients, text)
        done.set()

    server = await serve(handler, "127.0.0.1", port, max_size=None, ping_interval=None)
    pumping = asyncio.create_task(pump())
    return server, pumping


# --------------------------------------------------------------------------- cases


def _docs() -> tuple[dict[str, Any], dict[str, Any]]:
    return (json.loads((DATA / f"playbyplay_{GAME}.json").read_text()),
            json.loads((DATA / f"boxscore_{GAME}.json").read_text()))


def _truncated(pbp: dict[str, Any], actions: int) -> dict[str, Any]:
    game = dict(pbp["game"])
    game["actions"] = game["actions"][:actions]
    return {**pbp, "game": game}


async def _capture(pbp: dict[str, Any], box: dict[str, Any],
                   live: list[str] | None) -> tuple[list, float]:
    """The update payloads of one replay and their offsets in time (no subscribers)."""
    from courtside.service import RealTimeCalculationService

    with tempfile.TemporaryDirectory() as tmp:
        service = RealTimeCalculationService(data_dir=Path(tmp), live_formulas=live)
        await service.start()
        sub = service.bus.subscribe(TOPIC, maxsize=1_000_000)
        start = time.perf_counter()
        await service.start_replay(pbp, box, speed=0)
        elapsed = time.perf_counter() - start
        messages = []
        while (item := sub.get_nowait()) is not None:
            messages.append(item[1])
        await service.stop()
    # spread the messages evenly over the replay's duration, in order
    step = elapsed / max(1, len(messages))
    return [(i * step, m) for i, m in enumerate(messages)], elapsed


def _summary(name: str, results: list[dict[str, Any]], final_seq: int, first_seq: int,
             elapsed: float) -> dict[str, Any]:
    latencies = sorted(x for r in results for x in r["latencies"])
    delivered = sum(r["received"] for r in results)
    expected = final_seq - first_seq
    gaps = sum(max(0, expected - r["covered"]) for r in results if r["close"] is None)
    closed = sum(r["close"] is not None for r in results)

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * q))] * 1000 \
            if latencies else float("nan")

    return {"case": name, "clients": len(results), "updates": expected,
            "elapsed": elapsed, "published_per_s": expected / elapsed,
            "delivered_per_s": delivered / elapsed, "p50": pct(0.50), "p99": pct(0.99),
            "coalesced": sum(r["coalesced"] for r in results), "closed": closed,
            "gaps": gaps}


def run_service(n: int, workers: int, pbp: dict[str, Any], box: dict[str, Any],
                live: list[str] | None) -> dict:
    from courtside.api.app import create_app
    from courtside.service import RealTimeCalculationService

    port = _free_port()
    loop = LoopThread()
    with tempfile.TemporaryDirectory() as tmp:
        service = RealTimeCalculationService(data_dir=Path(tmp), live_formulas=live)
        server, serving = loop.call(_start_uvicorn(create_app(service), port))
        clients = Clients(f"ws://127.0.0.1:{port}/v1/ws", n, workers)
        clients.start()

        async def replay() -> tuple[float, int]:
            start = time.perf_counter()
            await service.start_replay(pbp, box, speed=0)
            return time.perf_counter() - start, (await service.bus.latest(TOPIC)).seq

        started = time.perf_counter()
        replay_time, final_seq = loop.call(replay())
        results = clients.finish(final_seq)
        elapsed = time.perf_counter() - started

        async def shutdown() -> None:
            server.should_exit = True
            await serving

        loop.call(shutdown())
    loop.stop()
    summary = _summary(f"courtside, {n} subscribers", results, final_seq, 0, elapsed)
    summary["replay_s"] = replay_time
    return summary


def run_bare(n: int, workers: int, messages: list) -> dict:
    port = _free_port()
    loop = LoopThread()
    go, done = loop.call(_events())
    server, pumping = loop.call(_bare_server(port, messages, go, done))
    clients = Clients(f"ws://127.0.0.1:{port}/", n, workers)
    clients.start()
    started = time.perf_counter()
    loop.loop.call_soon_threadsafe(go.set)
    loop.call(done.wait())
    results = clients.finish(len(messages))
    elapsed = time.perf_counter() - started

    async def shutdown() -> None:
        server.close()
        await server.wait_closed()
        await pumping

    loop.call(shutdown())
    loop.stop()
    return _summary(f"baseline: bare websockets broadcast, {n} subscribers", results,
                    len(messages), 0, elapsed)


async def _events() -> tuple[asyncio.Event, asyncio.Event]:
    return asyncio.Event(), asyncio.Event()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", default="100,1000")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--actions", type=int, default=610,
                        help="replay only the first N actions (610 = the whole game)")
    parser.add_argument("--formulas", default=",".join(LIVE),
                        help="formulas the engine keeps live ('all' for the whole catalog)")
    args = parser.parse_args()
    pbp, box = _docs()
    pbp = _truncated(pbp, args.actions)
    live = None if args.formulas == "all" else args.formulas.split(",")
    messages, capture_s = asyncio.run(_capture(pbp, box, live))
    print(f"live formulas: {'all' if live is None else len(live)}")
    print(f"game {GAME}: {args.actions} actions -> {len(messages)} updates on {TOPIC}; "
          f"replay without subscribers {capture_s:.1f} s "
          f"({len(messages) / capture_s:,.0f} updates/s)\n")
    rows = []
    for n in (int(x) for x in args.subscribers.split(",")):
        rows.append(run_bare(n, args.workers, messages))
        rows.append(run_service(n, args.workers, pbp, box, live))
    print("| case | updates/s published | messages/s delivered | p50 | p99 | coalesced | "
          "closed | gaps |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['case']} | {r['published_per_s']:,.0f} | {r['delivered_per_s']:,.0f} | "
              f"{r['p50']:.1f} ms | {r['p99']:.1f} ms | {r['coalesced']:,} | {r['closed']} | "
              f"{r['gaps']} |")
    for r in rows:
        if "replay_s" in r:
            print(f"{r['case']}: replay {r['replay_s']:.1f} s, whole run {r['elapsed']:.1f} s")


if __name__ == "__main__":
    main()
