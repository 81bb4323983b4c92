"""``courtside sync``: define, list, remove and run data syncs.

    courtside sync add live --type nba_api --frequency real_time
    courtside sync add box --type file_system --set path='data/*.csv' --frequency minute
    courtside sync add db --type database --set url=sqlite:///games.db \\
        --set query='SELECT * FROM box' --set cursor_column=id
    courtside sync list
    courtside sync run live --for 30
    courtside sync remove live

Settings go in with ``--set key=value`` (values are read as JSON when they parse, e.g.
``--set game_ids='["0022000001"]'``) or all at once with ``--config '{...}'``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from courtside.cli import app
from courtside.cli.options import Db, open_database
from courtside.model import CourtsideError, DataSourceType, SyncFrequency

sync_app = typer.Typer(name="sync", no_args_is_help=True,
                       help="Data syncs: NBA live feed, files, databases, HTTP endpoints, replays.")
app.add_typer(sync_app, name="sync")

out = Console(soft_wrap=True)

# Shared by `sync add` and `sync run` so both explain them the same way.
DataTypes = Annotated[list[str] | None, typer.Option(
    "--data-type", "-d", help="scoreboard, boxscore, playbyplay, gamelog (repeat).")]
Settings = Annotated[list[str] | None, typer.Option(
    "--set", "-s", help="A source setting, key=value; values that parse as JSON are read as "
                        "JSON (repeat).")]
ConfigJson = Annotated[str | None, typer.Option("--config", help="All settings as JSON.")]


@contextmanager
def _store(url: str | None) -> Iterator[Any]:
    """A SyncStore on the migrated database; courtside errors become exit code 2."""
    from courtside.storage.syncs import SyncStore

    with open_database(url) as db:
        yield SyncStore(db)


def parse_settings(config: str | None, settings: list[str]) -> dict[str, Any]:
    """A config dict from ``--config`` JSON and ``--set key=value`` pairs."""
    result: dict[str, Any] = {}
    if config:
        try:
            result = json.loads(config)
        except json.JSONDecodeError as exc:
            raise typer.BadParameter(f"--config is not JSON: {exc}") from exc
        if not isinstance(result, dict):
            raise typer.BadParameter("--config must be a JSON object")
    for item in settings:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"--set {item!r}: expected key=value")
        try:
            result[key] = json.loads(raw)
        except json.JSONDecodeError:
            result[key] = raw
    return result


@sync_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="A name for the sync, unique.")],
    source_type: Annotated[DataSourceType, typer.Option("--type", "-t",
                                                        help="The kind of source.")],
    frequency: Annotated[SyncFrequency, typer.Option(
        "--frequency", "-f", help="real_time adapts to the games' state.")] =
        SyncFrequency.REAL_TIME,
    data_types: DataTypes = None,
    settings: Settings = None,
    config: ConfigJson = None,
    auto_start: Annotated[bool, typer.Option("--auto-start/--no-auto-start",
                                             help="Start with the service.")] = True,
    db: Db = None,
) -> None:
    """Define a sync (checked, then stored); the service starts it if auto-start is on."""
    from courtside.sources.scheduler import new_sync

    with _store(db) as store:
        sync = new_sync(name, source_type, frequency, parse_settings(config, settings or []),
                        data_types or [], auto_start=auto_start)
        store.add(sync)
    out.print(f"added sync [bold]{sync.name}[/] ({sync.source_type.value}, "
              f"{sync.frequency.value}) id {sync.sync_id}")


@sync_app.command("list")
def list_syncs(
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
    db: Db = None,
) -> None:
    """The stored syncs with their health."""
    from courtside.sources.registry import describe

    with _store(db) as store:
        syncs = store.list()
    if as_json:
        typer.echo(json.dumps([s.to_dict() for s in syncs], indent=2))
        return
    table = Table("name", "type", "frequency", "health", "failures", "last run", "auto")
    for s in syncs:
        d = describe(s)
        table.add_row(s.name, d["type"], d["frequency"], d["state"],
                      str(s.health.consecutive_failures),
                      s.last_run_at.strftime("%Y-%m-%d %H:%M:%S") if s.last_run_at else "-",
                      "yes" if s.auto_start else "no")
    out.print(table if syncs else "no syncs defined; add one with `courtside sync add`")


@sync_app.command("remove")
def remove(name: Annotated[str, typer.Argument(help="Name or id.")], db: Db = None) -> None:
    """Delete a sync."""
    with _store(db) as store:
        sync = store.remove(name)
    out.print(f"removed sync [bold]{sync.name}[/]")


def _describe_update(update: Any, scores: dict[str, dict[str, str]] | None = None) -> list[str]:
    """Text lines for an update; ``scores`` keeps each game's latest team points, since an
    update only carries the team lines that changed."""
    lines = []
    scores = {} if scores is None else scores
    stamp = update.emitted_at.strftime("%H:%M:%S")
    for snap in update.snapshots:
        game = scores.setdefault(snap.game_id, {})
        for team in snap.teams:
            game[team.id] = f"{team.name} {team.stats.get('PTS', 0):g}"
        score = " ".join(game[t] for t in (snap.home_team_id, snap.away_team_id) if t in game)
        state = "stale " if snap.stale else ""
        lines.append(f"{stamp} {update.name}: {state}game {snap.game_id} status {snap.status} "
                     f"period {snap.period} {snap.clock} {score} "
                     f"({len(snap.players)} player lines changed)")
    if update.rows:
        lines.append(f"{stamp} {update.name}: {len(update.rows)} rows new or changed")
    for issue in update.issues:
        lines.append(f"{stamp} {update.name}: {'held' if issue.held else 'note'} "
                     f"{issue.entity} {issue.rule}: {issue.message}")
    if update.error:
        lines.append(f"{stamp} {update.name}: {update.health.state.value}: {update.error}")
    return lines


def _update_json(update: Any) -> str:
    return json.dumps({
        "sync": update.name, "emitted_at": update.emitted_at.isoformat(),
        "stale": update.stale, "age_seconds": update.age_seconds, "error": update.error,
        "health": update.health.to_dict() if update.health else None,
        "snapshots": [s.to_dict() for s in update.snapshots],
        "rows": [{"key": r.key, **{k: (v.isoformat() if hasattr(v, "isoformat") else v)
                                   for k, v in r.values.items()}} for r in update.rows],
        "issues": [{"entity": i.entity, "rule": i.rule, "message": i.message, "held": i.held}
                   for i in update.issues]})


@sync_app.command("run")
def run(
    name: Annotated[str | None, typer.Argument(help="A stored sync's name or id.")] = None,
    source_type: Annotated[DataSourceType | None, typer.Option(
        "--type", "-t", help="Run an unsaved definition of this kind instead.")] = None,
    data_types: DataTypes = None,
    settings: Settings = None,
    config: ConfigJson = None,
    seconds: Annotated[float, typer.Option(
        "--for", help="Keep syncing for this many seconds (0: run once).")] = 0.0,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line per update.")] = False,
    db: Db = None,
) -> None:
    """Run a sync now and print what it emits (only what changed), with its health."""
    from courtside.sources.scheduler import SyncScheduler, new_sync

    scores: dict[str, dict[str, str]] = {}

    def show(update: Any) -> None:
        if as_json:
            typer.echo(_update_json(update))
        else:
            for line in _describe_update(update, scores):
                out.print(line, markup=False, highlight=False)

    async def go(store: Any, sync: Any) -> Any:
        async with SyncScheduler(sink=show, store=store) as sched:
            if seconds <= 0:
                await sched.run_once(sync)
            else:
                await sched.start_sync(sync)
                await asyncio.sleep(seconds)
            return sched.health(sync.sync_id)

    if (name is None) == (source_type is None):
        raise typer.BadParameter("give a stored sync's NAME, or --type with --set settings")
    try:
        if name is not None:
            with _store(db) as store:
                sync = store.get(name)
                health = asyncio.run(go(store, sync))
        else:
            sync = new_sync("adhoc", source_type,  # type: ignore[arg-type]
                            SyncFrequency.REAL_TIME, parse_settings(config, settings or []),
                            data_types or [])
            health = asyncio.run(go(None, sync))
    except CourtsideError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    if not as_json:
        failing = health.state.value != "ok" and health.last_error
        out.print(f"{sync.name}: {health.state.value}" + (f" ({health.last_error})" if failing
                                                          else ""),
                  markup=False, highlight=False)
    raise typer.Exit(0 if health.state.value == "ok" else 1)
