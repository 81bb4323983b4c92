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
