"""``courtside fake-nba``: a local cdn.nba.com serving recorded games live, with faults."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from courtside.cli import app


@app.command("fake-nba")
def fake_nba(
    games: Annotated[Path, typer.Option("--games", help="Folder of recorded "
                                        "playbyplay_<id>.json and boxscore_<id>.json files "
                                        "(searched recursively).")],
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8765,
    host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
    speed: Annotated[float, typer.Option("--speed", help="Game seconds per real second (0 "
                                         "freezes the clock; move it with POST /_clock).")] = 1.0,
    start: Annotated[float, typer.Option("--start", help="Game seconds already played at "
                                         "start (0 = the opening tip).")] = 0.0,
    pregame: Annotated[float, typer.Option("--pregame", help="Game seconds before tip-off "
                                           "(games show as scheduled until then).")] = 0.0,
    count: Annotated[int, typer.Option("--count", help="Serve this many games, cloning "
                                       "recorded ones under new ids if there are fewer "
                                       "(0 = as recorded).")] = 0,
) -> None:
    """Serve recorded games at the real liveData paths, advancing with accelerated time."""
    import uvicorn

    from courtside.model import DataError
    from courtside.sources.fake_nba import FakeNBA, create_app

    try:
        fake = FakeNBA.from_folder(games, speed=speed, elapsed=start, pregame=pregame,
                                   count=count or None)
    except DataError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"fake-nba: {len(fake.games)} games on http://{host}:{port} "
               f"(speed {speed:g}x); faults: POST /_faults, clock: POST /_clock", err=True)
    uvicorn.run(create_app(fake), host=host, port=port, log_level="warning", access_log=False)
