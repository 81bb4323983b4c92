"""Following a live play-by-play that is fetched again and again.

Each poll of a liveData play-by-play returns the whole action list so far. Usually it only
grows, but the NBA also corrects earlier actions in place (a new ``edited`` time: a 2 made
a 3, a rebound given to another player), deletes some and inserts late ones with an
``orderNumber`` between existing ones. :class:`PlayByPlayFollower` applies only the new
actions when the known ones are unchanged, and otherwise rebuilds the box score from the
start (a few milliseconds for a whole game) and reports what differs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from courtside.model import GameSnapshot
from courtside.sources.playbyplay import BoxScoreBuilder, sorted_actions

__all__ = ["PlayByPlayFollower", "changed_entities"]


def _key(action: Mapping[str, Any]) -> tuple[Any, Any, Any]:
    return action.get("actionNumber"), action.get("orderNumber"), action.get("edited")


def changed_entities(before: GameSnapshot, after: GameSnapshot) -> set[str]:
    """Ids of the players and teams whose lines differ between two snapshots of a game."""
    old = {line.id: line.stats for line in (*before.players, *before.teams)}
    new = {line.id: line.stats for line in (*after.players, *after.teams)}
    return {i for i in old.keys() | new.keys() if old.get(i) != new.get(i)}


class PlayByPlayFollower:
    """Keeps a box score current from successive polls of one game's play-by-play.

    Args:
        make_builder: returns a fresh :class:`BoxScoreBuilder` for the game (called again
            whenever earlier actions changed and the box score must be rebuilt).
    """

    def __init__(self, make_builder: Callable[[], BoxScoreBuilder]) -> None:
        self._make_builder = make_builder
        self.builder = make_builder()
        self._applied: list[tuple[Any, Any, Any]] = []
        self.rebuilds = 0

    def update(self, actions: Iterable[Mapping[str, Any]]) -> set[str]:
        """Take the latest full action list; return the ids whose box score lines changed."""
        ordered = sorted_actions(actions)
        keys = [_key(a) for a in ordered]
        done = len(self._applied)
        changed: set[str] = set()
        if keys[:done] == self._applied:
            for action in ordered[done:]:
                changed |= self.builder.apply(action)
        else:
            before = self.builder.snapshot()
            self.builder = self._make_builder()
            for action in ordered:
                self.builder.apply(action)
            changed = changed_entities(before, self.builder.snapshot())
            self.rebuilds += 1
        self._applied = keys
        return changed

    def snapshot(self, *, source: str = "") -> GameSnapshot:
        """The box score as it stands after the last update."""
        return self.builder.snapshot(source=source)
