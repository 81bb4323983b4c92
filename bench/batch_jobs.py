"""Batch jobs against hand-written Polars, in one run.

Synthetic player-game rows (nba-stats names) in Parquet files; formulas TS_PCT, EFG_PCT,
TOV_PCT, GAME_SCORE, FTA_RATE, FG3A_RATE and PER (which needs team, opponent and league
totals). Measured: hand-written Polars over the same files (the baseline: one lazy query,
results sunk to Parquet), then a batch job with each executor (sequential, parallel, Dask
LocalCluster with 2 workers), each writing its chunk results to Parquet. Then the peak memory
of the sequential executor, in a fresh process, against the size of the input.

    python bench/batch_jobs.py                   # 400,000 rows, quick
    python bench/batch_jobs.py --rows 10000000   # the full run
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

# Run from a checkout without installing: the package lives in ../src.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

SIX = ["TS_PCT", "EFG_PCT", "TOV_PCT", "GAME_SCORE", "FTA_RATE", "FG3A_RATE"]
FORMULAS = [*SIX, "PER"]
STATS = ["MIN", "PTS", "FGM", "FGA", "FG3M", "FG3A", "FTM", "FTA", "OREB", "DREB", "REB",
         "AST", "STL", "BLK", "TOV", "PF"]


# --------------------------------------------------------------------------- data


def synthesize(rows: int, seed: int = 7) -> pl.DataFrame:
    """Player-game rows: 10 players a side, two sides a game, plausible box scores."""
    rng = np.random.default_rng(seed)
    n = rows - rows % 20
    game = np.arange(n) // 20
    team = game * 2 + (np.arange(n) // 10) % 2
    minutes = rng.integers(0, 44, n).astype(np.int64)
    fga = rng.poisson(minutes * 0.42)
    fgm = rng.binomial(fga, 0.47)
    fg3a = rng.binomial(fga, 0.39)
    fg3m = np.minimum(rng.binomial(fg3a, 0.36), fgm)
    fta = rng.poisson(minutes * 0.1)
    ftm = rng.binomial(fta, 0.78)
    oreb = rng.poisson(minutes * 0.03)
    dreb = rng.poisson(minutes * 0.12)
    return pl.DataFrame({
        "SEASON_ID": np.full(n, "22023"),
        "GAME_ID": game.astype(np.int64) + 22_300_000,
        "TEAM_ID": team.astype(np.int64) % 30 + 1_610_612_737,
        "PLAYER_ID": rng.integers(1, 5_000, n),
        "MIN": minutes, "PTS": 2 * fgm + fg3m + ftm, "FGM": fgm, "FGA": fga, "FG3M": fg3m,
        "FG3A": fg3a, "FTM": ftm, "FTA": fta, "OREB": oreb, "DREB": dreb, "REB": oreb + dreb,
        "AST": rng.poisson(minutes * 0.1), "STL": rng.poisson(minutes * 0.03),
        "BLK": rng.poisson(minutes * 0.02), "TOV": rng.poisson(minutes * 0.05),
        "PF": rng.poisson(minutes * 0.07),
    })


def write_files(rows: int, files: int, folder: Path) -> list[Path]:
    """``files`` Parquet files holding ``rows`` rows between them (whole games per file)."""
    frame = synthesize(rows)
    per_file = -(-frame.height // files)
    per_file += (-per_file) % 20
    paths = []
    for i in range(files):
        part = frame.slice(i * per_file, per_file)
        if part.height:
            path = folder / f"games-{i:03d}.parquet"
            part.write_parquet(path)
            paths.append(path)
    return paths


# --------------------------------------------------------------------------- baseline


def _div(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    return pl.when(b != 0).then(a / b)


def hand_written(files: list[Path], target: Path) -> None:
    """The seven formulas written by hand in one lazy Polars query, sunk to Parquet."""
    c = pl.col
    rows = pl.scan_parquet(files)
    team_stats = ["MIN", "FGA", "FGM", "FTA", "OREB", "DREB", "TOV", "AST"]
    teams = rows.group_by("GAME_ID", "TEAM_ID").agg(
        [c(s).sum().cast(pl.Float64).alias(f"TEAM_{s}") for s in team_stats])
    opp = teams.select("GAME_ID", c("TEAM_ID").alias("OPP_ID"),
                       *[c(f"TEAM_{s}").alias(f"OPP_{s}") for s in team_stats])
    teams = (teams.join(opp, on="GAME_ID").filter(c("TEAM_ID") != c("OPP_ID"))
             .with_columns(
                 (0.5 * ((c("TEAM_FGA") + 0.4 * c("TEAM_FTA") - 1.07 * (c("TEAM_OREB") / (
                     c("TEAM_OREB") + c("OPP_DREB"))) * (c("TEAM_FGA") - c("TEAM_FGM"))
                     + c("TEAM_TOV")) + (c("OPP_FGA") + 0.4 * c("OPP_FTA") - 1.07 * (
                         c("OPP_OREB") / (c("OPP_OREB") + c("TEAM_DREB"))) * (
                         c("OPP_FGA") - c("OPP_FGM")) + c("OPP_TOV")))).alias("TEAM_POSS"))
             .with_columns((48 * ((2 * c("TEAM_POSS")) / (2 * (c("TEAM_MIN") / 5))))
                           .alias("TEAM_PACE"))
             .select("GAME_ID", "TEAM_ID", "TEAM_AST", "TEAM_FGM", "TEAM_PACE"))
    lg_stats = ["MIN", "PTS", "FGA", "FGM", "FTA", "FTM", "OREB", "DREB", "REB", "TOV", "AST",
                "PF"]
    league = rows.select([c(s).sum().cast(pl.Float64).alias(f"LG_{s}") for s in lg_stats])
    league = league.with_columns(
        (48 * (c("LG_FGA") + 0.4 * c("LG_FTA") - 1.07 * (c("LG_OREB") / (c("LG_OREB")
         + c("LG_DREB"))) * (c("LG_FGA") - c("LG_FGM")) + c("LG_TOV")) / (c("LG_MIN") / 5)
         ).alias("LG_PACE"),
        ((2 / 3) - (0.5 * (c("LG_AST") / c("LG_FGM"))) / (2 * (c("LG_FGM") / c("LG_FTM")))
         ).alias("FACTOR"),
        (c("LG_PTS") / (c("LG_FGA") - c("LG_OREB") + c("LG_TOV") + 0.44 * c("LG_FTA"))
         ).alias("VOP"),
        ((c("LG_REB") - c("LG_OREB")) / c("LG_REB")).alias("DRBP"))
    tm = c("TEAM_AST") / c("TEAM_FGM")
    uper = _div(pl.lit(1.0), c("MIN")) * (
        c("FG3M") + (2 / 3) * c("AST") + (2 - c("FACTOR") * tm) * c("FGM")
        + c("FTM") * 0.5 * (1 + (1 - tm) + (2 / 3) * tm) - c("VOP") * c("TOV")
        - c("VOP") * c("DRBP") * (c("FGA") - c("FGM"))
        - c("VOP") * 0.44 * (0.44 + 0.56 * c("DRBP")) * (c("FTA") - c("FTM"))
        + c("VOP") * (1 - c("DRBP")) * (c("REB") - c("OREB")) + c("VOP") * c("DRBP") * c("OREB")
        + c("VOP") * c("STL") + c("VOP") * c("DRBP") * c("BLK")
        - c("PF") * ((c("LG_FTM") / c("LG_PF")) - 0.44 * (c("LG_FTA") / c("LG_PF")) * c("VOP")))
    full = (rows.join(teams, on=["GAME_ID", "TEAM_ID"], how="left", maintain_order="left")
            .join(league, how="cross", maintain_order="left_right")
            .with_columns((c("LG_PACE") / c("TEAM_PACE") * uper).alias("APER")))
    weight = pl.when(c("APER").is_not_null()).then(c("MIN").cast(pl.Float64))
    full = full.with_columns(((c("APER") * weight).sum() / weight.sum()).alias("LG_APER"))
    tsa = c("FGA") + 0.44 * c("FTA")
    full.select(
        "SEASON_ID", "GAME_ID", "TEAM_ID", "PLAYER_ID",
        _div(c("PTS"), 2 * tsa).alias("TS_PCT"),
        _div(c("FGM") + 0.5 * c("FG3M"), c("FGA")).alias("EFG_PCT"),
        _div(100 * c("TOV"), tsa + c("TOV")).alias("TOV_PCT"),
        (c("PTS") + 0.4 * c("FGM") - 0.7 * c("FGA") - 0.4 * (c("FTA") - c("FTM"))
         + 0.7 * c("OREB") + 0.3 * c("DREB") + c("STL") + 0.7 * c("AST") + 0.7 * c("BLK")
         - 0.4 * c("PF") - c("TOV")).cast(pl.Float64).alias("GAME_SCORE"),
        _div(c("FTA"), c("FGA")).alias("FTA_RATE"),
        _div(c("FG3A"), c("FGA")).alias("FG3A_RATE"),
        (c("APER") * 15 / c("LG_APER")).alias("PER"),
    ).sink_parquet(target)


# --------------------------------------------------------------------------- batch


def run_batch(files: list[Path], executor: str, work: Path, cluster: object = None,
              formulas: list[str] = FORMULAS, batch_size: int | None = None) -> tuple[float, str]:
    """Seconds for a whole job (context, chunks, Parquet results) and the job's directory."""
    from courtside.batch.jobs import JobManager

    manager = JobManager(f"sqlite:///{work / 'jobs.db'}", work, recover=False)
    started = time.perf_counter()
    job = manager.submit([str(f) for f in files], formulas, executor=executor, workers=2,
                         cluster=cluster, preset="nba-stats", batch_size=batch_size)
    seconds = time.perf_counter() - started
    manager.close()
    if job.status.value != "completed":
        raise SystemExit(f"{executor} job failed: {job.error}")
    return seconds, str(work / "jobs" / job.job_id)


