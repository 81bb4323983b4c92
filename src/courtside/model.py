"""The public shapes of courtside: enums, dataclasses and errors.

Pure: no I/O, no asyncio, no globals. Every dataclass round-trips through JSON
(``to_dict``/``from_dict``, ``to_json``/``from_json``): enums travel as their values,
datetimes as ISO 8601 strings in UTC.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum, StrEnum
from typing import Any, Self, TypeVar

__all__ = [
    "CANONICAL_STATS",
    "BatchJob",
    "BatchStatus",
    "CalculationStatus",
    "ConfigError",
    "ConflictError",
    "CourtsideError",
    "DataError",
    "DataSourceType",
    "DataSync",
    "EntityRef",
    "FormulaError",
    "GameSnapshot",
    "HealthState",
    "NotFoundError",
    "PerformanceMetrics",
    "RealtimeTask",
    "ServiceStatus",
    "SourceHealth",
    "StatLine",
    "SyncFrequency",
    "utcnow",
]


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


# --------------------------------------------------------------------------- errors


class CourtsideError(Exception):
    """Base of every error courtside raises on purpose; the message says how to fix it."""

    code = "courtside_error"


class FormulaError(CourtsideError):
    """A formula text or definition is invalid.

    ``column`` is 1-based in the formula text; ``token`` is the offending piece of text.
    """

    code = "invalid_formula"

    def __init__(self, message: str, *, text: str = "", column: int | None = None,
                 token: str | None = None) -> None:
        self.text = text
        self.column = column
        self.token = token
        where = ""
        if column is not None:
            where = f" at column {column}"
            if token:
                where += f" ({token!r})"
        super().__init__(f"{message}{where}")


class DataError(CourtsideError):
    """Input data is malformed: a missing column, an impossible stat line, an unreadable file."""

    code = "invalid_data"


class ConfigError(CourtsideError):
    """A setting, source definition or request argument is invalid."""

    code = "invalid_config"


class ConflictError(ConfigError):
    """A request that the target's current state forbids (cancel a finished job...)."""

    code = "conflict"


class NotFoundError(CourtsideError):
    """A named formula, game, entity, source or job does not exist."""

    code = "not_found"


# --------------------------------------------------------------------------- enums


class DataSourceType(StrEnum):
    """The kinds of data source courtside can sync from."""

    NBA_API = "nba_api"
    CUSTOM_ENDPOINT = "custom_endpoint"
    FILE_SYSTEM = "file_system"
    DATABASE = "database"
    REPLAY = "replay"


class CalculationStatus(StrEnum):
    """The life of one real-time calculation."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    TIMEOUT = "timeout"


class BatchStatus(StrEnum):
    """The life of one batch job."""

    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        """True once the job can no longer change by itself."""
        return self in (BatchStatus.COMPLETED, BatchStatus.FAILED, BatchStatus.CANCELLED)


class SyncFrequency(StrEnum):
    """How often a sync runs. REAL_TIME adapts to the game state."""

    REAL_TIME = "real_time"
    SECOND = "second"
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"

    @property
    def interval_seconds(self) -> float | None:
        """The fixed interval, or None for REAL_TIME (chosen by the scheduler)."""
        return _INTERVALS[self]


_INTERVALS: dict[SyncFrequency, float | None] = {
    SyncFrequency.REAL_TIME: None,
    SyncFrequency.SECOND: 1.0,
    SyncFrequency.MINUTE: 60.0,
    SyncFrequency.HOUR: 3600.0,
    SyncFrequency.DAY: 86400.0,
}


class HealthState(StrEnum):
    """The health of a data source."""

    OK = "ok"
    DEGRADED = "degraded"
    DOWN = "down"


# --------------------------------------------------------------------------- serialisation

T = TypeVar("T")


def _encode(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def _decode(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        for arg in args:
            try:
                return _decode(arg, value)
            except (TypeError, ValueError, KeyError):
                continue
        return value
    if origin is list:
        (item,) = typing.get_args(tp) or (Any,)
        return [_decode(item, v) for v in value]
    if origin is dict:
        _, item = typing.get_args(tp) or (Any, Any)
        return {k: _decode(item, v) for k, v in value.items()}
    if tp is Any:
        return value
    if isinstance(tp, type):
        if issubclass(tp, Enum):
            return tp(value)
        if issubclass(tp, datetime):
            return value if isinstance(value, datetime) else datetime.fromisoformat(value)
        if dataclasses.is_dataclass(tp):
            return tp.from_dict(value)  # type: ignore[attr-defined]
        if tp is float and isinstance(value, int | float):
            return float(value)
        if tp in (int, str, bool, float) and not isinstance(value, tp):
            raise TypeError(f"expected {tp.__name__}, got {type(value).__name__}")
    return value


class _JSONShape:
    """JSON round-trip for the public dataclasses."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: enums as values, datetimes as ISO strings."""
        return _encode(self)

    def to_json(self) -> str:
        """The dataclass as a JSON string."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Rebuild from ``to_dict`` output; unknown keys are rejected."""
        hints = typing.get_type_hints(cls)
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = set(data) - names
        if unknown:
            raise ConfigError(f"{cls.__name__}: unknown field(s) {sorted(unknown)}; "
                              f"expected some of {sorted(names)}")
        return cls(**{k: _decode(hints[k], v) for k, v in data.items()})

    @classmethod
    def from_json(cls, text: str) -> Self:
        """Rebuild from ``to_json`` output."""
        return cls.from_dict(json.loads(text))


