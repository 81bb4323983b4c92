"""Live sync benchmark: 15 concurrent live games from the fake NBA server, synced every second.

Measures, in this process only (the fake server runs in its own process):
- CPU share of one core used by the sync scheduler (fetching 1 scoreboard + 15 boxscores a
  second over HTTP, validating, detecting changes, emitting);
- latency from a change on the server (the moment the fake reveals an action) to its
  emission by the scheduler, and the part of it courtside adds after the response arrived.

Baseline, measured in the same run against the same server: a bare polling loop that GETs the
same 16 documents every second with httpx and json-decodes them, nothing else.

Run: python bench/live_sync.py [--games 15] [--seconds 15] [--speed 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from courtside.sources.nba_live import BOXSCORE_PATH, SCOREBOARD_PATH  # noqa: E402
from courtside.sources.scheduler import SyncScheduler, new_sync  # noqa: E402

SHARED = Path(os.environ.get("COURTSIDE_SHARED_DATA", ROOT.parent / "shared" / "data"))


def start_fake(games: int, speed: float, start: float) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = SHARED if (SHARED / "nba-live").is_dir() else Path("/work/shared/data")
    proc = subprocess.Popen(
        [sys.executable, "-m", "courtside", "fake-nba", "--port", str(port), "--games",
         str(data / "nba-live"), "--count", str(games), "--speed", "0", "--start", str(start)],
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")}, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(f"{url}/_clock", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    else:
        raise RuntimeError("fake-nba did not start")
    return proc, url


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


async def baseline(url: str, game_ids: list[str], seconds: float) -> dict[str, float]:
    """Bare polling: GET + json-decode the same documents every second."""
    paths = [SCOREBOARD_PATH] + [BOXSCORE_PATH.format(game_id=g) for g in game_ids]
    async with httpx.AsyncClient(base_url=url) as client:
        cpu0, wall0 = time.process_time(), time.perf_counter()
        polls = 0
        while time.perf_counter() - wall0 < seconds:
            tick = time.perf_counter()
            responses = await asyncio.gather(*(client.get(p) for p in paths))
            for r in responses:
                r.json()
            polls += 1
            await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - tick)))
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {"cpu_share": cpu / wall, "polls": polls}


async def scheduled(url: str, seconds: float) -> dict[str, object]:
    clock = httpx.get(f"{url}/_clock").json()
    firsts = {g: datetime.fromisoformat(v["first_time"])
              for g, v in httpx.get(f"{url}/_games").json().items()}
    end_to_end: list[float] = []
    added: list[float] = []
    processing: list[float] = []
    emitted = {"snapshots": 0, "lines": 0}

    def sink(update) -> None:
        now_wall, now = time.time(), datetime.now().astimezone()
        arrived = [s.fetched_at for s in update.snapshots if s.fetched_at and not s.stale]
        if arrived:
            processing.append((now - max(arrived)).total_seconds())
        for snap in update.snapshots:
            emitted["snapshots"] += 1
            emitted["lines"] += len(snap.players) + len(snap.teams)
            if snap.stale or snap.data_time is None or snap.fetched_at is None:
                continue
            added.append((now - snap.fetched_at).total_seconds())
            offset = (snap.data_time - firsts[snap.game_id]).total_seconds()
            revealed = clock["started_wall"] + (offset - clock["elapsed0"]
                                                + clock["pregame"]) / clock["speed"]
            end_to_end.append(now_wall - revealed)

    sync = new_sync("bench", "nba_api", "second", {"base_url": url, "timeout_seconds": 5})
    async with SyncScheduler(sink=sink) as sched:
        await sched.run_once(sync)  # warm: connections, first full snapshots
        emitted.update(snapshots=0, lines=0)
        end_to_end.clear()
        added.clear()
        processing.clear()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await sched.start_sync(sync)
        await asyncio.sleep(seconds)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        health = sched.health("bench")
    return {"cpu_share": cpu / wall, "end_to_end": end_to_end, "added": added,
            "processing": processing,
            "health": health.state.value, **emitted}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=15)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--speed", type=float, default=10.0,
                        help="game seconds per real second on the fake server")
    args = parser.parse_args()
    proc, url = start_fake(args.games, 0, 600)
    try:
        games = list(httpx.get(f"{url}/_games").json())
        httpx.post(f"{url}/_clock", json={"elapsed": 600, "speed": args.speed})
        base = asyncio.run(baseline(url, games, args.seconds))
        httpx.post(f"{url}/_clock", json={"elapsed": 600, "speed": args.speed})
        result = asyncio.run(scheduled(url, args.seconds))
        stats = httpx.get(f"{url}/_faults").json()
    finally:
        proc.terminate()
        proc.wait(10)
    e2e, added = result["end_to_end"], result["added"]
    print(f"{len(games)} live games, polled every second for {args.seconds:g} s, "
          f"game clock x{args.speed:g}; fake server requests {stats['requests']}, "
          f"304s {stats['not_modified']}")
    print(f"{'measure':58} {'value':>10} {'x baseline':>11}")
    print(f"{'CPU share of one core, bare httpx polling (baseline)':58} "
          f"{base['cpu_share']:>9.1%} {1.0:>11.2f}")
    print(f"{'CPU share of one core, SyncScheduler':58} {result['cpu_share']:>9.1%} "
          f"{result['cpu_share'] / base['cpu_share']:>11.2f}")
    print(f"{'snapshots emitted / player+team lines emitted':58} "
          f"{result['snapshots']:>5} / {result['lines']}")
    print(f"{'change on server -> emission, p50 / p95 / max (s)':58} "
          f"{statistics.median(e2e):.3f} / {pct(e2e, 0.95):.3f} / {max(e2e):.3f}")
    print(f"{'response -> emission, p50 / p95 (ms)':58} "
          f"{statistics.median(added) * 1000:.1f} / {pct(added, 0.95) * 1000:.1f}")
    proc_ms = [p * 1000 for p in result["processing"]]
    print(f"{'after the last response of the poll, p50 / p95 (ms)':58} "
          f"{statistics.median(proc_ms):.1f} / {pct(proc_ms, 0.95):.1f}")
    print(f"health at the end: {result['health']}")


if __name__ == "__main__":
    main()
