"""REPLAY source: recorded or simulated games re-played as live, polled like any source.

It wraps :class:`~courtside.sources.replay.ReplaySource` (which applies the actions and
keeps the box score) and paces it against the wall clock itself: each fetch applies the
actions whose time has come since the first fetch, at ``speed`` times real time, and returns
the box score of every game. No background task runs between fetches.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from courtside.model import ConfigError, GameSnapshot, utcnow
from courtside.sources.base import Source
from courtside.sources.records import Batch
from courtside.sources.replay import ReplayEvent, ReplaySource, real_gap_seconds

__all__ = ["ReplayAdapter"]


@dataclass
class _Game:
    replay: ReplaySource
    events: AsyncIterator[ReplayEvent]
    offsets: list[float]  # seconds after the start at which each action happens
    applied: int = -1  # -1: not started; 0: the pre-game record; n: n actions applied
    snapshot: GameSnapshot | None = None
    done: bool = False


def _boxscore_beside(pbp: Path) -> Path | None:
    game_id = pbp.stem.split("_", 1)[-1]
    box = pbp.with_name(f"boxscore_{game_id}.json")
    return box if box.exists() else None


class ReplayAdapter(Source):
    """Re-plays games at a speed factor.

    Config keys: ``playbyplay`` (a liveData play-by-play file, or a list of them; the
    ``boxscore_<id>.json`` beside each is used for names and starters), ``boxscore`` (an
    explicit boxscore for a single file), ``seeds`` (simulated games, one per seed),
    ``speed`` (1 = real time, 0 = the whole game at the first fetch), ``max_gap`` (cap of
    one pause, in seconds before the speed factor).
    """

    kind = "replay"

    def __init__(self, name: str, playbyplay: str | Sequence[str] | None = None, *,
                 boxscore: str | None = None, seeds: Sequence[int] | None = None,
                 speed: float = 1.0, max_gap: float | None = None) -> None:
        super().__init__(name)
        files = [playbyplay] if isinstance(playbyplay, str) else list(playbyplay or [])
        if not files and not seeds:
            raise ConfigError("a replay source needs playbyplay (file or list of files) or "
                              "seeds (simulated games)")
        if boxscore and len(files) != 1:
            raise ConfigError("boxscore can only be given with a single playbyplay file")
        if speed < 0:
            raise ConfigError(f"speed must be >= 0 (0 = as fast as possible), got {speed}")
        self.files = [Path(f) for f in files]
        self.boxscore = Path(boxscore) if boxscore else None
        self.seeds = [int(s) for s in seeds or []]
        self.speed = speed
        self.max_gap = max_gap
        self._games: list[_Game] | None = None
        self._started = 0.0

    def _open(self) -> list[_Game]:
        replays = []
        for pbp in self.files:
            box = self.boxscore or _boxscore_beside(pbp)
            replays.append(ReplaySource.from_files(pbp, box, speed=0, source=self.name))
        replays += [ReplaySource.simulated(seed, speed=0, source=self.name)
                    for seed in self.seeds]
        games = []
        for replay in replays:
            offsets, total, previous = [], 0.0, None
            for action in replay.actions:
                if previous is not None:
                    gap = real_gap_seconds(previous, action, replay.builder.regulation_periods)
                    total += gap if self.max_gap is None else min(gap, self.max_gap)
                offsets.append(total)
                previous = action
            games.append(_Game(replay, replay.__aiter__(), offsets))
        return games

    async def _advance(self, game: _Game, elapsed: float) -> None:
        due = len(game.offsets) if self.speed == 0 else sum(
            1 for t in game.offsets if t <= elapsed)
        while not game.done and game.applied < due:
            try:
                event = await anext(game.events)
            except StopAsyncIteration:
                game.done = True
                break
            game.applied = event.index
            game.snapshot = event.snapshot

    async def fetch(self) -> Batch:
        """The box score of every game as far as the replay clock has got."""
        if self._games is None:
            self._games = self._open()
            self._started = time.monotonic()
        elapsed = (time.monotonic() - self._started) * self.speed
        batch = Batch(source=self.name, fetched_at=utcnow())
        for game in self._games:
            await self._advance(game, elapsed)
            if game.snapshot is not None:
                snap = game.snapshot
                snap.fetched_at = batch.fetched_at
                batch.snapshots.append(snap)
        return batch

    def state(self) -> dict[str, Any]:
        """How far each game has got (for status pages)."""
        return {"applied": [g.applied for g in self._games or []]}

    async def aclose(self) -> None:
        """Stop the replays."""
        for game in self._games or []:
            game.replay.stop()
            await game.events.aclose()  # type: ignore[attr-defined]
