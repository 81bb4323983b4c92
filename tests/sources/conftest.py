"""Fixtures of the source tests: a real HTTP server on loopback whose answers a test scripts."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


class ServerThread:
    """uvicorn serving an ASGI app on 127.0.0.1, on a free port, in a daemon thread."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                lifespan="off", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("loopback server did not start")
            time.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@dataclass
class Scripted:
    """Answers in order from ``script`` (status, body, headers, delay); then ``default``."""

    script: deque = field(default_factory=deque)
    default: tuple = (200, b'{"ok": true}', {"content-type": "application/json"}, 0.0)
    requests: list = field(default_factory=list)

    def push(self, status: int = 200, body: bytes = b'{"ok": true}',
             headers: dict | None = None, delay: float = 0.0) -> None:
        self.script.append((status, body, headers or {"content-type": "application/json"},
                            delay))

    async def handle(self, request: Request) -> Response:
        self.requests.append({"path": request.url.path, "headers": dict(request.headers),
                              "query": dict(request.query_params)})
        status, body, headers, delay = self.script.popleft() if self.script else self.default
        if delay:
            await asyncio.sleep(delay)
        return Response(body, status_code=status, headers=headers)


@pytest.fixture
def scripted() -> Iterator[tuple[Scripted, str]]:
    """(script, base URL) of a loopback server answering every path from the script."""
    script = Scripted()
    app = Starlette(routes=[Route("/{path:path}", script.handle)])
    with ServerThread(app) as server:
        yield script, server.url


class FakeNBAProcess:
    """``courtside fake-nba`` in a subprocess, driven through its admin endpoints."""

    def __init__(self, games: str, root: str) -> None:
        import os
        import socket
        import subprocess
        import sys

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        import tempfile

        env = {**os.environ, "PYTHONPATH": f"{root}/src"}
        # A file, not a pipe: a pipe nobody reads would block the server once it fills.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "courtside", "fake-nba", "--port", str(self.port),
             "--games", games, "--speed", "0"], env=env, stderr=self.log)
        import httpx

        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{self.url}/_clock", timeout=1)
                break
            except httpx.TransportError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.log.seek(0)
                    raise RuntimeError("fake-nba did not start: "
                                       + self.log.read().decode()) from None
                time.sleep(0.05)

    def admin(self, method: str, path: str, body: dict | None = None) -> dict:
        import httpx

        r = httpx.request(method, f"{self.url}{path}", json=body, timeout=5)
        r.raise_for_status()
        return r.json()

    def reset(self, elapsed: float = 1500.0, speed: float = 0.0, pregame: float = 0.0) -> None:
        self.admin("DELETE", "/_faults")
        self.admin("POST", "/_clock", {"elapsed": elapsed, "speed": speed, "pregame": pregame})

    def fault(self, kind: str, count: int = 1, **kw) -> dict:
        return self.admin("POST", "/_faults", {"kind": kind, "count": count, **kw})

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except Exception:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture(scope="session")
def fake_nba_server(shared_data) -> Iterator[FakeNBAProcess]:
    """A fake cdn.nba.com serving the recorded games of shared/data, clock frozen."""
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    server = FakeNBAProcess(str(shared_data / "nba-live"), root)
    yield server
    server.close()


@pytest.fixture
def fake_nba(fake_nba_server) -> FakeNBAProcess:
    """The fake server, reset: no faults, clock frozen 1500 s into every game."""
    fake_nba_server.reset()
    return fake_nba_server
