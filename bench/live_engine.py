"""The live engine replaying a real game: events per second, formula evaluations, updates.

The recorded GSW at BKN game (610 play-by-play actions) goes through ``LiveEngine.apply_action``
with every live formula of the catalog, publishing on an in-process bus. Baselines in the
same run:

- the box score alone (``BoxScoreBuilder.apply`` + ``snapshot``, no formulas): the floor;
- all formulas: every formula of every entity whose box score line changed recomputed, what
  an engine without per-formula input tracking would do (the same updates are published).

    python bench/live_engine.py [--repeat 3] [--game 0022000001]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from pathlib import Path

from courtside.formulas.catalog import default_catalog
from courtside.live.bus import MemoryBus
from courtside.live.engine import LiveEngine
from courtside.live.formulaset import live_formulas
from courtside.live.league import load_league_context
from courtside.sources.playbyplay import builder_for

SHARED = Path(os.environ.get("COURTSIDE_SHARED_DATA",
                             Path(__file__).resolve().parents[1].parent / "shared" / "data"))


def _docs(game: str) -> tuple[dict, dict]:
    folder = SHARED / "nba-live" / ("" if game == "0022000001" else "2024-25")
    return (json.loads((folder / f"playbyplay_{game}.json").read_text()),
            json.loads((folder / f"boxscore_{game}.json").read_text()))


def _builder_only(pbp: dict, box: dict) -> float:
    builder, actions = builder_for(pbp, box)
    t0 = time.perf_counter()
    for action in actions:
        builder.apply(action)
        builder.snapshot()
    return time.perf_counter() - t0


async def _engine(pbp: dict, box: dict, *, full: bool) -> dict[str, float]:
    league = load_league_context()
    formulas = live_formulas(default_catalog(), provided=league)
    engine = LiveEngine(MemoryBus(history=10), formulas, league)
    game_id, actions = engine.open_playbyplay(pbp, box)
    if full:  # no input tracking: a change to an entity recomputes all its formulas
        await engine.apply_action(game_id, actions[0])
        engine.games[game_id].track_inputs = False
        actions = actions[1:]
    t0 = time.perf_counter()
    for action in actions:
        await engine.apply_action(game_id, action)
    elapsed = time.perf_counter() - t0
    evaluations = engine.games[game_id].recomputations
    return {"seconds": elapsed, "actions": len(actions), "evaluations": evaluations,
            "updates": engine.updates_published}


async def main(repeat: int, game: str) -> None:
    pbp, box = _docs(game)
    base = min(_builder_only(pbp, box) for _ in range(repeat))
    inc = min([await _engine(pbp, box, full=False) for _ in range(repeat)],
              key=lambda r: r["seconds"])
    full = min([await _engine(pbp, box, full=True) for _ in range(repeat)],
               key=lambda r: r["seconds"])
    n = inc["actions"]
    formulas = live_formulas(default_catalog(), provided=load_league_context())
    print(f"game {game}: {n} actions, {sum(f.publish for f in formulas)} live formulas "
          f"(+{sum(not f.publish for f in formulas)} steps), best of {repeat}")
    print(f"{'case':<44}{'total ms':>10}{'us/action':>11}{'evaluations':>13}{'x builder':>11}")
    rows = [("box score only (builder + snapshot)", base, None),
            ("engine, incremental (only changed inputs)", inc["seconds"], inc["evaluations"]),
            ("engine, all formulas of changed entities", full["seconds"], full["evaluations"])]
    for name, seconds, evals in rows:
        print(f"{name:<44}{seconds * 1000:>10.1f}{seconds / n * 1e6:>11.0f}"
              f"{evals if evals is not None else '-':>13}{seconds / base:>10.1f}x")
    print(f"incremental: {n / inc['seconds']:,.0f} actions/s, "
          f"{inc['updates'] / inc['seconds']:,.0f} entity updates/s published; "
          f"{full['evaluations'] / inc['evaluations']:.1f}x fewer evaluations and "
          f"{full['seconds'] / inc['seconds']:.1f}x faster than recomputing all formulas")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--game", default="0022000001")
    args = parser.parse_args()
    asyncio.run(main(args.repeat, args.game))
