"""``/v1/sources`` and ``/v1/syncs``: data sources, their health, and sync definitions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from courtside.api.auth import require_token
from courtside.api.schemas import SyncRequest

router = APIRouter(prefix="/v1", tags=["sources"])


@router.get("/sources")
async def list_sources(request: Request) -> dict[str, Any]:
    """Every source with its health (ok, degraded, down), last success and last error."""
    sources = request.app.state.service.sources()
    return {"count": len(sources), "sources": sources}


@router.get("/syncs")
async def list_syncs(request: Request) -> dict[str, Any]:
    """Every sync definition (DataSync)."""
    syncs = request.app.state.service.syncs()
    return {"count": len(syncs), "syncs": syncs}


@router.post("/syncs", status_code=201, dependencies=[Depends(require_token)])
async def add_sync(body: SyncRequest, request: Request) -> dict[str, Any]:
    """Define a sync (validated by building its source), persist it and start it."""
    return await request.app.state.service.add_sync(**body.model_dump())


@router.delete("/syncs/{ref}", dependencies=[Depends(require_token)])
async def remove_sync(ref: str, request: Request) -> dict[str, Any]:
    """Stop and forget a sync (by id or name)."""
    return await request.app.state.service.remove_sync(ref)


@router.post("/syncs/{ref}/run", dependencies=[Depends(require_token)])
async def run_sync(ref: str, request: Request) -> dict[str, Any]:
    """Run one sync now and feed what changed to the live engine; the run's summary (games
    fed, rows, stale, error, health)."""
    runs = await request.app.state.service.sync_live_data(ref)
    return {"runs": runs}
