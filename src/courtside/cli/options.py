"""Options and defaults several commands share, defined once so that they read the same.

Where the state lives: ``--data-dir`` (``$COURTSIDE_DATA_DIR``, else ``~/.courtside``) and
``--database-url`` (``$COURTSIDE_DATABASE_URL``, else SQLite under the data directory) for the
commands that run the service (``serve``, ``mcp``; ``batch`` has the same pair), ``--db``
(``$COURTSIDE_DB``, else the same SQLite file) for the commands that only read and write the
database (``sync``, ``usage``). So ``courtside serve``, ``courtside mcp``, ``courtside usage
report`` and the rest see one database by default.

A live game to play into the service: ``--replay``/``--boxscore``, ``--simulate SEED``,
``--speed``; ``--formulas`` (what the live engine keeps current) and ``--log-level``.

This module is imported by every command, ``compute``'s light start included: it imports no
more than Typer.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

# the service's default, from a standard-library module (no import of the service)
from courtside.config import default_data_dir

if TYPE_CHECKING:
    from courtside.service import ServiceConfig
    from courtside.storage.db import Database

__all__ = [
    "Boxscore",
    "DataDir",
    "DatabaseUrl",
    "Db",
    "Formulas",
    "LogLevel",
    "OutputTable",
    "Replay",
    "Simulate",
    "Speed",
    "check_game",
    "database_url",
    "default_data_dir",
    "fail",
    "formula_list",
    "open_database",
    "service_config",
    "setup_logging",
    "sibling_boxscore",
    "sqlite_url",
]

DATA_DIR_ENV = "COURTSIDE_DATA_DIR"
DATABASE_URL_ENV = "COURTSIDE_DATABASE_URL"
DB_ENV = "COURTSIDE_DB"
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")

# ------------------------------------------------------------------------------ the database

DataDir = Annotated[Path | None, typer.Option(
    "--data-dir", envvar=DATA_DIR_ENV, show_envvar=True,
    help="Where the SQLite database and job results live (default ~/.courtside).")]
DatabaseUrl = Annotated[str | None, typer.Option(
    "--database-url", envvar=DATABASE_URL_ENV, show_envvar=True,
    help="A SQLAlchemy URL instead of SQLite under the data directory (e.g. PostgreSQL).")]
Db = Annotated[str | None, typer.Option(
    "--db", help=f"Database URL (default: ${DB_ENV}, else a SQLite file under "
    f"${DATA_DIR_ENV} or ~/.courtside).")]


def sqlite_url(data_dir: Path) -> str:
    """``courtside.storage.db.default_url`` without importing SQLAlchemy (a command's usage
    event must not cost it more than the command): the SQLite file under ``data_dir``."""
    data_dir = data_dir.expanduser()
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{data_dir / 'courtside.db'}"


def database_url(url: str | None = None, data_dir: str | Path | None = None) -> str:
    """The URL given, else SQLite under ``data_dir`` when given, else ``$COURTSIDE_DB``, else
    SQLite under the default data directory."""
    if url:
        return url
    if data_dir:
        return sqlite_url(Path(data_dir))
    if os.environ.get(DB_ENV):
        return os.environ[DB_ENV]
    return sqlite_url(default_data_dir())


@contextmanager
def open_database(url: str | None) -> Iterator[Database]:
    """The migrated database of ``--db`` (see :func:`database_url`); courtside errors, here or
    in the block, become a one-line message and exit code 2."""
    from courtside.model import CourtsideError
    from courtside.storage.db import Database

    db = None
    try:
        db = Database(database_url(url))
        db.migrate()
        yield db
    except CourtsideError as exc:
        fail(str(exc))
    finally:
        if db is not None:
            db.dispose()


def service_config(data_dir: Path | None, database_url: str | None,
                   **settings: Any) -> ServiceConfig:
    """A ``ServiceConfig`` from the shared options: no ``--data-dir`` (nor its variable) means
    the service's own default."""
    from courtside.service import ServiceConfig

    if data_dir is not None:
        settings["data_dir"] = data_dir
    return ServiceConfig(database_url=database_url, **settings)


# ------------------------------------------------------------------------------ a live game

Replay = Annotated[Path | None, typer.Option(
    "--replay", help="Re-play this recorded liveData play-by-play JSON as a live game.",
    exists=True, dir_okay=False)]
Boxscore = Annotated[Path | None, typer.Option(
    "--boxscore", help="The game's liveData boxscore JSON for --replay (names, starters); "
    "found next to the play-by-play when omitted.", dir_okay=False)]
Simulate = Annotated[int | None, typer.Option(
    "--simulate", metavar="SEED", help="Play simulated games as live games, one after "
    "another, the first with seed SEED.")]
Speed = Annotated[float, typer.Option(
    "--speed", help="Game speed for --replay/--simulate: 1 real time, 10 ten times faster, "
    "0 as fast as possible.")]
Formulas = Annotated[str | None, typer.Option(
    "--formulas", help="Formulas the live engine keeps current, comma-separated (e.g. "
    "TS_PCT,EFG_PCT,USG_PCT,GAME_SCORE,PER; default: every published and custom formula); "
    "others are still computed on demand.")]
LogLevel = Annotated[str, typer.Option(
    "--log-level", help=f"Log level (to stderr): {', '.join(LOG_LEVELS)}.")]


def check_game(replay: Path | None, simulate: int | None, speed: float,
               boxscore: Path | None = None, source: str | None = None) -> None:
    """Exit 2 with the fix when the live-game options contradict each other (or one would
    be ignored): ``source`` is ``serve --source``, None for commands without it."""
    if replay is not None and simulate is not None:
        fail("give --replay or --simulate, not both")
    if boxscore is not None and replay is None:
        fail("--boxscore goes with --replay PLAYBYPLAY.json (the game it names); add "
             "--replay or drop --boxscore")
    if source == "nba-live" and replay is not None:
        fail("--replay plays a recorded game and --source nba-live follows the NBA's feed: "
             "give one of them")
    if speed < 0:
        fail(f"--speed must be >= 0 (0 = as fast as possible), got {speed}")


def sibling_boxscore(replay: Path | None) -> Path | None:
    """``boxscore_<id>.json`` next to ``playbyplay_<id>.json``, if it is there."""
    if replay is None or not replay.name.startswith("playbyplay_"):
        return None
    candidate = replay.with_name(replay.name.replace("playbyplay_", "boxscore_", 1))
    return candidate if candidate.exists() else None


def formula_list(formulas: str | None) -> list[str] | None:
    """``--formulas`` as ids; None (every formula) when not given."""
    return [f.strip() for f in formulas.split(",") if f.strip()] if formulas else None


def setup_logging(level: str) -> None:
    """Log to stderr at ``--log-level`` (stdout may carry a protocol); exit 2 on a bad level."""
    if level.lower() not in LOG_LEVELS:
        fail(f"--log-level must be one of {', '.join(LOG_LEVELS)}, not {level!r}")
    logging.basicConfig(level=level.upper(), format="%(levelname)s %(name)s: %(message)s")


# ------------------------------------------------------------------------------ tables

OutputTable = Annotated[str, typer.Option(
    "--output", "-o", help="Output table (extension picks the format); '-' = stdout.")]


def fail(message: str) -> NoReturn:
    """``error: <message>`` on stderr, exit code 2."""
    typer.secho(f"error: {message}", fg="red", err=True)
    raise typer.Exit(2)
