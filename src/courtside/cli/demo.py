"""``courtside demo``: compute advanced stats over a generated season and print the best games."""

from __future__ import annotations

import time

import typer
from rich.console import Console
from rich.table import Table

from courtside.cli import app

DEMO_FORMULAS = ("GAME_SCORE", "TS_PCT", "EFG_PCT", "USG_PCT", "AST_PCT", "TRB_PCT", "PIE",
                 "PER")


@app.command("demo")
def demo_command(
    rows: int = typer.Option(24_600, "--rows", min=20,
                             help="Player-game rows to generate (24,600 = one season)."),
    seed: int = typer.Option(7, "--seed", help="Random seed of the generated season."),
    top: int = typer.Option(10, "--top", min=1, help="How many games to print."),
    output: str | None = typer.Option(None, "--output", "-o",
                                      help="Also write every computed row to this table."),
) -> None:
    """Generate a synthetic season (seeded, no network) and compute advanced stats on it.

    Team, opponent and league totals, paces and PER's league average are derived from the
    generated games themselves; the table shows the best games by Hollinger's game score.
    """
    from courtside.batch.compute import compute
    from courtside.batch.sample import synthetic_player_games
    from courtside.sources.tables import write_table

    console = Console(width=max(Console().width, 120))
    season = synthetic_player_games(rows, seed=seed)
    start = time.perf_counter()
    result = compute(season, list(DEMO_FORMULAS))
    elapsed = time.perf_counter() - start
    if output:
        write_table(result, output)
    best = result.sort("GAME_SCORE", descending=True, nulls_last=True).head(top)
    table = Table(title=f"Top {top} of {result.height:,} synthetic player games "
                        f"(seed {seed}); {len(DEMO_FORMULAS)} formulas in {elapsed:.2f}s")
    for column in ("PLAYER_NAME", "GAME_ID", *DEMO_FORMULAS):
        table.add_column(column, no_wrap=True,
                         justify="left" if column in ("PLAYER_NAME", "GAME_ID") else "right")
    for row in best.iter_rows(named=True):
        cells = [str(row["PLAYER_NAME"]), str(row["GAME_ID"])]
        for fid in DEMO_FORMULAS:
            value = row[fid]
            cells.append("-" if value is None else
                         f"{value:.3f}" if fid in ("TS_PCT", "EFG_PCT", "PIE") else f"{value:.1f}")
        table.add_row(*cells)
    console.print(table)
    console.print("Next: `courtside compute --help` (your own tables), "
                  "`courtside formulas list` (every formula).")
