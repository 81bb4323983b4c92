"""Re-playing a recorded (or simulated) play-by-play as a live game.

:class:`ReplaySource` walks a liveData play-by-play in the feed's order, applies each action
to a :class:`~courtside.sources.playbyplay.BoxScoreBuilder` and yields a
:class:`ReplayEvent` (the action, the ids it changed, the box score after it), paced like the
real game at a speed factor. It is an async iterator without background tasks: cancelling
the consumer (or calling :meth:`ReplaySource.stop`) ends it at once and leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from courtside.model import ConfigError, DataError, GameSnapshot, utcnow
from courtside.sources.livedata import parse_feed_time
from courtside.sources.playbyplay import builder_for, clock_seconds, period_seconds

__all__ = ["ReplayEvent", "ReplaySource", "load_json", "real_gap_seconds"]


@dataclass(slots=True, frozen=True)
class ReplayEvent:
    """One step of a replay.

    Attributes:
        action: the liveData action applied, or None for the opening pre-game record.
        changed: ids (personIds, teamIds) whose box score lines changed with it.
        snapshot: the whole box score after it (status 1 before the first action, 2 while
            live, 3 after the game's end).
        index: 0 for the pre-game record, then the action's position (1-based).
        total: the number of actions in the game.
    """

    action: Mapping[str, Any] | None
    changed: frozenset[str]
    snapshot: GameSnapshot
    index: int
    total: int


def load_json(path: str | Path) -> dict[str, Any]:
    """Read a JSON document, with an error that names the file when it cannot."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DataError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: not a readable JSON document ({exc})") from exc


def real_gap_seconds(previous: Mapping[str, Any], action: Mapping[str, Any],
                     regulation_periods: int = 4) -> float:
    """Seconds of real time between two actions: ``timeActual`` when both carry it, else the
    game clock that ran between them (never negative)."""
    before = parse_feed_time(previous.get("timeActual"))
    after = parse_feed_time(action.get("timeActual"))
    if before is not None and after is not None:
        return max(0.0, (after - before).total_seconds())
    p0, p1 = int(previous.get("period") or 1), int(action.get("period") or 1)
    left0 = clock_seconds(previous["clock"]) if previous.get("clock") else period_seconds(p0)
    left1 = clock_seconds(action["clock"]) if action.get("clock") else period_seconds(p1)
    if p0 == p1:
        return max(0.0, left0 - left1)
    return left0 + sum(period_seconds(p, regulation_periods) for p in range(p0 + 1, p1)) + (
        period_seconds(p1, regulation_periods) - left1)


class ReplaySource:
    """A recorded or simulated game re-played as a live feed.

    Args:
        playbyplay: a liveData play-by-play document (``{"game": {"gameId", "actions"}}``).
        boxscore: an optional liveData boxscore document for names, tricodes and starters.
        speed: 1.0 replays in real time, 10.0 ten times faster, 0 as fast as possible.
        max_gap: the longest real pause between two actions, in seconds of game time before
            the speed factor (None: keep halftime and reviews as long as they were).
        source: the name put on every snapshot.
    """

    def __init__(self, playbyplay: Mapping[str, Any], boxscore: Mapping[str, Any] | None = None,
                 *, speed: float = 1.0, max_gap: float | None = None,
                 source: str = "replay") -> None:
        if speed < 0:
            raise ConfigError(f"replay speed must be >= 0 (0 = as fast as possible), got {speed}")
        if max_gap is not None and max_gap < 0:
            raise ConfigError(f"max_gap must be >= 0 seconds, got {max_gap}")
        self.builder, self.actions = builder_for(playbyplay, boxscore)
        self.game_id = self.builder.game_id
        self.speed = speed
        self.max_gap = max_gap
        self.source = source
        self._stop = asyncio.Event()
        self._started = False

    @classmethod
    def from_files(cls, playbyplay: str | Path, boxscore: str | Path | None = None,
                   **options: Any) -> ReplaySource:
        """A replay of a recorded game from its liveData JSON files."""
        return cls(load_json(playbyplay), load_json(boxscore) if boxscore else None, **options)

    @classmethod
    def simulated(cls, seed: int, **options: Any) -> ReplaySource:
        """A replay of the built-in simulator's game for ``seed`` (see ``simulator``)."""
        from courtside.sources.simulator import simulate_game

        game = simulate_game(seed)
        return cls(game.playbyplay, game.boxscore, **options)

    def stop(self) -> None:
        """End the replay: the iterator finishes at its next step, even mid-pause."""
        self._stop.set()

    def snapshot(self) -> GameSnapshot:
        """The box score as far as the replay has got."""
        snap = self.builder.snapshot(source=self.source)
        snap.fetched_at = utcnow()
        return snap

    async def _pause(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)  # let others run even at full speed
            return
        try:
            async with asyncio.timeout(seconds):
                await self._stop.wait()
        except TimeoutError:
            pass

    def _delay(self, previous: Mapping[str, Any] | None, action: Mapping[str, Any]) -> float:
        if previous is None or self.speed == 0:
            return 0.0
        gap = real_gap_seconds(previous, action, self.builder.regulation_periods)
        if self.max_gap is not None:
            gap = min(gap, self.max_gap)
        return gap / self.speed

    async def __aiter__(self) -> AsyncIterator[ReplayEvent]:
        if self._started:
            raise ConfigError("a ReplaySource plays its game once: create a new one to replay again")
        self._started = True
        total = len(self.actions)
        everyone = frozenset(p.id for p in self.builder.snapshot().players) | frozenset(
            (self.builder.home_team_id, self.builder.away_team_id))
        yield ReplayEvent(None, everyone, self.snapshot(), 0, total)
        loop = asyncio.get_running_loop()
        due = loop.time()
        previous = None
        for index, action in enumerate(self.actions, start=1):
            # pace against a schedule, so that time spent by the consumer does not add up
            due += self._delay(previous, action)
            await self._pause(due - loop.time())
            if self._stop.is_set():
                return
            changed = self.builder.apply(action)
            yield ReplayEvent(action, frozenset(changed), self.snapshot(), index, total)
            previous = action
