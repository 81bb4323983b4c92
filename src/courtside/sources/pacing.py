"""How often a REAL_TIME sync polls, from the state of the games it follows.

Tight while a game is live, a pre-game pace shortly before tip-off, slow otherwise; once
every game is final there is nothing left to change tonight.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from courtside.model import ConfigError

__all__ = ["Pace", "realtime_interval"]


@dataclass(slots=True, frozen=True)
class Pace:
    """Intervals in seconds.

    Attributes:
        live: while any game is in progress.
        pregame: while a game starts within ``pregame_window`` (or should have started).
        idle: games later today, none close.
        final: every game known is over.
        unknown: the source says nothing about games (files, tables).
        pregame_window: how long before tip-off the pre-game pace starts.
    """

    live: float = 1.0
    pregame: float = 30.0
    idle: float = 300.0
    final: float = 900.0
    unknown: float = 5.0
    pregame_window: float = 1800.0

    @classmethod
    def from_options(cls, options: Mapping[str, Any] | None) -> Pace:
        """From a sync config's ``pace`` dict."""
        if not options:
            return cls()
        unknown = set(options) - set(cls.__dataclass_fields__)
        if unknown:
            raise ConfigError(f"unknown pace option(s) {sorted(unknown)}; known: "
                              f"{sorted(cls.__dataclass_fields__)}")
        values = {k: float(v) for k, v in options.items()}
        if any(v <= 0 for v in values.values()):
            raise ConfigError("pace intervals must be positive seconds")
        return cls(**values)


def realtime_interval(games: Iterable[Mapping[str, Any]], now: datetime,
                      pace: Pace | None = None) -> float:
    """Seconds until the next poll, given games as ``{"status": 1|2|3, "start_time": ...}``."""
    pace = pace or Pace()
    games = list(games)
    if not games:
        return pace.unknown
    if any(g.get("status") == 2 for g in games):
        return pace.live
    upcoming = [g for g in games if g.get("status") == 1]
    if not upcoming:
        return pace.final
    best = pace.idle
    for game in upcoming:
        start = game.get("start_time")
        if start is None:
            return pace.pregame
        until = (start - now).total_seconds()
        if until <= pace.pregame_window:
            return pace.pregame
        # Sleep no further than the start of the pre-game window.
        best = min(best, max(pace.pregame, until - pace.pregame_window))
    return best
