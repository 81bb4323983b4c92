"""Fixtures of the API tests: a real service behind a real uvicorn on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.api.serving import ServerThread

from courtside.api.app import create_app
from courtside.api.ws.session import SessionSettings
from courtside.service import RealTimeCalculationService


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator:
    """Start servers over fresh services; all are stopped at the end of the test."""
    started: list[ServerThread] = []

    def make(*, token: str | None = None, ws: SessionSettings | None = None,
             **service_options: object) -> ServerThread:
        service = RealTimeCalculationService(data_dir=tmp_path / f"svc{len(started)}",
                                             **service_options)
        app = create_app(service, token=token, ws_settings=ws)
        server = ServerThread(app)
        server.service = service  # type: ignore[attr-defined]
        server.hub = app.state.hub  # type: ignore[attr-defined]
        started.append(server.start())
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def server(make_server) -> ServerThread:  # type: ignore[no-untyped-def]
    """A server over a fresh service, no token."""
    return make_server()
