"""``courtside mcp``: the MCP server on stdio, for Claude Desktop and other MCP clients.

stdout carries the protocol, so everything else (logs, errors) goes to stderr. With
``--replay`` or ``--simulate`` a game is played into the live engine while the server runs, so
an agent has a live game to watch without any network.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from courtside.cli import app


@app.command("mcp")
def mcp(
    data_dir: Annotated[Path | None, typer.Option(
        "--data-dir", envvar="COURTSIDE_DATA_DIR", show_envvar=True,
        help="Where the SQLite database and job results live (default ~/.courtside).")] = None,
    database_url: Annotated[str | None, typer.Option(
        "--database-url", help="A SQLAlchemy URL instead of SQLite (e.g. PostgreSQL).")] = None,
    replay: Annotated[Path | None, typer.Option(
        "--replay", help="Re-play this recorded liveData play-by-play JSON as a live game.",
        exists=True, dir_okay=False)] = None,
    boxscore: Annotated[Path | None, typer.Option(
        "--boxscore", help="The game's liveData boxscore JSON for --replay (names, starters); "
        "found next to the play-by-play when omitted.", dir_okay=False)] = None,
    simulate: Annotated[int | None, typer.Option(
        "--simulate", metavar="SEED", help="Play simulated games (starting with SEED) as live "
        "games.")] = None,
    speed: Annotated[float, typer.Option(
        "--speed", help="Game speed for --replay/--simulate: 1 real time, 10 ten times "
        "faster, 0 as fast as possible.")] = 10.0,
    formulas: Annotated[str | None, typer.Option(
        "--formulas", help="Formulas the live engine keeps current, comma-separated "
        "(default: every published one); others are still computed on demand.")] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="Log level (to stderr).")
                         ] = "warning",
) -> None:
    """Serve courtside's MCP tools and game resources over stdio."""
    if replay is not None and simulate is not None:
        typer.echo("error: give --replay or --simulate, not both", err=True)
        raise typer.Exit(2)
    if speed < 0:
        typer.echo(f"error: --speed must be >= 0 (0 = as fast as possible), got {speed}",
                   err=True)
        raise typer.Exit(2)
    logging.basicConfig(level=log_level.upper(), stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    live = [f.strip() for f in formulas.split(",") if f.strip()] if formulas else None
    with contextlib.suppress(KeyboardInterrupt):
        code = asyncio.run(_serve(data_dir, database_url, replay, boxscore, simulate, speed,
                                  live))
    if code:
        raise typer.Exit(code)


async def _serve(data_dir: Path | None, database_url: str | None, replay: Path | None,
                 boxscore: Path | None, simulate: int | None, speed: float,
                 live: list[str] | None) -> int:
    from courtside.mcp import create_mcp_server
    from courtside.model import CourtsideError
    from courtside.service import RealTimeCalculationService, ServiceConfig

    config = ServiceConfig(database_url=database_url, live_formulas=live)
    if data_dir is not None:
        config.data_dir = data_dir
    try:
        service = RealTimeCalculationService(config)
        await service.start()
    except CourtsideError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 2
    try:
        if replay is not None:
            service.start_replay(replay, boxscore or _sibling_boxscore(replay), speed=speed)
        elif simulate is not None:
            service.start_simulation(seed=simulate, speed=speed)
        await create_mcp_server(service).run_stdio_async()
    except CourtsideError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 2
    finally:
        await service.stop()  # flushes usage events and ends the feeds
    return 0


def _sibling_boxscore(replay: Path) -> Path | None:
    candidate = replay.with_name(replay.name.replace("playbyplay_", "boxscore_", 1))
    return candidate if replay.name.startswith("playbyplay_") and candidate.exists() else None
