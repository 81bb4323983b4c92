"""``courtside serve`` as a user runs it: a real process, real HTTP, real signals."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner
from websockets.sync.client import connect

from courtside.api.auth import check_bind, is_loopback
from courtside.cli import _register, app

SRC = Path(__file__).resolve().parents[2] / "src"
URL = re.compile(r"on (http://127\.0\.0\.1:\d+/)")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("COURTSIDE_TOKEN", "COURTSIDE_DATABASE_URL")}
    return {**env, "PYTHONPATH": str(SRC), **extra}


class Served:
    def __init__(self, proc: subprocess.Popen, url: str, banner: str) -> None:
        self.proc, self.url, self.banner = proc, url, banner


@pytest.fixture
def serve(tmp_path: Path) -> Iterator:
    procs: list[subprocess.Popen] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Served:
        # Each server its own data directory: a stopped service's games are restored by the
        # next start in the same one.
        env = env or _env(COURTSIDE_DATA_DIR=str(tmp_path / f"data{len(procs)}"))
        proc = subprocess.Popen([sys.executable, "-m", "courtside", "serve", "--port", "0",
                                 *args], cwd=tmp_path, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the banner, once the server listens
        found = URL.search(line)
        assert found, (line, proc.stderr.read() if proc.poll() is not None else "")
        return Served(proc, found.group(1), line)

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def _wait_for(check, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.2)


def test_default_serve_needs_no_network_shows_a_live_game_and_stops_gracefully(
        serve, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # No --data-dir, no COURTSIDE_DATA_DIR: the database goes under ~/.courtside, where
    # `courtside mcp`, `usage`, `sync` and `batch` look too (not under the working directory).
    home = tmp_path / "home"
    env = {k: v for k, v in _env(HOME=str(home)).items() if k != "COURTSIDE_DATA_DIR"}
    served = serve("--speed", "200", env=env)
    with httpx.Client(base_url=served.url, timeout=5) as http:
        games = _wait_for(lambda: http.get("/v1/games").json()["games"])
        assert games[0]["game_id"].startswith("0099")  # the built-in simulator's ids
        page = http.get("/")
        assert page.headers["content-type"].startswith("text/html")
        assert '<div id="boxes">' in page.text
        assert http.get("/readyz").status_code == 200
    with connect(served.url.replace("http", "ws", 1) + "v1/ws") as ws:
        ws.send(json.dumps({"type": "subscribe", "topic": f"game:{games[0]['game_id']}"}))
        snapshot = json.loads(ws.recv(5))
        assert snapshot["type"] == "snapshot" and snapshot["entities"]
        update = json.loads(ws.recv(10))
        assert update["type"] == "update" and update["seq"] == snapshot["seq"] + 1
        # SIGTERM: the server closes the connection with 1001 and the process exits cleanly
        served.proc.send_signal(signal.SIGTERM)
        with pytest.raises(Exception) as closed:
            while True:
                ws.recv(10)
        assert getattr(closed.value, "rcvd", None) is None or closed.value.rcvd.code in (
            1001, 1012)
    assert served.proc.wait(20) == 0
    assert "courtside stopped" in served.proc.stderr.read()
    assert (home / ".courtside" / "courtside.db").is_file()
    assert not (tmp_path / ".courtside").exists()


def test_serve_replays_a_recorded_game(serve, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    pbp = shared_data / "nba-live" / "playbyplay_0022000001.json"
    served = serve("--replay", str(pbp), "--speed", "0", "--formulas", "TS_PCT,PER")

    def points(http: httpx.Client) -> float:
        games = http.get("/v1/games").json()["games"]
        assert [g["game_id"] for g in games] in ([], ["0022000001"])
        return sum((g["home_pts"] or 0) + (g["away_pts"] or 0) for g in games)

    with httpx.Client(base_url=served.url, timeout=5) as http:
        first = _wait_for(lambda: points(http), timeout=60)
        _wait_for(lambda: points(http) > first, timeout=60)  # the game goes on
        assert http.get("/v1/games/0022000001").json()["game"]["home_tricode"] == "BKN"
    served.proc.send_signal(signal.SIGINT)
    assert served.proc.wait(30) == 0


def test_serve_with_a_token_guards_writes(serve, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    served = serve("--speed", "1", env=_env(COURTSIDE_TOKEN="s3cret",
                                            COURTSIDE_DATA_DIR=str(tmp_path / "token")))
    with httpx.Client(base_url=served.url, timeout=5) as http:
        body = {"definitions": ["STOCKS=STL+BLK"]}
        assert http.post("/v1/formulas", json=body).status_code == 401
        ok = http.post("/v1/formulas", json=body, headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 201
        assert http.get("/v1/formulas/STOCKS").json()["expression"] == "STL+BLK"
    served.proc.send_signal(signal.SIGTERM)
    assert served.proc.wait(20) == 0


def test_simulate_picks_the_seed_and_the_old_seed_flag_still_works(serve) -> None:  # type: ignore[no-untyped-def]
    for flag in ("--simulate", "--seed"):
        served = serve(flag, "7", "--speed", "1")
        assert "a simulated game (seed 7)" in served.banner
        served.proc.send_signal(signal.SIGTERM)
        assert served.proc.wait(20) == 0


def test_public_bind_without_token_is_refused_with_a_fix() -> None:
    _register()
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--port", "0"],
                                env={"COURTSIDE_TOKEN": ""})
    assert result.exit_code == 2
    assert "refusing to listen on 0.0.0.0" in result.output
    assert "--token" in result.output and "COURTSIDE_TOKEN" in result.output
    for host in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        assert is_loopback(host)
        check_bind(host, None)
    for host in ("0.0.0.0", "192.168.1.5", "::", "example.com"):
        assert not is_loopback(host)
        with pytest.raises(PermissionError):
            check_bind(host, None)
        check_bind(host, "a-token")


def test_unknown_live_formula_is_a_clear_error(tmp_path: Path) -> None:
    _register()
    result = CliRunner().invoke(app, ["serve", "--port", "0", "--data-dir", str(tmp_path),
                                      "--formulas", "TS_PCT,NOT_A_FORMULA"])
    assert result.exit_code == 2
    assert "unknown formula 'NOT_A_FORMULA'" in result.output
