"""Feeding the live engine from a replayed or simulated game.

A replay is a :class:`~courtside.sources.replay.ReplaySource` (an async iterator of box
scores, one per play-by-play action); :func:`play_replay` hands each box score to the
service, which recomputes and publishes what changed. :func:`play_simulations` keeps a
simulated game going forever (the next seed starts when a game ends) for the offline default
of ``courtside serve``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from courtside.sources.replay import ReplaySource

__all__ = ["play_replay", "play_simulations", "replay_source"]

log = logging.getLogger(__name__)


def replay_source(playbyplay: Any, boxscore: Any = None, *, speed: float = 1.0,
                  max_gap: float | None = None) -> ReplaySource:
    """A replay of a recorded game: liveData play-by-play (and box score) as paths or
    documents."""
    if isinstance(playbyplay, str | Path):
        return ReplaySource.from_files(playbyplay, boxscore, speed=speed, max_gap=max_gap)
    return ReplaySource(playbyplay, boxscore, speed=speed, max_gap=max_gap)


async def play_replay(service: Any, replay: ReplaySource) -> int:
    """Feed every step of ``replay`` to ``service.ingest_snapshot``; returns the steps fed."""
    steps = 0
    async for event in replay:
        await service.ingest_snapshot(event.snapshot)
        steps += 1
    log.info("replay of game %s finished after %d steps", replay.game_id, steps)
    return steps


async def play_simulations(service: Any, *, seed: int = 1, speed: float = 10.0,
                           games: int | None = None, max_gap: float | None = 30.0) -> int:
    """Replay simulated games one after another (``games`` of them, or forever)."""
    played = 0
    while games is None or played < games:
        replay = ReplaySource.simulated(seed + played, speed=speed, max_gap=max_gap,
                                        source="simulator")
        await play_replay(service, replay)
        played += 1
    return played
