"""``courtside mcp``: the MCP server on stdio, for Claude Desktop and other MCP clients.

stdout carries the protocol, so everything else (logs, errors) goes to stderr. With
``--replay`` or ``--simulate`` a game is played into the live engine while the server runs, so
an agent has a live game to watch without any network. The data directory, database and game
options are ``courtside serve``'s (``courtside.cli.options``): by default both use the same
database, under ``$COURTSIDE_DATA_DIR`` or ``~/.courtside``.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import typer

from courtside.cli import app
from courtside.cli.options import (
    Boxscore,
    DatabaseUrl,
    DataDir,
    Formulas,
    LogLevel,
    Replay,
    Simulate,
    Speed,
    check_game,
    formula_list,
    service_config,
    setup_logging,
    sibling_boxscore,
)


@app.command("mcp")
def mcp(
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    replay: Replay = None,
    boxscore: Boxscore = None,
    simulate: Simulate = None,
    speed: Speed = 10.0,
    formulas: Formulas = None,
    log_level: LogLevel = "warning",
) -> None:
    """Serve courtside's MCP tools and game resources over stdio."""
    check_game(replay, simulate, speed, boxscore)
    setup_logging(log_level)
    with contextlib.suppress(KeyboardInterrupt):
        code = asyncio.run(_serve(data_dir, database_url, replay,
                                  boxscore or sibling_boxscore(replay), simulate, speed,
                                  formula_list(formulas)))
    if code:
        raise typer.Exit(code)


async def _serve(data_dir: Path | None, database_url: str | None, replay: Path | None,
                 boxscore: Path | None, simulate: int | None, speed: float,
                 live: list[str] | None) -> int:
    from courtside.mcp import create_mcp_server
    from courtside.model import CourtsideError
    from courtside.service import RealTimeCalculationService

    try:
        service = RealTimeCalculationService(service_config(data_dir, database_url,
                                                            live_formulas=live))
        await service.start()
    except CourtsideError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 2
    try:
        if replay is not None:
            service.start_replay(replay, boxscore, speed=speed)
        elif simulate is not None:
            service.start_simulation(seed=simulate, speed=speed)
        await create_mcp_server(service).run_stdio_async()
    except CourtsideError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 2
    finally:
        await service.stop()  # flushes usage events and ends the feeds
    return 0
