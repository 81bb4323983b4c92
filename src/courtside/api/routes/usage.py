"""The usage dashboard: the page (``/usage``) and the data it polls (``/v1/usage/dashboard``)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["usage"])

DATA_URL = "/v1/usage/dashboard"


@router.get("/usage", include_in_schema=False)
async def usage_page() -> HTMLResponse:
    """Charts of the recorded usage with period and client filters, refreshed live."""
    from courtside.usage.dashboard import render_dashboard

    return HTMLResponse(render_dashboard(DATA_URL))


@router.get(DATA_URL)
async def usage_dashboard(request: Request,
                          period: str = Query("day", description="hour, day, week, month, "
                                              "all, or a span such as 6h, 7d."),
                          client: str | None = Query(None, description="Only this client.")
                          ) -> dict[str, Any]:
    """Patterns, insights and the known clients of a period: what the dashboard draws."""
    from courtside.usage.dashboard import dashboard_data

    service = request.app.state.service

    def read() -> dict[str, Any]:
        return dashboard_data(service.usage_database(), period=period, client=client,
                              known_formulas=[f.id for f in service.catalog])

    return await asyncio.to_thread(read)
