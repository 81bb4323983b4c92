"""Usage tracking of CLI commands: one usage event per command run.

:func:`track_commands` wraps every registered command (sub-commands of groups included) once,
when the CLI is assembled. The event (interface ``cli``, tool ``usage report``, the OS user,
duration, outcome: a non-zero exit code or an exception is an error) is written after the
command has finished, to the database the command used (``--db``, ``--database-url``,
``--data-dir``, the command's or its group's; else ``$COURTSIDE_DB``, else the default data
directory), so the command itself runs no slower. Recording never changes a command's result; set
``COURTSIDE_USAGE_TRACKING=0`` to turn it off.
"""

from __future__ import annotations

import contextlib
import functools
import getpass
import logging
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import typer

__all__ = ["track_commands"]

log = logging.getLogger(__name__)
_MARK = "_courtside_tracked"


def track_commands(app: typer.Typer) -> None:
    """Wrap every command of ``app`` (idempotent)."""
    for name, info in _commands(app, ()):
        if info.callback is not None and not getattr(info.callback, _MARK, False):
            info.callback = _tracked(info.callback, name)


def _commands(app: typer.Typer, prefix: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    for info in app.registered_commands:
        name = info.name or (info.callback.__name__.replace("_", "-") if info.callback else "?")
        yield " ".join([*prefix, name]), info
    for group in app.registered_groups:
        sub = group.typer_instance
        if sub is not None:
            yield from _commands(sub, (*prefix, group.name or sub.info.name or "?"))


def _tracked(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started, t0 = time.time(), time.perf_counter()
        outcome, code = "ok", None
        try:
            return fn(*args, **kwargs)
        except BaseException as exc:
            outcome, code = _outcome(exc)
            raise
        finally:
            _record(name, kwargs, started, (time.perf_counter() - t0) * 1000.0, outcome,
                    str(code) if code is not None else None)

    setattr(wrapper, _MARK, True)
    return wrapper


def _outcome(exc: BaseException) -> tuple[str, str | None]:
    exit_code = getattr(exc, "exit_code", None)  # typer.Exit and click's Exit
    if isinstance(exit_code, int):
        return ("ok", None) if exit_code == 0 else ("error", f"exit_{exit_code}")
    if isinstance(exc, click.Abort | KeyboardInterrupt):
        return "error", "aborted"
    if isinstance(exc, click.ClickException):
        return "error", "usage_error"
    return "error", str(getattr(exc, "code", None) or type(exc).__name__)


def _database_url(kwargs: dict[str, Any]) -> str:
    """The database the command used, from its own options (see ``cli.options``), else from
    its group's (``courtside batch --data-dir DIR run ...``)."""
    from courtside.cli.options import database_url

    options = dict(kwargs)
    # The group's options are on the parent contexts; a command sees them through its ctx.
    # Duck-typed: Typer passes its own copy of click's Context (not typer.Context), and
    # click.get_current_context() does not know it.
    ctx = next((v for v in kwargs.values() if isinstance(getattr(v, "params", None), dict)
                and hasattr(v, "parent") and hasattr(v, "command")), None)
    parent = ctx.parent if ctx is not None else None
    while parent is not None:
        for key in ("db", "database_url", "data_dir"):
            if not options.get(key) and parent.params.get(key):
                options[key] = parent.params[key]
        parent = parent.parent
    url = next((options[k] for k in ("db", "database_url")
                if isinstance(options.get(k), str) and options[k]), None)
    data_dir = options.get("data_dir") if isinstance(options.get("data_dir"), str | Path) else None
    return database_url(url, data_dir)


def _record(name: str, kwargs: dict[str, Any], started: float, duration_ms: float,
            outcome: str, code: str | None) -> None:
    if os.environ.get("COURTSIDE_USAGE_TRACKING", "1").lower() in ("0", "off", "false", "no"):
        return
    try:
        from courtside.usage.events import make_event

        formula = kwargs.get("formula") if isinstance(kwargs.get("formula"), str) else None
        row = make_event(tool=name, interface="cli", client=_user(), formula=formula,
                         started_at=datetime.fromtimestamp(started, UTC),
                         duration_ms=duration_ms, outcome=outcome, error_code=code).to_row()
        url = _database_url(kwargs)
        if not (url.startswith("sqlite:///") and _sqlite_insert(url[len("sqlite:///"):], row)):
            _sqlalchemy_insert(url, row)
    except Exception:  # tracking must never change what the command did
        log.debug("usage: could not record the %r command", name, exc_info=True)


def _sqlite_insert(path: str, row: dict[str, Any]) -> bool:
    """Write the event with the standard library: importing SQLAlchemy would cost a short
    command more than the command itself. False when the table is not there yet."""
    import sqlite3

    when = row["started_at"]
    values = {**row, "started_at": when.strftime("%Y-%m-%d %H:%M:%S.%f"),  # as SQLAlchemy stores it
              "cache_hit": None if row["cache_hit"] is None else int(row["cache_hit"])}
    names = list(values)
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=5)) as conn, conn:
            conn.execute(f"INSERT INTO usage_events ({', '.join(names)}) "
                         f"VALUES ({', '.join('?' for _ in names)})", [values[n] for n in names])
        return True
    except sqlite3.OperationalError:
        return False


def _sqlalchemy_insert(url: str, row: dict[str, Any]) -> None:
    from courtside.storage.db import Database
    from courtside.storage.usage import insert_event

    db = Database(url)
    try:
        db.migrate()  # a fresh database gets its tables
        insert_event(db, row)
    finally:
        db.dispose()


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "anonymous"
