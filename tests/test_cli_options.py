"""The options commands share (``courtside.cli.options``): one definition, one default database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from courtside.batch.jobs import default_data_dir as jobs_default_data_dir
from courtside.cli import _register, app
from courtside.cli.options import database_url, default_data_dir
from courtside.service import ServiceConfig
from courtside.service import default_data_dir as service_default_data_dir
from courtside.storage.db import default_url

SRC = Path(__file__).resolve().parents[1] / "src"
SHARED = ("data_dir", "database_url", "replay", "boxscore", "simulate", "speed", "formulas",
          "log_level")


def _params(name: str) -> dict[str, Any]:
    _register()
    command = typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]
    return {p.name: p for p in command.params if p.name}


def test_serve_and_mcp_declare_the_shared_options_alike() -> None:
    serve, mcp = _params("serve"), _params("mcp")
    for name in SHARED:
        a, b = serve[name], mcp[name]
        assert (a.opts, a.envvar, a.default, getattr(a, "help", None)) == (
            b.opts, b.envvar, b.default, getattr(b, "help", None)), name
    assert serve["data_dir"].envvar == "COURTSIDE_DATA_DIR"
    assert serve["data_dir"].default is None  # not ./.courtside: the service's default
    assert serve["seed"].hidden and not serve["simulate"].hidden  # the old flag still parses


@pytest.mark.parametrize("env", [None, "courtside-data"])
def test_every_default_data_dir_is_the_same(env: str | None, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    if env is None:
        monkeypatch.delenv("COURTSIDE_DATA_DIR", raising=False)
        expected = tmp_path / "home" / ".courtside"
    else:
        monkeypatch.setenv("COURTSIDE_DATA_DIR", str(tmp_path / env))
        expected = tmp_path / env
    monkeypatch.delenv("COURTSIDE_DB", raising=False)
    assert default_data_dir() == service_default_data_dir() == jobs_default_data_dir() == expected
    assert ServiceConfig().data_dir == expected  # what serve and mcp get without --data-dir
    # usage and sync (--db) open the SQLite file the service opens under that directory
    assert database_url() == default_url(expected)


def test_database_url_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURTSIDE_DATA_DIR", str(tmp_path / "env-dir"))
    monkeypatch.setenv("COURTSIDE_DB", "sqlite:///from-env.db")
    assert database_url("sqlite:///given.db", tmp_path / "d") == "sqlite:///given.db"
    assert database_url(None, tmp_path / "d") == f"sqlite:///{tmp_path / 'd' / 'courtside.db'}"
    assert database_url() == "sqlite:///from-env.db"
    monkeypatch.delenv("COURTSIDE_DB")
    assert database_url() == f"sqlite:///{tmp_path / 'env-dir' / 'courtside.db'}"


@pytest.mark.parametrize(("args", "message"), [
    (["serve", "--source", "nba-live", "--replay", "{pbp}"], "--source nba-live"),
    (["serve", "--source", "nba-live", "--boxscore", "{box}"], "--boxscore goes with --replay"),
    (["serve", "--boxscore", "{box}"], "--boxscore goes with --replay"),
    (["mcp", "--boxscore", "{box}"], "--boxscore goes with --replay"),
])
def test_game_options_that_would_be_ignored_are_refused(args: list[str], message: str,
                                                        shared_data: Path,
                                                        tmp_path: Path) -> None:
    # A real process with a timeout: unfixed, serve would start and run until killed.
    live = shared_data / "nba-live"
    argv = [a.format(pbp=live / "playbyplay_0022000001.json",
                     box=live / "boxscore_0022000001.json") for a in args]
    if argv[0] == "serve":
        argv += ["--port", "0", "--nba-base-url", "http://127.0.0.1:9"]
    env = {**os.environ, "PYTHONPATH": str(SRC), "COURTSIDE_DATA_DIR": str(tmp_path)}
    env.pop("COURTSIDE_DATABASE_URL", None)
    try:
        done = subprocess.run([sys.executable, "-m", "courtside", *argv], env=env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"courtside {' '.join(args)} started instead of refusing")
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert message in done.stderr
