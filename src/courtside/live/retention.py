"""Retiring finished games, so a long-running service does not track every game forever.

A game is *finished* once its status is 3 (final). :class:`GameRetention` notes when each
tracked game finished (from the engine's updates) and, from a background loop, retires the
ones finished more than ``keep_seconds`` ago, and the oldest finished ones beyond
``max_finished``: each is saved to storage first (its final box score stays readable there),
then dropped from the engine with its bus state (``LiveEngine.retire_game``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from courtside.live.engine import LiveEngine
from courtside.live.state import EntityUpdate, GameState
from courtside.model import ConfigError

__all__ = ["FINAL", "GameRetention"]

log = logging.getLogger(__name__)

FINAL = 3  # the NBA's game status code of a finished game


class GameRetention:
    """Retires finished games (see the module docstring).

    Args:
        engine: the live engine.
        keep_seconds: how long a finished game stays tracked (None: until ``max_finished``).
        max_finished: finished games kept tracked at most.
        save: stores games' final box scores before they are dropped.
    """

    def __init__(self, engine: LiveEngine, *, keep_seconds: float | None, max_finished: int,
                 save: Callable[[list[GameState]], Awaitable[None]]) -> None:
        if keep_seconds is not None and keep_seconds < 0:
            raise ConfigError(f"finished_game_keep_seconds must be >= 0 or None, "
                              f"got {keep_seconds!r}")
        if max_finished < 0:
            raise ConfigError(f"max_finished_games must be >= 0, got {max_finished!r}")
        self.engine = engine
        self.keep_seconds = keep_seconds
        self.max_finished = max_finished
        self._save = save
        self.finished: dict[str, float] = {}  # gameId -> monotonic time it was seen final
        self.retired = 0
        self._over = asyncio.Event()  # more than max_finished: sweep now, not at the interval

    def observe(self, update: EntityUpdate) -> None:
        """An engine listener: notes games turning final (or live again)."""
        if update.kind != "game":
            return
        state = self.engine.games.get(update.game_id)
        if state is not None and state.status == FINAL:
            self.finished.setdefault(update.game_id, time.monotonic())
            if len(self.finished) > self.max_finished:
                self._over.set()
        else:
            self.finished.pop(update.game_id, None)

    def due(self, now: float | None = None) -> list[str]:
        """The finished games to retire now, oldest first."""
        now = time.monotonic() if now is None else now
        order = sorted(self.finished, key=self.finished.__getitem__)
        over = max(0, len(order) - self.max_finished)
        return [gid for i, gid in enumerate(order)
                if i < over or (self.keep_seconds is not None
                                and now - self.finished[gid] >= self.keep_seconds)]

    async def sweep(self) -> list[str]:
        """Save and retire the games due; returns their ids."""
        due = self.due()
        states = [self.engine.games[g] for g in due if g in self.engine.games]
        saved = {s.game_id: s.version for s in states}
        if states:
            await self._save(states)  # first: a failing save leaves the games tracked
        for game_id in due:
            self.finished.pop(game_id, None)
            state = await self.engine.retire_game(game_id)
            if state is None:
                continue
            if state.version != saved.get(game_id):
                await self._save([state])  # it changed while being saved
            self.retired += 1
            log.info("retired finished game %s from live tracking", game_id)
        return due

    def interval(self) -> float:
        """Seconds between sweeps: often enough for ``keep_seconds``, at most a minute."""
        if self.keep_seconds is None:
            return 60.0
        return min(60.0, max(0.05, self.keep_seconds / 4))

    async def run(self) -> None:
        """Sweep forever (a service background task); a failing sweep is logged."""
        while True:
            try:
                async with asyncio.timeout(self.interval()):
                    await self._over.wait()
            except TimeoutError:
                pass
            self._over.clear()
            try:
                await self.sweep()
            except Exception:  # storage or bus trouble: retry at the next sweep
                log.exception("retiring finished games failed")