def measure_memory(files: list[str], formulas: list[str], work: str,
                   batch_size: int | None) -> None:
    """Child mode: run one sequential job and print its time as JSON."""
    seconds, _ = run_batch([Path(f) for f in files], "sequential", Path(work),
                           formulas=formulas, batch_size=batch_size)
    print(json.dumps({"seconds": seconds}))


def child_memory(files: list[Path], formulas: list[str], work: Path,
                 batch_size: int | None = None) -> dict:
    """Run ``measure_memory`` in a fresh process, sampling its RSS every 10 ms.

    (``ru_maxrss`` would not do: Linux carries the parent's peak across fork and exec.)
    """
    import psutil

    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    proc = subprocess.Popen([sys.executable, __file__, "--memory-child", ",".join(formulas),
                             str(batch_size or 0), str(work), *map(str, files)], env=env,
                            stdout=subprocess.PIPE, text=True)
    watched = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            peak = max(peak, watched.memory_info().rss)
        except psutil.Error:
            break
        time.sleep(0.01)
    out, _ = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"memory run failed ({proc.returncode})")
    return {**json.loads(out.strip().splitlines()[-1]), "peak_mb": peak / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=400_000)
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--memory-child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        formulas, batch_size, work, *files = args.memory_child
        measure_memory(files, formulas.split(","), work, int(batch_size) or None)
        return

    with tempfile.TemporaryDirectory(prefix="courtside-bench-") as tmp:
        root = Path(tmp)
        data = root / "input"
        data.mkdir()
        t = time.perf_counter()
        files = write_files(args.rows, args.files, data)
        size_mb = sum(f.stat().st_size for f in files) / 2**20
        mem_mb = pl.scan_parquet(files).collect().estimated_size() / 2**20
        print(f"{args.rows:,} rows in {len(files)} Parquet files: {size_mb:.0f} MB on disk, "
              f"{mem_mb:.0f} MB in memory (written in {time.perf_counter() - t:.1f} s); "
              f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")

        timings: dict[str, float] = {}
        t = time.perf_counter()
        hand_written(files, root / "hand.parquet")
        timings["hand-written Polars (baseline)"] = time.perf_counter() - t
        t = time.perf_counter()
        import courtside

        courtside.compute(pl.read_parquet(files), FORMULAS, preset="nba-stats"
                          ).write_parquet(root / "one-shot.parquet")
        timings["one `courtside.compute` in memory (read, compute, write)"] = (
            time.perf_counter() - t)
        outputs: dict[str, str] = {}
        for executor in ("sequential", "parallel"):
            timings[f"batch {executor}"], outputs[executor] = run_batch(
                files, executor, root / executor)
        timings["batch sequential, the six per-row formulas only"], _ = run_batch(
            files, "sequential", root / "six", formulas=SIX)
        if not args.no_dask:
            from distributed import Client, LocalCluster

            with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0",
                              silence_logs=40) as cluster, Client(cluster) as client:
                timings["batch dask (LocalCluster, 2 workers)"], outputs["dask"] = run_batch(
                    files, "dask", root / "dask", cluster=client)

        from courtside.batch.results import scan_results

        hand = pl.read_parquet(root / "hand.parquet")
        results = {k: scan_results(v).collect() for k, v in outputs.items()}
        first = next(iter(results.values()))
        differ = {f"{name}/{f}": float((r[f] - first[f]).abs().max() or 0.0)
                  for name, r in results.items() for f in FORMULAS
                  if not r[f].equals(first[f])}
        same = not differ
        diffs = {f: float((first[f] - hand[f]).abs().max() or 0.0) for f in FORMULAS}
        base = timings["hand-written Polars (baseline)"]
        print("\n| measure | seconds | rows/s | x baseline |\n|---|---:|---:|---:|")
        for name, seconds in timings.items():
            print(f"| {name} | {seconds:.2f} | {args.rows / seconds:,.0f} | "
                  f"{seconds / base:.2f} |")
        print(f"\nexecutors agree to the last bit: {same} {differ or ''}; largest difference from the "
              f"hand-written values: {max(diffs.values()):.2e} ({max(diffs, key=diffs.get)})")

        print("\npeak memory of the sequential executor (fresh process):")
        runs = (("six per-row formulas, default batch size", SIX, None),
                ("six per-row formulas, --batch-size 100000", SIX, 100_000),
                ("the six and PER, default batch size", FORMULAS, None))
        for i, (label, formulas, batch_size) in enumerate(runs):
            m = child_memory(files, formulas, root / f"mem-{i}", batch_size)
            print(f"- {label}: peak RSS {m['peak_mb']:.0f} MB for {size_mb:.0f} MB of "
                  f"Parquet, {mem_mb:.0f} MB in memory; {m['seconds']:.1f} s")


if __name__ == "__main__":
    main()
