"""``courtside serve``: the HTTP/WebSocket service with a live game to watch.

With no options it needs no network: SQLite under the data directory (``$COURTSIDE_DATA_DIR``,
else ``~/.courtside``, as ``courtside mcp``, ``batch``, ``sync`` and ``usage`` use) and
simulated games played one after another. ``--replay FILE`` re-plays a recorded liveData
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
    fail,
    formula_list,
    service_config,
    setup_logging,
    sibling_boxscore,
)

log = logging.getLogger("courtside.serve")

SOURCES = ("simulator", "replay", "nba-live")


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to bind. Anything but "
                                      "loopback requires --token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port (0 picks a free one).")] = 8000,
    token: Annotated[str | None, typer.Option(
        "--token", envvar="COURTSIDE_TOKEN", show_envvar=True,
        help="API token: writes and the WebSocket then require it.")] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    redis_url: Annotated[str | None, typer.Option(
        "--redis-url", help="Fan updates out through Redis (several instances).")] = None,
    replay: Replay = None,
    boxscore: Boxscore = None,
    simulate: Simulate = None,
    speed: Speed = 10.0,
    source: Annotated[str, typer.Option(
        "--source", help="simulator (default, offline; --simulate picks the first seed, "
        "default 1), replay (with --replay) or nba-live (the NBA's live feed).")
    ] = "simulator",
    nba_base_url: Annotated[str, typer.Option(
        "--nba-base-url", help="Base URL of the liveData feed (e.g. a local "
        "`courtside fake-nba`).")] = "https://cdn.nba.com",
    seed: Annotated[int | None, typer.Option(
        "--seed", hidden=True, help="Old name of --simulate.")] = None,
    formulas: Formulas = None,
    log_level: LogLevel = "warning",
) -> None:
    """Serve the REST API (/v1, /docs), the WebSocket (/v1/ws), /mcp, /metrics and the live
    page, with a live game: simulated by default, --replay FILE, or --source nba-live."""
    from courtside.api.auth import check_bind

    try:
        check_bind(host, token)
    except PermissionError as exc:
        fail(str(exc))
    if seed is not None:
        if simulate is not None and simulate != seed:
            fail("--seed is the old name of --simulate: give one of them")
        simulate = seed
    check_game(replay, simulate, speed, boxscore, source)
    source = "replay" if replay is not None and source == "simulator" else source
    if source not in SOURCES:
        fail(f"--source must be simulator, replay or nba-live, not {source!r}")
    if source == "replay" and replay is None:
        fail("--source replay needs --replay PLAYBYPLAY.json")
    if source != "simulator" and simulate is not None:
        fail(f"--simulate plays simulated games: it does not go with --source {source}")
    setup_logging(log_level)
    options = dict(host=host, port=port, token=token, data_dir=data_dir,
                   database_url=database_url, redis_url=redis_url, replay=replay,
                   boxscore=boxscore or sibling_boxscore(replay), speed=speed, source=source,
                   nba_base_url=nba_base_url, seed=1 if simulate is None else simulate,
                   log_level=log_level.lower(), formulas=formula_list(formulas))
    with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C during shutdown
        asyncio.run(_serve(**options))


async def _serve(*, host: str, port: int, token: str | None, data_dir: Path | None,
                 database_url: str | None, redis_url: str | None, replay: Path | None,
                 boxscore: Path | None, speed: float, source: str, nba_base_url: str,
                 seed: int, log_level: str, formulas: list[str] | None) -> None:
    import uvicorn

    from courtside.api.app import create_app
    from courtside.model import CourtsideError
    from courtside.service import RealTimeCalculationService

    config = service_config(data_dir, database_url, redis_url=redis_url, live_formulas=formulas)
    service = RealTimeCalculationService(config)
    try:
        await service.start()
    except CourtsideError as exc:  # e.g. an unknown formula id in --formulas
        fail(str(exc))
    try:
        try:
            feed = await _start_feed(service, source=source, replay=replay, boxscore=boxscore,
                                     speed=speed, seed=seed, nba_base_url=nba_base_url)
        except CourtsideError as exc:
            fail(str(exc))
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


