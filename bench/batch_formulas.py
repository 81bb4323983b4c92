"""Benchmark: courtside.compute vs the same six formulas hand-written in Polars and in pandas.

    python bench/batch_formulas.py               # 1M synthetic player-game rows
    python bench/batch_formulas.py --rows 5000000

Times (best of --repeat) in one run, on the same frame: ``courtside.compute`` of TS_PCT,
EFG_PCT, TOV_PCT, GAME_SCORE, FTA_RATE, FG3A_RATE; the same six written by hand in Polars
(null on zero division, like courtside) and in pandas; then a whole ``courtside compute``
process on Parquet against a process running a hand-written Polars script. Prints ratios.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from courtside.batch.compute import compute  # noqa: E402
from courtside.batch.sample import synthetic_player_games  # noqa: E402

FORMULAS = ["TS_PCT", "EFG_PCT", "TOV_PCT", "GAME_SCORE", "FTA_RATE", "FG3A_RATE"]
IDS = ["SEASON_ID", "GAME_ID", "GAME_DATE", "TEAM_ABBREVIATION", "PLAYER_ID", "PLAYER_NAME"]

HAND_POLARS = '''
def hand_polars(df):
    c = pl.col
    def div(a, b):
        return pl.when(b != 0).then(a / b)
    return df.lazy().select(
        *IDS,
        div(c("PTS"), 2 * (c("FGA") + 0.44 * c("FTA"))).alias("TS_PCT"),
        div(c("FGM") + 0.5 * c("FG3M"), c("FGA")).alias("EFG_PCT"),
        div(100 * c("TOV"), c("FGA") + 0.44 * c("FTA") + c("TOV")).alias("TOV_PCT"),
        (c("PTS") + 0.4 * c("FGM") - 0.7 * c("FGA") - 0.4 * (c("FTA") - c("FTM"))
         + 0.7 * c("OREB") + 0.3 * c("DREB") + c("STL") + 0.7 * c("AST") + 0.7 * c("BLK")
         - 0.4 * c("PF") - c("TOV")).alias("GAME_SCORE"),
        div(c("FTA"), c("FGA")).alias("FTA_RATE"),
        div(c("FG3A"), c("FGA")).alias("FG3A_RATE"),
    ).collect()
'''
exec(HAND_POLARS)  # the same text runs in the hand-written script process below


def hand_pandas(df: pd.DataFrame) -> pd.DataFrame:
    def div(a: pd.Series, b: pd.Series) -> pd.Series:
        return (a / b.where(b != 0)).astype("Float64")

    out = df[IDS].copy()
    out["TS_PCT"] = div(df["PTS"], 2 * (df["FGA"] + 0.44 * df["FTA"]))
    out["EFG_PCT"] = div(df["FGM"] + 0.5 * df["FG3M"], df["FGA"])
    out["TOV_PCT"] = div(100 * df["TOV"], df["FGA"] + 0.44 * df["FTA"] + df["TOV"])
    out["GAME_SCORE"] = (df["PTS"] + 0.4 * df["FGM"] - 0.7 * df["FGA"]
                         - 0.4 * (df["FTA"] - df["FTM"]) + 0.7 * df["OREB"] + 0.3 * df["DREB"]
                         + df["STL"] + 0.7 * df["AST"] + 0.7 * df["BLK"] - 0.4 * df["PF"]
                         - df["TOV"])
    out["FTA_RATE"] = div(df["FTA"], df["FGA"])
    out["FG3A_RATE"] = div(df["FG3A"], df["FGA"])
    return out


def interleaved(candidates: dict[str, Callable[[], object]], repeat: int
                ) -> dict[str, tuple[float, float]]:
    """Best wall and CPU seconds of each candidate, run round-robin so that load from other
    processes on a shared machine hits every candidate alike."""
    import resource

    def cpu_now() -> float:  # this process and its finished children (the CLI runs)
        own = time.process_time()
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own + kids.ru_utime + kids.ru_stime

    wall: dict[str, list[float]] = {name: [] for name in candidates}
    cpu: dict[str, list[float]] = {name: [] for name in candidates}
    names = list(candidates)
    for round_ in range(repeat):
        # Rotate the order: whoever runs right after another candidate pays for its
        # allocator state (freed pages are faulted in again), so everyone takes each turn.
        for name in names[round_ % len(names):] + names[:round_ % len(names)]:
            fn = candidates[name]
            start, start_cpu = time.perf_counter(), cpu_now()
            fn()
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(cpu_now() - start_cpu)
    return {name: (min(wall[name]), min(cpu[name])) for name in candidates}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--process-repeat", type=int, default=3)
    parser.add_argument("--no-process", action="store_true", help="skip the process timing")
    args = parser.parse_args()

    df = synthetic_player_games(args.rows, seed=1)
    pdf = df.to_pandas()
    print(f"{df.height:,} player-game rows, {len(FORMULAS)} formulas, "
          f"polars {pl.__version__}, pandas {pd.__version__}, {os.cpu_count()} cpus")

    ours = compute(df, FORMULAS)
    hand = hand_polars(df)  # noqa: F821 (defined by exec above)
    assert ours.columns == hand.columns
    for fid in FORMULAS:
        a, b = ours[fid].to_numpy(), hand[fid].to_numpy()
        assert np.allclose(a, b, rtol=1e-12, equal_nan=True), fid
    assert np.allclose(hand_pandas(pdf)["TS_PCT"].to_numpy(dtype=float, na_value=np.nan),
                       hand["TS_PCT"].to_numpy(), equal_nan=True)

    times = interleaved({
        "courtside.compute": lambda: compute(df, FORMULAS),
        "hand-written Polars": lambda: hand_polars(df),  # noqa: F821
    }, args.repeat)
    # pandas apart: its large allocations would slow whichever Polars run follows them.
    times |= interleaved({"hand-written pandas": lambda: hand_pandas(pdf)},
                         max(1, args.repeat // 2))
    ours_wall, ours_cpu = times["courtside.compute"]
    for name, (wall, cpu) in times.items():
        ratio = "" if name == "courtside.compute" else (
            f"   courtside/this: wall {ours_wall / wall:.2f}x, cpu {ours_cpu / cpu:.2f}x")
        print(f"in process  {name:20s} wall {wall * 1e3:8.1f} ms  cpu {cpu * 1e3:8.1f} ms{ratio}")
    if args.no_process:
        return

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "games.parquet"
        df.write_parquet(src)
        script = Path(tmp) / "hand.py"
        script.write_text("import sys\nimport polars as pl\n"
                          f"IDS = {IDS!r}\n" + textwrap.dedent(HAND_POLARS)
                          + "hand_polars(pl.read_parquet(sys.argv[1])).write_parquet(sys.argv[2])\n")
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        ours_cmd = [sys.executable, "-m", "courtside", "compute", str(src), "--formulas",
                    ",".join(FORMULAS), "--output", str(Path(tmp) / "ours.parquet")]
        hand_cmd = [sys.executable, str(script), str(src), str(Path(tmp) / "hand.parquet")]
        procs = interleaved({
            "ours": lambda: subprocess.run(ours_cmd, check=True, env=env, capture_output=True),
            "hand": lambda: subprocess.run(hand_cmd, check=True, env=env, capture_output=True),
        }, args.process_repeat)
        (t_cli, c_cli), (t_script, c_script) = procs["ours"], procs["hand"]
        same = pl.read_parquet(Path(tmp) / "ours.parquet").equals(
            pl.read_parquet(Path(tmp) / "hand.parquet"))
        print(f"process     courtside compute   wall {t_cli * 1e3:8.1f} ms  cpu {c_cli * 1e3:8.1f} ms")
        print(f"            hand Polars script  wall {t_script * 1e3:8.1f} ms  cpu "
              f"{c_script * 1e3:8.1f} ms   courtside/this: wall {t_cli / t_script:.2f}x, "
              f"cpu {c_cli / c_script:.2f}x   (same output: {same})")


if __name__ == "__main__":
    main()