# --------------------------------------------------------------------------- live data


@dataclass(slots=True)
class EntityRef(_JSONShape):
    """Names one thing values are computed for.

    Attributes:
        kind: ``player``, ``team`` or ``game``.
        id: the NBA id (personId, teamId, gameId) as a string.
        game_id: the game the entity's values belong to (None for season-level entities).
    """

    kind: str
    id: str
    game_id: str | None = None

    def key(self) -> str:
        """A stable string key such as ``player:203925@0022000001``."""
        return f"{self.kind}:{self.id}" + (f"@{self.game_id}" if self.game_id else "")


CANONICAL_STATS: tuple[str, ...] = (
    "MIN", "PTS", "FGM", "FGA", "FG3M", "FG3A", "FTM", "FTA",
    "OREB", "DREB", "REB", "AST", "STL", "BLK", "TOV", "PF", "PLUS_MINUS",
)
"""The canonical counting stats (stats.nba.com's names), in display order: what a
``StatLine`` carries and what formulas read, for one player or team over a game or season."""


@dataclass(slots=True)
class StatLine(_JSONShape):
    """One player's or team's counting stats in a game, in canonical names.

    Attributes:
        kind: ``player`` or ``team``.
        id: personId or teamId, as a string.
        team_id: the team the line belongs to (the team itself for a team line).
        name: display name (player name, or team tricode).
        stats: canonical stat name to value (MIN in minutes, as a float).
        starter: for players, whether the player started.
    """

    kind: str
    id: str
    team_id: str
    name: str = ""
    stats: dict[str, float] = field(default_factory=dict)
    starter: bool = False


@dataclass(slots=True)
class GameSnapshot(_JSONShape):
    """A normalised box score: what every source hands to the live engine.

    Attributes:
        game_id: the NBA gameId.
        status: NBA game status code: 1 scheduled, 2 live, 3 final.
        period: the current period (0 before the start).
        clock: the game clock as the NBA gives it (``PT05M12.00S``), or "".
        home_team_id, away_team_id: teamIds.
        home_tricode, away_tricode: three-letter team codes.
        players: one line per player who appears in the box score.
        teams: the two team lines (totals, including team rebounds and turnovers).
        data_time: when the data describes (the feed's timestamp), UTC.
        fetched_at: when courtside received it, UTC.
        source: the name of the source that produced it.
        stale: True when the source is failing and this is the last good data.
    """

    game_id: str
    status: int
    period: int
    clock: str
    home_team_id: str
    away_team_id: str
    home_tricode: str = ""
    away_tricode: str = ""
    players: list[StatLine] = field(default_factory=list)
    teams: list[StatLine] = field(default_factory=list)
    data_time: datetime | None = None
    fetched_at: datetime | None = None
    source: str = ""
    stale: bool = False


# --------------------------------------------------------------------------- service shapes


@dataclass(slots=True)
class RealtimeTask(_JSONShape):
    """One real-time calculation and its outcome.

    Attributes:
        task_id: unique id.
        formula_id: the formula computed (catalog id or custom name).
        entity: the live entity's key (``EntityRef.key()``), or None for explicit inputs.
        status: where the calculation is in its life.
        timeout_seconds: the budget; past it the task ends as TIMEOUT.
        created_at, started_at, completed_at: timings, UTC.
        result: the computed value (None for a null result or a failure).
        error: what went wrong, for FAILED and TIMEOUT.
        cache_hit: True when the value came from the result cache.
        data_version: the version of the live data the value was computed from.
        formula_version: the version of the formula definition used.
    """

    task_id: str
    formula_id: str
    entity: str | None = None
    status: CalculationStatus = CalculationStatus.PENDING
    timeout_seconds: float = 5.0
    created_at: datetime = field(default_factory=utcnow)
    started_at: datetime | None = None
    completed_at: datetime | None = None
    result: float | None = None
    error: str | None = None
    cache_hit: bool = False
    data_version: int | None = None
    formula_version: int | None = None

    @property
    def duration_ms(self) -> float | None:
        """Milliseconds from start to completion, once completed."""
        if self.started_at is None or self.completed_at is None:
            return None
        return (self.completed_at - self.started_at).total_seconds() * 1000.0


