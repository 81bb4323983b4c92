"""How a service instance is set up: :class:`ServiceConfig`, its default data directory and
calculation timeout.

Standard library only, so that reading the defaults costs no import of the service.
``courtside.service`` re-exports these names.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["DEFAULT_TIMEOUT_SECONDS", "ServiceConfig", "default_data_dir"]

DEFAULT_TIMEOUT_SECONDS = 5.0  # a calculation's budget when neither caller nor config gives one


def default_data_dir() -> Path:
    """``$COURTSIDE_DATA_DIR``, else ``~/.courtside``."""
    return Path(os.environ.get("COURTSIDE_DATA_DIR") or Path.home() / ".courtside")


@dataclass(slots=True)
class ServiceConfig:
    """How a service instance is set up.

    Attributes:
        data_dir: where the SQLite database and job results live.
        database_url: a SQLAlchemy URL instead of the SQLite default (PostgreSQL for several
            instances).
        redis_url: use a RedisBus on this URL (fan-out across instances) instead of the
            in-process bus.
        bus_history: messages kept per topic for WebSocket ``resume``.
        cache_size, cache_ttl_seconds: the result cache bounds.
        default_timeout_seconds: a calculation's budget when the caller gives none.
        league: league context for live games: a mapping, a JSON file, or None for the
            shipped default season.
        live_formulas: ids the live engine keeps current; None for every published and
            custom formula.
        auto_start_syncs: start the persisted syncs with the service.
        restore_games_hours: on start, restore the games saved by the last stop within this
            many hours (None: all, 0: none).
        finished_game_keep_seconds: a final game is retired from live tracking (dropped from
            the engine, its bus topics freed) this long after it ends (None: only past
            ``max_finished_games``); its final box score stays readable from storage.
        max_finished_games: finished games kept tracked at most (the oldest retired first).
    """

    data_dir: Path = field(default_factory=default_data_dir)
    database_url: str | None = None
    redis_url: str | None = None
    bus_history: int = 1000
    cache_size: int = 10_000
    cache_ttl_seconds: float | None = 300.0
    default_timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    league: Mapping[str, float] | str | Path | None = None
    live_formulas: list[str] | None = None
    auto_start_syncs: bool = True
    restore_games_hours: float | None = 24.0
    finished_game_keep_seconds: float | None = 3600.0
    max_finished_games: int = 100
