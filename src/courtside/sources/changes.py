"""Change detection: of each new snapshot or row set, keep only what differs from before."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from courtside.model import GameSnapshot, StatLine
from courtside.sources.records import StatRow

__all__ = ["ChangeTracker"]

_HEADER = ("status", "period", "clock", "home_team_id", "away_team_id")


class ChangeTracker:
    """Remembers the last emitted values of every entity and reports only changes."""

    def __init__(self) -> None:
        self._lines: dict[str, tuple] = {}
        self._headers: dict[str, tuple] = {}
        self._rows: dict[str, dict] = {}

    @staticmethod
    def _line_print(line: StatLine) -> tuple:
        return (line.team_id, line.name, line.starter, tuple(sorted(line.stats.items())))

    def snapshot_changes(self, snapshot: GameSnapshot) -> GameSnapshot | None:
        """The snapshot cut down to the lines that changed, or None when nothing did.

        A change of the game header alone (clock, period, status) gives a snapshot
        without lines.
        """
        header = tuple(getattr(snapshot, f) for f in _HEADER)
        header_changed = self._headers.get(snapshot.game_id) != header
        self._headers[snapshot.game_id] = header
        changed: dict[str, list[StatLine]] = {"players": [], "teams": []}
        for group in ("players", "teams"):
            for line in getattr(snapshot, group):
                key = f"{line.kind}:{line.id}@{snapshot.game_id}"
                fp = self._line_print(line)
                if self._lines.get(key) != fp:
                    self._lines[key] = fp
                    changed[group].append(line)
        if not header_changed and not changed["players"] and not changed["teams"]:
            return None
        return dataclasses.replace(snapshot, players=changed["players"], teams=changed["teams"])

    def row_changes(self, rows: Iterable[StatRow]) -> list[StatRow]:
        """The rows whose values differ from the last ones seen under the same key."""
        out = []
        for row in rows:
            if self._rows.get(row.key) != row.values:
                self._rows[row.key] = dict(row.values)
                out.append(row)
        return out
