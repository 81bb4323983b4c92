"""``courtside serve``: the HTTP/WebSocket service with a live game to watch.

With no options it needs no network: SQLite under ``./.courtside`` and a simulated game
replayed (the next one starts when it ends). ``--replay FILE`` re-plays a recorded liveData
play-by-play; ``--source nba-live`` follows the NBA's live feed (``--nba-base-url`` points it at
``courtside fake-nba``). SIGINT/SIGTERM stop it gracefully: the server stops accepting, clients
are closed with 1001, feeds stop, the service finishes its work and persists its state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from courtside.cli import app

log = logging.getLogger("courtside.serve")


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to bind. Anything but "
                                      "loopback requires --token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port (0 picks a free one).")] = 8000,
    token: Annotated[str | None, typer.Option(
        "--token", envvar="COURTSIDE_TOKEN", show_envvar=True,
        help="API token: writes and the WebSocket then require it.")] = None,
    data_dir: Annotated[Path, typer.Option("--data-dir", help="Where the SQLite database "
                                           "and state live.")] = Path(".courtside"),
    database_url: Annotated[str | None, typer.Option(
        "--database-url", help="A SQLAlchemy URL instead of SQLite (e.g. PostgreSQL).")] = None,
    redis_url: Annotated[str | None, typer.Option(
        "--redis-url", help="Fan updates out through Redis (several instances).")] = None,
    replay: Annotated[Path | None, typer.Option(
        "--replay", help="Re-play this recorded liveData play-by-play JSON as a live game.",
        exists=True, dir_okay=False)] = None,
    boxscore: Annotated[Path | None, typer.Option(
        "--boxscore", help="The game's liveData boxscore JSON (names, starters) for --replay; "
        "found next to the play-by-play when omitted.", dir_okay=False)] = None,
    speed: Annotated[float, typer.Option(
        "--speed", help="Replay speed: 1 real time, 10 ten times faster, 0 as fast as "
        "possible.")] = 10.0,
    source: Annotated[str, typer.Option(
        "--source", help="simulator (default, offline), replay (with --replay) or nba-live "
        "(the NBA's live feed).")] = "simulator",
    nba_base_url: Annotated[str, typer.Option(
        "--nba-base-url", help="Base URL of the liveData feed (e.g. a local "
        "`courtside fake-nba`).")] = "https://cdn.nba.com",
    seed: Annotated[int, typer.Option("--seed", help="Simulator seed of the first game.")] = 1,
    formulas: Annotated[str | None, typer.Option(
        "--formulas", help="Keep only these formulas live (comma-separated ids, e.g. "
        "TS_PCT,EFG_PCT,USG_PCT,GAME_SCORE,PER); default: every published and custom "
        "formula.")] = None,
    log_level: Annotated[str, typer.Option("--log-level")] = "warning",
) -> None:
    """Serve the REST API (/v1, /docs), the WebSocket (/v1/ws), /metrics and the live page."""
    from courtside.api.auth import check_bind

    try:
        check_bind(host, token)
    except PermissionError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    source = "replay" if replay is not None and source == "simulator" else source
    if source not in ("simulator", "replay", "nba-live"):
        typer.echo(f"error: --source must be simulator, replay or nba-live, not {source!r}",
                   err=True)
        raise typer.Exit(2)
    if source == "replay" and replay is None:
        typer.echo("error: --source replay needs --replay PLAYBYPLAY.json", err=True)
        raise typer.Exit(2)
    if speed < 0:
        typer.echo(f"error: --speed must be >= 0 (0 = as fast as possible), got {speed}",
                   err=True)
        raise typer.Exit(2)
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    options = dict(host=host, port=port, token=token, data_dir=data_dir,
                   database_url=database_url, redis_url=redis_url, replay=replay,
                   boxscore=boxscore or _sibling_boxscore(replay), speed=speed, source=source,
                   nba_base_url=nba_base_url, seed=seed, log_level=log_level,
                   formulas=[f.strip() for f in formulas.split(",") if f.strip()]
                   if formulas else None)
    with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C during shutdown
        asyncio.run(_serve(**options))


def _sibling_boxscore(replay: Path | None) -> Path | None:
    if replay is None or not replay.name.startswith("playbyplay_"):
        return None
    candidate = replay.with_name(replay.name.replace("playbyplay_", "boxscore_", 1))
    return candidate if candidate.exists() else None


async def _serve(*, host: str, port: int, token: str | None, data_dir: Path,
                 database_url: str | None, redis_url: str | None, replay: Path | None,
                 boxscore: Path | None, speed: float, source: str, nba_base_url: str,
                 seed: int, log_level: str, formulas: list[str] | None) -> None:
    import uvicorn

    from courtside.api.app import create_app
    from courtside.model import CourtsideError
    from courtside.service import RealTimeCalculationService, ServiceConfig

    config = ServiceConfig(data_dir=data_dir, database_url=database_url, redis_url=redis_url,
                           live_formulas=formulas)
    service = RealTimeCalculationService(config)
    try:
        await service.start()
    except CourtsideError as exc:  # e.g. an unknown formula id in --formulas
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        try:
            feed = await _start_feed(service, source=source, replay=replay, boxscore=boxscore,
                                     speed=speed, seed=seed, nba_base_url=nba_base_url)
        except CourtsideError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        server = _server_class()(uvicorn.Config(
            create_app(service, token=token, manage_service=False), host=host, port=port,
            log_level=log_level, access_log=False, ws_ping_interval=20, ws_ping_timeout=20,
            timeout_graceful_shutdown=5))
        serving = asyncio.create_task(server.serve())
        while not server.started and not serving.done():
            await asyncio.sleep(0.05)
        if server.started:
            bound = server.servers[0].sockets[0].getsockname()
            shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
            url = f"http://{shown if ':' not in shown else f'[{shown}]'}:{bound[1]}/"
            typer.echo(f"courtside serving {feed} on {url}  (API docs: {url}docs, "
                       f"WebSocket: {url.replace('http', 'ws', 1)}v1/ws, MCP: {url}mcp; "
                       "Ctrl-C stops)",
                       err=False)
        await serving  # returns after SIGINT/SIGTERM, once connections are closed
    finally:
        # Graceful: stop feeding, then let the service finish its work and persist state.
        await service.stop()
        typer.echo("courtside stopped", err=True)


def _server_class() -> type:
    import uvicorn

    class GracefulServer(uvicorn.Server):
        """uvicorn, minus re-raising SIGINT/SIGTERM after its shutdown: the signal must not
        kill the process before the service has stopped and persisted its state."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            previous = {sig: signal.signal(sig, self.handle_exit)
                        for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return GracefulServer


async def _start_feed(service: Any, *, source: str, replay: Path | None,
                      boxscore: Path | None, speed: float, seed: int,
                      nba_base_url: str) -> str:
    """Start what feeds the live engine; returns a description for the banner."""
    if source == "nba-live":
        from courtside.model import NotFoundError

        # The flag is a choice of this run: replace an earlier run's definition, and do not
        # auto-start it next time (a plain `courtside serve` must need no network).
        with contextlib.suppress(NotFoundError):
            await service.remove_sync("nba-live")
        await service.add_sync(name="nba-live", source_type="nba_api",
                               frequency="real_time", config={"base_url": nba_base_url},
                               data_types=["scoreboard", "boxscore", "playbyplay"],
                               auto_start=False)
        return f"the NBA live feed from {nba_base_url}"
    if source == "replay":
        assert replay is not None
        service.start_replay(playbyplay=replay, boxscore=boxscore, speed=speed)
        return f"a replay of {replay.name} at {speed:g}x"
    service.start_simulation(seed=seed, speed=speed)
    return f"a simulated game (seed {seed}) at {speed:g}x"


