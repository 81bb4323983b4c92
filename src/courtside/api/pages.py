"""The live game page (``/``) and its static files: plain HTML and JS, no build step."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

__all__ = ["STATIC_DIR", "router"]

STATIC_DIR = Path(__file__).with_name("static")

router = APIRouter(include_in_schema=False)


@router.get("/")
async def live_page() -> FileResponse:
    """The games and a chosen game's box scores, updating over the WebSocket."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html")
