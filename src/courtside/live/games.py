"""The tracked games as the service shows and keeps them.

Views of the live engine's games (an entity's current values, a game's box score with a chosen
set of formulas) and their persistence: every game's box score saved when the service stops
and the recent ones restored when it starts (``courtside.storage.live``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from courtside.live.engine import LiveEngine
from courtside.live.retention import FINAL
from courtside.live.state import GameState
from courtside.model import CourtsideError, EntityRef

__all__ = ["entity_values", "game_boxscore", "restore_games", "save_games", "save_states",
           "stored_boxscore"]

log = logging.getLogger(__name__)


def entity_values(engine: LiveEngine, ref: EntityRef) -> dict[str, Any]:
    """A live entity's description, data version and current values."""
    state, ident = engine.find_entity(ref.kind, ref.id, ref.game_id)
    return {"entity": state.entity_info(ref.kind, ident),
            "version": state.entity_version(ref.kind, ident),
            "values": state.entity_values(ref.kind, ident)}


def game_boxscore(engine: LiveEngine, game_id: str,
                  keep: Iterable[str] | None = None) -> dict[str, Any]:
    """A tracked game's summary and every entity's values; ``keep`` (canonical formula ids)
    drops the other formula values (counting stats are always kept)."""
    return _boxscore(engine, engine.game(game_id), keep)


def _boxscore(engine: LiveEngine, state: GameState,
              keep: Iterable[str] | None) -> dict[str, Any]:
    entities = state.snapshot_entities()
    if keep is not None:
        wanted = set(keep)
        live = {f.id for f in engine.formulas.by_id.values()}
        for entity in entities:
            entity["values"] = {k: v for k, v in entity["values"].items()
                                if k in wanted or k not in live}
    return {"game": state.summary(), "entities": entities}


async def save_games(engine: LiveEngine, database: Any) -> None:
    """Store every game with data (read on the loop, where the engine changes; written on a
    worker thread)."""
    await save_states(list(engine.games.values()), database)


async def save_states(states: list[GameState], database: Any) -> None:
    """Store these games' box scores (those with data; read here, written on a thread)."""
    from courtside.storage.live import LiveGameStore

    games = [(g.to_snapshot(), g.version) for g in states if g.lines]
    if games:
        await asyncio.to_thread(LiveGameStore(database).save, games)


async def stored_boxscore(engine: LiveEngine, database: Any, game_id: str,
                          keep: Iterable[str] | None = None) -> dict[str, Any] | None:
    """A saved game's box score (a game retired from live tracking, or saved by the last
    stop), computed with the engine's live formulas, shaped as ``game_boxscore`` plus
    ``"archived": True``; None when storage has no such game."""
    from courtside.storage.live import LiveGameStore

    saved = await asyncio.to_thread(LiveGameStore(database).get, game_id)
    if saved is None:
        return None
    state = GameState(str(game_id), engine.formulas, engine.league)
    state.apply(saved)
    return {**_boxscore(engine, state, keep), "archived": True}


async def restore_games(engine: LiveEngine, database: Any, hours: float | None) -> None:
    """Feed the games saved within ``hours`` (None: all, 0: none) back to the engine; a game
    that cannot be read is logged and skipped. An unfinished game comes back stale: its
    values are the last ones seen, and stay marked so until a source updates the game."""
    from courtside.storage.live import LiveGameStore

    if hours == 0:
        return
    within = None if hours is None else timedelta(hours=hours)
    for snapshot in await asyncio.to_thread(LiveGameStore(database).load, within):
        if snapshot.status != FINAL:
            # Nothing feeds it yet (the last run's replay or simulation may never come back):
            # without the mark it would show as live and current forever.
            snapshot = dataclasses.replace(snapshot, stale=True)
        try:
            await engine.apply_snapshot(snapshot)
        except CourtsideError as exc:  # one unreadable game must not stop the start
            log.warning("saved game %s not restored: %s", snapshot.game_id, exc)
