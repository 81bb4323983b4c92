"""``courtside replay``: re-play a recorded or simulated game and write its final box score."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from courtside.cli import app
from courtside.model import CourtsideError, GameSnapshot
from courtside.sources.replay import ReplayEvent, ReplaySource
from courtside.sources.snapshots import players_frame
from courtside.sources.tables import write_table


def _score_line(event: ReplayEvent) -> str:
    snap = event.snapshot
    home, away = (int(t.stats["PTS"]) for t in snap.teams)
    clock = snap.clock.removeprefix("PT").replace("M", ":").removesuffix("S")
    return f"Q{snap.period} {clock}  {snap.away_tricode} {away} - {home} {snap.home_tricode}"


async def _play(source: ReplaySource, show: bool) -> GameSnapshot:
    last = None
    async for event in source:
        last = event
        if show and event.action is not None and event.action.get("shotResult") == "Made":
            typer.echo(_score_line(event), err=True)
    assert last is not None  # the pre-game record always comes
    return last.snapshot


@app.command("replay")
def replay(
    playbyplay: Annotated[Path | None, typer.Argument(
        help="A cdn.nba.com liveData play-by-play JSON file (playbyplay_<gameId>.json).",
        show_default=False)] = None,
    boxscore: Annotated[Path | None, typer.Option(
        "--boxscore", help="The game's liveData boxscore JSON: names, tricodes, starters.")] = None,
    simulate: Annotated[int | None, typer.Option(
        "--simulate", metavar="SEED",
        help="Replay the built-in simulator's game for SEED instead of a file.")] = None,
    speed: Annotated[float, typer.Option(
        "--speed", help="1 = real time, 10 = ten times faster, 0 = as fast as possible.")] = 0.0,
    max_gap: Annotated[float | None, typer.Option(
        "--max-gap", help="Cap every pause (halftime, reviews) at this many seconds.")] = None,
    output: Annotated[str, typer.Option(
        "--output", "-o",
        help="Where to write the final box score: .csv .parquet .json .ndjson, or - (stdout).",
    )] = "-",
    fmt: Annotated[str | None, typer.Option(
        "--format", help="csv, parquet, json or ndjson (default: from --output; CSV for -).",
    )] = None,
) -> None:
    """Re-play a game's play-by-play and write the box score derived from its events.

    One row per player who played: GAME_ID, PLAYER_ID (the NBA personId), TEAM_ID,
    TEAM_ABBREVIATION, PLAYER_NAME, STARTER, then the canonical stats (MIN in minutes). With
    --speed above 0 the scoring plays are printed to stderr as they happen.
    """
    try:
        if (playbyplay is None) == (simulate is None):
            raise typer.BadParameter("give either a PLAYBYPLAY file or --simulate SEED")
        if simulate is not None:
            if boxscore is not None:
                raise typer.BadParameter("--boxscore goes with a PLAYBYPLAY file, "
                                         "not with --simulate")
            source = ReplaySource.simulated(simulate, speed=speed, max_gap=max_gap)
        else:
            source = ReplaySource.from_files(playbyplay, boxscore, speed=speed, max_gap=max_gap)
        final = asyncio.run(_play(source, show=speed > 0))
        write_table(players_frame(final), output, fmt=fmt)
    except CourtsideError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if output != "-":
        home, away = final.teams
        typer.echo(f"{final.game_id}: {final.away_tricode} {int(away.stats['PTS'])} - "
                   f"{int(home.stats['PTS'])} {final.home_tricode}, "
                   f"{len(players_frame(final))} players -> {output}", err=True)
