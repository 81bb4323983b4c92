"""Box score from play-by-play: the cost of one event, of a whole game, of a simulated game.

Baseline, measured in the same run: parsing the NBA's full liveData boxscore document once
(what a boxscore poller pays per fetch). Printed as ratios against it.

    python bench/bench_playbyplay.py [--repeat 5] [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from courtside.sources.livedata import parse_boxscore
from courtside.sources.playbyplay import builder_for, derive_boxscore
from courtside.sources.simulator import simulate_game

ROOT = Path(__file__).resolve().parents[1]


def best(fn, repeat: int) -> float:
    """The best of ``repeat`` timings of ``fn()``, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--data", type=Path, default=Path(os.environ.get(
        "COURTSIDE_SHARED_DATA", ROOT.parent / "shared" / "data")))
    args = parser.parse_args()
    folder = args.data / "nba-live" / "2024-25"
    pbp = json.loads((folder / "playbyplay_0022400740.json").read_text())
    box = json.loads((folder / "boxscore_0022400740.json").read_text())
    actions = len(pbp["game"]["actions"])

    baseline = best(lambda: parse_boxscore(box), args.repeat * 20)
    whole = best(lambda: derive_boxscore(pbp, box), args.repeat)

    def per_event(with_snapshot: bool) -> float:
        builder, ordered = builder_for(pbp, box)
        start = time.perf_counter()
        for action in ordered:
            builder.apply(action)
            if with_snapshot:
                builder.snapshot()
        return (time.perf_counter() - start) / len(ordered)

    apply_only = min(per_event(False) for _ in range(args.repeat))
    apply_snap = min(per_event(True) for _ in range(args.repeat))
    sims = [best(lambda s=s: simulate_game(s), 1) for s in range(args.repeat)]

    rows = [
        ("parse_boxscore, full liveData boxscore (baseline)", baseline),
        ("BoxScoreBuilder.apply, one event", apply_only),
        ("apply + snapshot(), one event", apply_snap),
        (f"derive_boxscore, whole OT game ({actions} events)", whole),
        ("simulate_game, one game (median)", statistics.median(sims)),
    ]
    print(f"{'measure':55s} {'time':>12s} {'x baseline':>11s}")
    for name, seconds in rows:
        print(f"{name:55s} {seconds * 1e6:10.1f}us {seconds / baseline:11.2f}")


if __name__ == "__main__":
    main()
