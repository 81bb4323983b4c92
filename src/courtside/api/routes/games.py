"""``/v1/games``: tracked games and their box scores with formulas."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

router = APIRouter(prefix="/v1/games", tags=["games"])


@router.get("")
async def list_games(request: Request) -> dict[str, Any]:
    """Tracked games: status (1 scheduled, 2 live, 3 final), period, clock, score, stale."""
    games = request.app.state.service.games()
    return {"count": len(games), "games": games}


@router.get("/{game_id}")
async def game_boxscore(game_id: str, request: Request,
                        formulas: str | None = Query(
                            default=None, description="Comma-separated ids to keep, e.g. "
                            "TS_PCT,PER; counting stats are always kept.")) -> dict[str, Any]:
    """A game's summary and every entity's current values (stats and live formulas).

    A finished game retired from live tracking (``finished_game_keep_seconds`` after its end)
    is read from storage and marked ``"archived": true``; 404 when neither has it."""
    wanted = [f.strip() for f in (formulas or "").split(",") if f.strip()] or None
    return await request.app.state.service.find_game_boxscore(game_id, formulas=wanted)
