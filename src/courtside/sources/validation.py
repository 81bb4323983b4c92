"""Validation of normalised records: schema, box-score invariants, counters going back.

A snapshot that breaks an invariant (FGM > FGA...) is not applied: the game keeps its last
good box score. A counter that goes down (a player's PTS from 12 to 10) is held the same way,
because it is usually a glitch of the feed; the NBA does correct stats downwards though, so
when the same lowered values come back ``confirm_after`` fetches in a row they are accepted
as a correction, and flagged as one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from courtside.model import GameSnapshot, StatLine

__all__ = [
    "COUNTERS",
    "Issue",
    "SnapshotValidator",
    "line_problems",
    "schema_problems",
]

#: Counting stats that never go down during a game (MIN included).
COUNTERS: tuple[str, ...] = ("MIN", "PTS", "FGM", "FGA", "FG3M", "FG3A", "FTM", "FTA",
                             "OREB", "DREB", "REB", "AST", "STL", "BLK", "TOV", "PF")

_REQUIRED: tuple[str, ...] = ("PTS", "FGM", "FGA", "FG3M", "FG3A", "FTM", "FTA", "OREB",
                              "DREB", "REB", "AST", "STL", "BLK", "TOV", "PF")

# (smaller, larger): the first may never exceed the second.
_ORDER: tuple[tuple[str, str], ...] = (("FGM", "FGA"), ("FG3M", "FGM"), ("FG3A", "FGA"),
                                       ("FG3M", "FG3A"), ("FTM", "FTA"))


@dataclass(slots=True, frozen=True)
class Issue:
    """One problem found in a record.

    Attributes:
        entity: what it is about (``game:0022000001``, ``player:203925@0022000001``, a row key).
        rule: ``schema``, ``FGM<=FGA``..., ``REB=OREB+DREB``, ``backwards`` or ``correction``.
        message: what is wrong, in words.
        held: True when the record was not applied because of it.
    """

    entity: str
    rule: str
    message: str
    held: bool = True


def line_problems(stats: Mapping[str, float]) -> list[tuple[str, str]]:
    """Box-score invariants broken by one stat line, as (rule, message) pairs.

    Only the stats present are checked, so partial tabular rows can be validated too.
    """
    out: list[tuple[str, str]] = []
    for name, value in stats.items():
        if name in COUNTERS and value is not None and value < 0:
            out.append((f"{name}>=0", f"{name} is negative ({value:g})"))
    for small, large in _ORDER:
        a, b = stats.get(small), stats.get(large)
        if a is not None and b is not None and a > b:
            out.append((f"{small}<={large}", f"{small} {a:g} > {large} {b:g}"))
    reb, oreb, dreb = stats.get("REB"), stats.get("OREB"), stats.get("DREB")
    if None not in (reb, oreb, dreb) and abs(reb - (oreb + dreb)) > 1e-9:  # type: ignore[operator]
        out.append(("REB=OREB+DREB", f"REB {reb:g} != OREB {oreb:g} + DREB {dreb:g}"))
    return out


def schema_problems(snapshot: GameSnapshot) -> list[str]:
    """What makes a snapshot unusable as a box score at all (empty when it is fine)."""
    out: list[str] = []
    if not snapshot.game_id:
        out.append("no game_id")
    if snapshot.status not in (1, 2, 3):
        out.append(f"status {snapshot.status!r} is not 1 (scheduled), 2 (live) or 3 (final)")
    if not snapshot.home_team_id or not snapshot.away_team_id:
        out.append("home or away team id missing")
    for line in [*snapshot.players, *snapshot.teams]:
        missing = [s for s in _REQUIRED if s not in line.stats]
        if missing:
            out.append(f"{line.kind} {line.id} lacks {', '.join(missing)}")
        bad = [k for k, v in line.stats.items()
               if not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v)]
        if bad:
            out.append(f"{line.kind} {line.id} has non-numeric {', '.join(sorted(bad))}")
    return out


def _key(line: StatLine, game_id: str) -> str:
    return f"{line.kind}:{line.id}@{game_id}"


# Minutes are rebuilt from clock readings; a hundredth of a minute either way is rounding.
_TOLERANCE = {"MIN": 0.02}


def _went_back(prev: StatLine, new: StatLine) -> list[str]:
    return [f"{s} {prev.stats[s]:g}->{new.stats[s]:g}" for s in COUNTERS
            if s in prev.stats and s in new.stats
            and new.stats[s] < prev.stats[s] - _TOLERANCE.get(s, 1e-9)]


class SnapshotValidator:
    """Decides, game by game, whether a new snapshot may replace the last accepted one."""

    def __init__(self, confirm_after: int = 3) -> None:
        self.confirm_after = confirm_after
        # game id -> (fingerprint of the held lowered values, times seen in a row)
        self._pending: dict[str, tuple[tuple, int]] = {}

    def check(self, snapshot: GameSnapshot,
              previous: GameSnapshot | None) -> tuple[bool, list[Issue]]:
        """(accept?, issues). Not accepted means: keep ``previous`` and flag the issues."""
        game = f"game:{snapshot.game_id}"
        schema = schema_problems(snapshot)
        if schema:
            return False, [Issue(game, "schema", "; ".join(schema))]
        issues = [Issue(_key(line, snapshot.game_id), rule, msg)
                  for line in [*snapshot.players, *snapshot.teams]
                  for rule, msg in line_problems(line.stats)]
        if issues:
            return False, issues
        if previous is None:
            self._pending.pop(snapshot.game_id, None)
            return True, []
        before = {_key(line, previous.game_id): line
                  for line in [*previous.players, *previous.teams]}
        back: list[Issue] = []
        for line in [*snapshot.players, *snapshot.teams]:
            key = _key(line, snapshot.game_id)
            old = before.get(key)
            if old is not None and (moves := _went_back(old, line)):
                back.append(Issue(key, "backwards", "counter went down: " + ", ".join(moves)))
        if not back:
            self._pending.pop(snapshot.game_id, None)
            return True, []
        fingerprint = tuple(sorted((i.entity, i.message) for i in back))
        seen_print, seen = self._pending.get(snapshot.game_id, (None, 0))
        seen = seen + 1 if seen_print == fingerprint else 1
        if seen >= self.confirm_after:
            self._pending.pop(snapshot.game_id, None)
            return True, [Issue(i.entity, "correction",
                                f"{i.message} (seen {seen} times in a row: accepted as a "
                                "stat correction)", held=False) for i in back]
        self._pending[snapshot.game_id] = (fingerprint, seen)
        return False, back
