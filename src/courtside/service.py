"""The real-time calculation service: one object behind every interface.

:class:`RealTimeCalculationService` owns, for one instance: the database (SQLite under the
data directory by default), the live engine and its bus, the result cache, the task tracker,
the Prometheus metrics, and, while it runs, the sync scheduler, the usage tracker and the batch
job manager. It starts and stops them, and offers every operation the interfaces use as one
method, so REST, WebSocket, MCP and CLI handlers stay thin. The work itself is done by parts
with one job each, which the service composes:

- ``courtside.live.formulabook.FormulaBook``: the catalog, custom definitions, lookups;
- ``courtside.live.calculator.Calculator``: one calculation as a task (cache, live values);
- ``courtside.live.games``, ``courtside.live.syncs``, ``courtside.live.status``,
  ``courtside.live.feeds``, ``courtside.live.optimize``: game views and persistence, the sync
  scheduler's side, the reported figures, replays and simulations, tuning.

The standalone functions (``start_realtime_service``, ``calculate_formula_realtime``...) live in
``courtside.realtime`` and ``ServiceConfig`` in ``courtside.config``; both are re-exported here,
as is ``parse_entity`` (``courtside.live.lookup``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Coroutine, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from courtside import __version__
from courtside.config import DEFAULT_TIMEOUT_SECONDS, ServiceConfig, default_data_dir
from courtside.live.background import BackgroundTasks
from courtside.live.bus import Bus, MemoryBus
from courtside.live.cache import ResultCache
from courtside.live.calculator import Calculator
from courtside.live.engine import LiveEngine
from courtside.live.formulabook import FormulaBook
from courtside.live.games import (
    entity_values,
    game_boxscore,
    restore_games,
    save_games,
    save_states,
    stored_boxscore,
)
from courtside.live.league import load_league_context
from courtside.live.lookup import find_entity, parse_entity
from courtside.live.metrics import LiveMetrics
from courtside.live.retention import GameRetention
from courtside.live.state import EntityUpdate
from courtside.live.status import performance
from courtside.live.syncs import feed_engine, run_syncs, source_rows, sync_intervals, sync_rows
from courtside.live.tasks import TaskTracker
from courtside.model import (
    ConfigError,
    EntityRef,
    GameSnapshot,
    NotFoundError,
    PerformanceMetrics,
    RealtimeTask,
    ServiceStatus,
    utcnow,
)
from courtside.realtime import (
    calculate_formula_realtime,
    default_service,
    get_realtime_service_status,
    optimize_realtime_performance,
    process_batch_calculations,
    start_realtime_service,
    stop_realtime_service,
    sync_live_data,
)
from courtside.usage.scope import record_calculation

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "RealTimeCalculationService",
    "ServiceConfig",
    "calculate_formula_realtime",
    "default_data_dir",
    "default_service",
    "get_realtime_service_status",
    "optimize_realtime_performance",
    "parse_entity",
    "process_batch_calculations",
    "start_realtime_service",
    "stop_realtime_service",
    "sync_live_data",
]


log = logging.getLogger(__name__)


class RealTimeCalculationService:
    """One service instance (see the module docstring).

    Args:
        config: the settings; keyword arguments override its fields.
        bus: a bus to use instead of the one the config implies.
        catalog: a formula catalog instead of the built-in one.
    """

    def __init__(self, config: ServiceConfig | None = None, *, bus: Bus | None = None,
                 catalog: Any = None, **overrides: Any) -> None:
        config = config or ServiceConfig()
        if overrides:
            try:
                config = replace(config, **overrides)
            except TypeError as exc:
                raise ConfigError(f"unknown service setting: {exc}") from None
        self.config = config
        self.metrics = LiveMetrics()
        self.cache = ResultCache(config.cache_size, config.cache_ttl_seconds)
        self.tasks = TaskTracker()
        self.league = load_league_context(config.league)
        self.bus: Bus = bus if bus is not None else self._make_bus()
        self.engine = LiveEngine(self.bus, (), self.league)
        self.engine.listeners.append(self._on_update)
        self.retention = GameRetention(
            self.engine, keep_seconds=config.finished_game_keep_seconds,
            max_finished=config.max_finished_games,
            save=lambda states: save_states(states, self.database))
        self.engine.listeners.append(self.retention.observe)
        self.database: Any = None
        self._bus_started = False
        self.scheduler: Any = None
        self.usage: Any = None
        self.jobs: Any = None
        self.started_at = None
        self._started_monotonic: float | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.batch_size: int | None = None  # default rows per chunk (None: chosen per job)
        self._lifecycle = asyncio.Lock()
        self._background = BackgroundTasks()
        self._alert_task: asyncio.Task[Any] | None = None
        self._retention_task: asyncio.Task[None] | None = None
        self.formula_book = FormulaBook(self.engine, self.cache, self.league, catalog,
                                        config.live_formulas)
        self.calculator = Calculator(self.engine, lambda: self.formula_book.catalog, self.league,
                                     self.cache, self.tasks, self.metrics,
                                     config.default_timeout_seconds)
        self.metrics.cache_entries.set_function(lambda: len(self.cache))
        self.metrics.games_tracked.set_function(lambda: len(self.engine.games))
        self.metrics.watch_sources(self.sources)
        self.metrics.watch_engine(lambda: self.engine.evaluations)
        self.engine.recompute_observers.append(self.metrics.recompute_seconds.observe)

    # ------------------------------------------------------------------ lifecycle

    @property
    def running(self) -> bool:
        """True between ``start`` and ``stop``."""
        return self.started_at is not None

    def _make_bus(self) -> Bus:
        if self.config.redis_url:
            from courtside.live.redisbus import RedisBus

            return RedisBus(self.config.redis_url, history=self.config.bus_history)
        return MemoryBus(history=self.config.bus_history)

    @property
    def catalog(self) -> Any:
        """The formula catalog (the built-in one unless another was given)."""
        return self.formula_book.catalog

    async def start(self) -> RealTimeCalculationService:
        """Open the database, the bus and the engines; idempotent.

        When a step fails (an unreachable Redis, an unknown live formula id...), what the
        earlier steps opened is closed again before the error propagates, so nothing is left
        running and ``start`` can be called again.
        """
        async with self._lifecycle:
            if self.running:
                return self
            try:
                await self._open()
            except BaseException:
                await self._close_parts(save=False)
                raise
            self.started_at = utcnow()
            self._started_monotonic = time.monotonic()
            # the service's own housekeeping: not one of background_tasks()
            self._retention_task = asyncio.get_running_loop().create_task(
                self.retention.run(), name="game-retention")
        return self

    async def _open(self) -> None:
        from courtside.batch.jobs import JobManager
        from courtside.sources.scheduler import SyncScheduler
        from courtside.storage.db import Database, default_url
        from courtside.storage.syncs import SyncStore
        from courtside.usage.tracker import UsageTracker

        url = self.config.database_url or default_url(Path(self.config.data_dir).expanduser())
        self.database = Database(url)
        await asyncio.to_thread(self.database.migrate)
        self._bus_started = True
        await self.bus.start()
        await asyncio.to_thread(self.formula_book.restore, self.database)
        await self.formula_book.refresh_engine()
        self._loop = asyncio.get_running_loop()
        self.usage = await asyncio.to_thread(
            lambda: UsageTracker(self.database, migrate=False).start())
        self.jobs = await asyncio.to_thread(JobManager, self.database, self.config.data_dir,
                                            publish=self._publish_from_thread)
        await restore_games(self.engine, self.database, self.config.restore_games_hours)
        self.scheduler = SyncScheduler(
            sink=functools.partial(feed_engine, self.engine, self.metrics),
            store=SyncStore(self.database))
        if self.config.auto_start_syncs:
            await self.scheduler.start()  # a stored sync that cannot start is logged

    async def stop(self) -> None:
        """Finish or cancel background work, close the bus and database; idempotent.

        No asyncio task started by the service outlives this call.
        """
        async with self._lifecycle:
            if not self.running:
                return
            await self._close_parts(save=True)
            self.started_at = None
            self._started_monotonic = None

    async def _close_parts(self, *, save: bool) -> None:
        """Close whatever is open, in reverse order of ``_open`` (also after a failed start,
        when ``save`` is False: a half-started service has nothing of its own to save)."""
        task, self._retention_task = self._retention_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._background.cancel_all()
        if self.scheduler is not None:
            await self.scheduler.stop()
            self.scheduler = None
        if save and self.database is not None:
            await save_games(self.engine, self.database)
        if self.jobs is not None:
            # running jobs are cancelled after their current chunk and marked so
            await asyncio.to_thread(self.jobs.close)
            self.jobs = None
        if self.usage is not None:
            await asyncio.to_thread(self.usage.close)  # writes what is buffered
            self.usage = None
        if self._bus_started:
            await self.bus.close()
            self._bus_started = False
        self._loop = None
        if self.database is not None:
            self.database.dispose()
            self.database = None

    async def __aenter__(self) -> RealTimeCalculationService:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _publish_from_thread(self, topic: str, payload: dict[str, Any]) -> None:
        """Publish from a worker thread (batch job progress) onto the service's loop."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        asyncio.run_coroutine_threadsafe(self.bus.publish(topic, payload), loop)

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        """Run background work owned by the service (cancelled on ``stop``)."""
        if not self.running:
            coro.close()
            raise ConfigError("the service is not started; call start() first")
        return self._background.spawn(coro, name=name)

    def background_tasks(self) -> list[asyncio.Task[Any]]:
        """Background tasks still running."""
        return self._background.running()

    # ------------------------------------------------------------------ formulas

    async def define_formulas(self, definitions: Iterable[str | tuple[str, str]] | str
                              ) -> list[dict[str, Any]]:
        """Add or redefine custom formulas (``NAME=EXPR`` texts or (name, expression) pairs);
        live games compute them at once, and they are stored for the next start.

        Returns the definitions made. A redefinition gets the next version, so cached
        results of the old version are never served.
        """
        return await self.formula_book.define(
            definitions, database=self.database if self.running else None)

    def formula_info(self, name: str) -> dict[str, Any]:
        """A formula's definition (id, expression, version, level, inputs...)."""
        return self.formula_book.formula_info(name)

    def list_formulas(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Every formula's definition (``kind``: stat, step, context or custom, to filter)."""
        return self.formula_book.list_formulas(kind)

    def resolve_names(self, names: Iterable[str]) -> list[str]:
        """Canonical spellings of formula ids, aliases and stat names (for subscription filters).

        Raises NotFoundError naming the first name that is neither.
        """
        return self.formula_book.resolve_names(names)

    # ------------------------------------------------------------------ live data in

    async def ingest_snapshot(self, snapshot: GameSnapshot) -> list[EntityUpdate]:
        """Feed a normalised box score to the live engine (what syncs and replays call)."""
        return await self.engine.apply_snapshot(snapshot)

    async def ingest_action(self, game_id: str, action: Mapping[str, Any]) -> list[EntityUpdate]:
        """Feed one play-by-play action (after ``engine.open_playbyplay``)."""
        return await self.engine.apply_action(game_id, action)

    def _on_update(self, update: EntityUpdate) -> None:
        # A new data version makes older cached values unreachable; free them now.
        self.cache.invalidate_entity(update.key, update.version)
        self.metrics.updates_published.labels(update.kind).inc()

    # ------------------------------------------------------------------ calculating

    async def calculate(self, formula_id: str, input_data: Mapping[str, Any] | None = None, *,
                        entity: EntityRef | str | Mapping[str, Any] | None = None,
                        use_live_data: bool = True, cache_result: bool = True,
                        timeout_seconds: float | None = None, interface: str = "python",
                        client: str | None = None) -> RealtimeTask:
        """One formula for explicit inputs, a live entity, or both (explicit inputs win).

        Records one usage event (tool ``calculate``, the formula, cache hit, outcome):
        interfaces pass their ``interface`` (rest, websocket, mcp, cli) and ``client`` rather
        than recording the call themselves.

        Returns the :class:`RealtimeTask`: COMPLETED with ``result`` (None for a null value,
        e.g. a division by zero), FAILED with ``error`` (unknown formula, bad inputs, unknown
        entity), or TIMEOUT when the value was not ready within ``timeout_seconds`` (e.g. the
        entity's game has no data yet). Raises nothing for a failing calculation.
        """
        task = await self.calculator.calculate(formula_id, input_data, entity, use_live_data,
                                               cache_result, timeout_seconds)
        if self.usage is not None:
            record_calculation(self.usage, task, interface, client)
        return task

    def calculate_now(self, formula_id: str, input_data: Mapping[str, Any] | None = None, *,
                      entity: EntityRef | str | Mapping[str, Any] | None = None,
                      use_live_data: bool = True, cache_result: bool = True) -> RealtimeTask:
        """``calculate`` for synchronous callers (the optimiser, warming): never waits, so a
        game without data yet FAILS instead of waiting. Records no usage event."""
        return self.calculator.calculate_now(formula_id, input_data, entity, use_live_data,
                                             cache_result)

    async def entity_values(self, entity: EntityRef | str | Mapping[str, Any]) -> dict[str, Any]:
        """A live entity's current values (own stats and every live formula)."""
        return entity_values(self.engine, parse_entity(entity))

    def resolve_entity(self, kind: str, query: str, game_id: str | None = None) -> EntityRef:
        """A live player or team by id or name (``"Stephen Curry"``, ``"curry"``, ``"GSW"``),
        in ``game_id`` or the latest tracked game holding it; errors list close names."""
        return find_entity(list(self.engine.games.values()), kind, query, game_id)

    def games(self) -> list[dict[str, Any]]:
        """Tracked games' summaries."""
        return self.engine.summaries()

    def game_boxscore(self, game_id: str, formulas: Iterable[str] | None = None
                      ) -> dict[str, Any]:
        """A tracked game: its summary and every entity's values (a WebSocket snapshot).

        ``formulas`` keeps only those formula values (counting stats are always kept).
        """
        keep = None if formulas is None else self.resolve_names(formulas)
        return game_boxscore(self.engine, game_id, keep)

    async def find_game_boxscore(self, game_id: str, formulas: Iterable[str] | None = None
                                 ) -> dict[str, Any]:
        """``game_boxscore`` of a tracked game, else of a saved one (a finished game retired
        from live tracking, or one saved by the last stop), marked ``"archived": true``;
        NotFoundError when neither has it."""
        keep = None if formulas is None else self.resolve_names(formulas)
        try:
            return game_boxscore(self.engine, game_id, keep)
        except NotFoundError:
            if self.database is None:
                raise
            stored = await stored_boxscore(self.engine, self.database, game_id, keep)
            if stored is None:
                raise
            return stored

    # ------------------------------------------------------------------ status

    def performance(self) -> PerformanceMetrics:
        """The measured figures right now."""
        return performance(self.tasks, self.cache, self.engine, self.bus, self.metrics)

    async def status(self) -> ServiceStatus:
        """Uptime, sources and their health, games, subscribers, cache, tasks, metrics."""
        uptime = (time.monotonic() - self._started_monotonic) if self._started_monotonic else 0.0
        return ServiceStatus(
            running=self.running, version=__version__, started_at=self.started_at,
            uptime_seconds=uptime, sources=self.sources(), games=self.engine.summaries(),
            subscribers=self.bus.subscriber_count(), cache=self.cache.info(),
            tasks=self.tasks.count_by_status(), metrics=self.performance())

    # ------------------------------------------------------------------ syncs

    def sources(self) -> list[dict[str, Any]]:
        """Every running sync's source with its health (what ``/v1/sources`` lists)."""
        return source_rows(self.scheduler)

    def sync_intervals(self) -> dict[str, float]:
        """Seconds between runs of each running sync."""
        return sync_intervals(self.scheduler)

    def syncs(self) -> list[dict[str, Any]]:
        """Every running sync's definition, JSON-ready."""
        return sync_rows(self.scheduler)

    async def add_sync(self, name: str, source_type: str, frequency: str = "real_time",
                       config: Mapping[str, Any] | None = None,
                       data_types: list[str] | None = None, auto_start: bool = True
                       ) -> dict[str, Any]:
        """Define a sync (checked by building its source), persist it and start it."""
        from courtside.sources.scheduler import new_sync

        scheduler = self._require_scheduler_started()
        sync = new_sync(name, source_type, frequency, dict(config or {}), data_types,
                        auto_start)
        return (await scheduler.add(sync)).to_dict()

    async def remove_sync(self, ref: str) -> dict[str, Any]:
        """Stop and forget a sync, by id or name."""
        return (await self._require_scheduler_started().remove(ref)).to_dict()

    async def sync_live_data(self, sync: str | None = None) -> list[dict[str, Any]]:
        """Run one sync now (by id or name), or every stored sync, and feed what changed to the
        live engine; returns one summary per sync run (games fed, rows, stale, error, health).
        One failing sync does not stop the others: its summary carries the error."""
        return await run_syncs(self._require_scheduler_started(), sync)

    def _require_scheduler_started(self) -> Any:
        if self.scheduler is None:
            raise ConfigError("the service is not started; call start() before syncing")
        return self.scheduler

    # ------------------------------------------------------------------ feeds

    def start_replay(self, playbyplay: Any, boxscore: Any = None, *, speed: float = 1.0,
                     max_gap: float | None = None) -> asyncio.Task[Any]:
        """Re-play a recorded game (liveData play-by-play: a path or a document) into the
        live engine as a background task; returns the task (its result: steps fed)."""
        from courtside.live.feeds import play_replay, replay_source

        replay = replay_source(playbyplay, boxscore, speed=speed, max_gap=max_gap)
        return self.spawn(play_replay(self, replay), name=f"replay-{replay.game_id}")

    def start_simulation(self, *, seed: int = 1, speed: float = 10.0,
                         games: int | None = None) -> asyncio.Task[Any]:
        """Play simulated games one after another (forever unless ``games``) into the
        live engine, as a background task."""
        from courtside.live.feeds import play_simulations

        return self.spawn(play_simulations(self, seed=seed, speed=speed, games=games),
                          name=f"simulation-{seed}")

    # ------------------------------------------------------------------ batch jobs

    async def process_batch(self, formulas: str | list[str], data: Any, *,
                            executor: str = "sequential", wait: bool = False,
                            batch_size: int | None = None, **options: Any) -> Any:
        """Submit a batch job to the job manager; returns its ``BatchJob``.

        ``wait=False`` (default) returns the QUEUED job at once; progress is published on
        ``jobs:<jobId>``. Other options (``preset``, ``context``, ``define``,
        ``timeout_seconds``, ``workers``, ``cluster``) are the job manager's.
        """
        jobs = self._require_jobs()
        return await asyncio.to_thread(
            jobs.submit, data, formulas, executor=executor, wait=wait,
            batch_size=batch_size if batch_size is not None else self.batch_size, **options)

    async def batch_status(self, job_id: str) -> Any:
        """A batch job's current ``BatchJob``."""
        return await asyncio.to_thread(self._require_jobs().status, job_id)

    async def cancel_batch(self, job_id: str) -> Any:
        """Cancel a batch job after its current chunk."""
        return await asyncio.to_thread(self._require_jobs().cancel, job_id)

    async def resume_batch(self, job_id: str) -> Any:
        """Continue a failed or cancelled batch job from its last finished chunk, in the
        background; returns the QUEUED job."""
        return await asyncio.to_thread(self._require_jobs().resume, job_id, wait=False)

    async def list_batches(self, status: Any = None, limit: int = 50) -> list[Any]:
        """Batch jobs, newest first (``status``: a ``BatchStatus`` to keep only those)."""
        return await asyncio.to_thread(self._require_jobs().list, status=status, limit=limit)

    async def batch_results(self, job_id: str, *, limit: int = 50,
                            offset: int = 0) -> dict[str, Any]:
        """A batch job's result rows (``limit`` from ``offset``; partial while it runs), the
        errors of those rows and the totals, JSON-ready (see ``JobManager.page``)."""
        jobs = self._require_jobs()

        def read() -> dict[str, Any]:
            job = jobs.status(job_id)
            return {"job_id": job_id, "status": job.status.value,
                    **jobs.page(job_id, offset=offset, limit=limit)}

        return await asyncio.to_thread(read)

    def _require_jobs(self) -> Any:
        if self.jobs is None:
            raise ConfigError("the service is not started; call start() before batch jobs")
        return self.jobs

    # ------------------------------------------------------------------ tuning and usage

    async def optimize(self, *, apply: bool = True) -> dict[str, Any]:
        """Recommendations from the measured metrics; the safe ones applied when ``apply``."""
        from courtside.live.optimize import optimize

        return await optimize(self, apply=apply)

    def usage_database(self) -> Any:
        """The database of the usage events, every buffered event written to it first (so a
        report includes the calls made just before it). It writes to the database: from
        async code call it on a thread, or await ``ausage_database``."""
        self._require_usage()
        self.usage.flush()
        return self.database

    async def ausage_database(self) -> Any:
        """``usage_database`` for async callers: the flush runs on a worker thread."""
        self._require_usage()
        await asyncio.to_thread(self.usage.flush)
        return self.database

    def _require_usage(self) -> None:
        if self.usage is None or self.database is None:
            raise ConfigError("the service is not started; start it to read usage analytics")

    async def optimize_from_usage(self, *, period: str = "hour",
                                  apply: bool = False) -> dict[str, Any]:
        """Actions derived from the period's usage (cache warming, TTL, batch size, sync
        intervals); with ``apply`` they are applied and measured around the same probe
        workload (the recent live calculations), and logged."""
        from courtside.live.optimize import optimize_from_usage

        return await optimize_from_usage(self, period=period, apply=apply)

    def watch_usage_alerts(self, interval: float = 30.0) -> asyncio.Task[Any]:
        """Evaluate the stored alert rules every ``interval`` seconds while the service runs,
        delivering to the ``alerts`` topic, the rules' webhooks and the log (idempotent)."""
        from courtside.usage.alerts import AlertEvaluator

        task = self._alert_task
        if task is not None and not task.done():
            return task

        async def publish(event: Any) -> None:
            await self.bus.publish("alerts", {"type": "alert", **event.to_dict()})

        if interval <= 0:
            raise ConfigError("alert evaluation interval must be > 0 seconds")
        self._require_usage()
        evaluator = AlertEvaluator(self.database, callbacks=[publish])

        async def watch() -> None:
            while True:
                try:
                    # the buffered events first (on a thread: it writes the database), so a
                    # rule sees the calls made just before
                    await asyncio.to_thread(self.usage.flush)
                    await evaluator.aevaluate()
                except Exception:  # a database hiccup must not end the loop
                    log.exception("usage alerts: evaluation failed; retrying in %.0f s",
                                  interval)
                await asyncio.sleep(interval)

        self._alert_task = self.spawn(watch(), name="usage-alerts")
        return self._alert_task

    def usage_by_formula(self) -> dict[str, int]:
        """Calculations per formula since start (most used first)."""
        return self.calculator.usage_by_formula()

