"""``/v1/status``, ``/healthz``, ``/readyz`` and ``/metrics``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from courtside.api.errors import error_body

router = APIRouter(tags=["status"])


@router.get("/v1/status")
async def status(request: Request) -> dict[str, Any]:
    """Uptime, sources and their health, games, subscribers, cache, tasks, metrics."""
    return (await request.app.state.service.status()).to_dict()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    """Readiness: the service is started (database, bus and engines open)."""
    if not request.app.state.service.running:
        return JSONResponse(error_body("not_ready", "the service is starting or stopping"),
                            status_code=503)
    return JSONResponse({"status": "ready"})


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus text exposition of the service's registry."""
    request.app.state.ws_hooks.refresh(request.app.state.hub)
    body = generate_latest(request.app.state.service.metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