@dataclass(slots=True)
class BatchJob(_JSONShape):
    """A batch calculation over a frame, files or a query.

    Attributes:
        job_id: unique id.
        formulas: formula ids (or custom names) computed.
        input: a description of the input (path, glob, URL without secrets, ``frame``).
        executor: ``sequential``, ``parallel`` or ``dask``.
        batch_size: rows per chunk (None until chosen).
        status: where the job is in its life.
        total_rows, processed_rows, failed_rows: row counts; failed rows got a null and an error entry.
        chunks_total, chunks_done: chunk counts; resume continues after ``chunks_done``.
        timeout_seconds: the job's budget, or None for none.
        created_at, started_at, completed_at: timings, UTC.
        error: why the job failed or was cancelled.
        result_path: where the results are persisted (Parquet).
        options: executor and input options (cluster address, preset, context), JSON-ready.
    """

    job_id: str
    formulas: list[str]
    input: str
    executor: str = "sequential"
    batch_size: int | None = None
    status: BatchStatus = BatchStatus.QUEUED
    total_rows: int = 0
    processed_rows: int = 0
    failed_rows: int = 0
    chunks_total: int = 0
    chunks_done: int = 0
    timeout_seconds: float | None = None
    created_at: datetime = field(default_factory=utcnow)
    started_at: datetime | None = None
    completed_at: datetime | None = None
    error: str | None = None
    result_path: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def progress(self) -> float:
        """Fraction of rows processed, 0.0 to 1.0."""
        return self.processed_rows / self.total_rows if self.total_rows else 0.0


@dataclass(slots=True)
class SourceHealth(_JSONShape):
    """The health of one source as the scheduler sees it.

    Attributes:
        state: ok, degraded (failing, serving the last good data) or down.
        last_success_at, last_error_at: timings, UTC.
        last_error: the last error's message.
        consecutive_failures: failures since the last success.
        stale_seconds: age of the data being served when degraded.
    """

    state: HealthState = HealthState.OK
    last_success_at: datetime | None = None
    last_error_at: datetime | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    stale_seconds: float | None = None


@dataclass(slots=True)
class DataSync(_JSONShape):
    """A source bound to a frequency: what the scheduler runs.

    Attributes:
        sync_id: unique id.
        name: a human name, unique among syncs.
        source_type: the kind of source.
        frequency: how often it runs.
        config: the source's settings (URL, path, query, mapping...), JSON-ready, no secrets.
        data_types: what it fetches (``scoreboard``, ``boxscore``, ``playbyplay``, ``gamelog``...).
        auto_start: start with the service.
        enabled: False when paused.
        created_at: when it was defined, UTC.
        last_run_at: when it last ran, UTC.
        health: the source's health.
    """

    sync_id: str
    name: str
    source_type: DataSourceType
    frequency: SyncFrequency
    config: dict[str, Any] = field(default_factory=dict)
    data_types: list[str] = field(default_factory=list)
    auto_start: bool = True
    enabled: bool = True
    created_at: datetime = field(default_factory=utcnow)
    last_run_at: datetime | None = None
    health: SourceHealth = field(default_factory=SourceHealth)


@dataclass(slots=True)
class PerformanceMetrics(_JSONShape):
    """Measured figures of the running service.

    Attributes:
        calculations_total, calculations_failed, calculations_timeout: counts since start.
        cache_hits, cache_misses: result cache counts since start.
        latency_p50_ms, latency_p95_ms, latency_p99_ms: calculation latency percentiles.
        updates_published: updates handed to the pub/sub bus.
        messages_dropped: messages coalesced away or lost to slow clients.
        active_subscribers: connected WebSocket and MCP subscribers.
        queue_depth: the deepest client queue right now.
        syncs_total, sync_failures: sync runs and failed sync runs.
        measured_at: when these figures were read, UTC.
    """

    calculations_total: int = 0
    calculations_failed: int = 0
    calculations_timeout: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    latency_p99_ms: float | None = None
    updates_published: int = 0
    messages_dropped: int = 0
    active_subscribers: int = 0
    queue_depth: int = 0
    syncs_total: int = 0
    sync_failures: int = 0
    measured_at: datetime = field(default_factory=utcnow)

    @property
    def cache_hit_rate(self) -> float | None:
        """Hits over lookups, or None before the first lookup."""
        lookups = self.cache_hits + self.cache_misses
        return self.cache_hits / lookups if lookups else None


@dataclass(slots=True)
class ServiceStatus(_JSONShape):
    """What ``get_realtime_service_status`` returns.

    Attributes:
        running: whether the service is started.
        version: courtside's version.
        started_at: when it started, UTC.
        uptime_seconds: seconds since start (0 when stopped).
        sources: one entry per sync: its id, name, type and health.
        games: one entry per tracked game: id, status, period, clock, data version, stale.
        subscribers: connected subscribers.
        cache: result cache figures (size, capacity, ttl_seconds, hits, misses).
        tasks: real-time task counts by status.
        metrics: the measured performance figures.
    """

    running: bool
    version: str
    started_at: datetime | None = None
    uptime_seconds: float = 0.0
    sources: list[dict[str, Any]] = field(default_factory=list)
    games: list[dict[str, Any]] = field(default_factory=list)
    subscribers: int = 0
    cache: dict[str, Any] = field(default_factory=dict)
    tasks: dict[str, int] = field(default_factory=dict)
    metrics: PerformanceMetrics = field(default_factory=PerformanceMetrics)
