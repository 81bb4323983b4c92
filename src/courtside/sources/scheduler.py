"""The sync scheduler: runs every DataSync on its own asyncio task, on its own clock.

Each run fetches with a timeout, passes the batch through the sync's pipeline (validation,
hold, change detection), updates the source's health, persists it, and hands the update to
the sink. A sync that fails, hangs or has a slow sink only delays itself: no run waits on
another sync's run.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from courtside.model import (
    ConfigError,
    DataSourceType,
    DataSync,
    NotFoundError,
    SourceHealth,
    SyncFrequency,
    utcnow,
)
from courtside.sources.base import Source
from courtside.sources.health import HealthTracker
from courtside.sources.pacing import Pace, realtime_interval
from courtside.sources.pipeline import Current, SyncPipeline, SyncUpdate
from courtside.sources.registry import build_source

__all__ = ["RunSettings", "Sink", "SyncScheduler", "new_sync", "run_settings"]

log = logging.getLogger(__name__)

Sink = Callable[[SyncUpdate], Awaitable[None] | None]


def new_sync(name: str, source_type: DataSourceType | str,
             frequency: SyncFrequency | str = SyncFrequency.REAL_TIME,
             config: dict[str, Any] | None = None, data_types: list[str] | None = None,
             auto_start: bool = True) -> DataSync:
    """A DataSync with a fresh id, its config checked by building (not starting) its source."""
    sync = DataSync(sync_id=uuid.uuid4().hex[:12], name=name,
                    source_type=DataSourceType(source_type), frequency=SyncFrequency(frequency),
                    config=dict(config or {}), data_types=list(data_types or []),
                    auto_start=auto_start)
    build_source(sync)
    run_settings(sync)
    return sync


@dataclass(frozen=True, slots=True)
class RunSettings:
    """How the scheduler runs one sync, from the ``SCHEDULER_KEYS`` of its config."""

    interval: float | None
    timeout: float
    pace: Pace
    confirm_after: int
    down_after: int


def run_settings(sync: DataSync) -> RunSettings:
    """The scheduler's settings of a sync; ConfigError names a bad value.

    Checked when a sync is defined: a bad value stored would otherwise stop the sync, and
    the service start that restores it, with a bare ValueError.
    """
    cfg = sync.config

    def number(key: str, default: float, kind: type = float) -> Any:
        raw = cfg.get(key, default)
        try:
            value = kind(raw)
        except (TypeError, ValueError):
            value = None
        if value is None or isinstance(raw, bool) or value <= 0:
            raise ConfigError(f"sync {sync.name!r}: {key} must be a positive "
                              f"{'whole ' if kind is int else ''}number, got {raw!r}")
        return value

    if not isinstance(cfg.get("pace") or {}, dict):
        raise ConfigError(f"sync {sync.name!r}: pace must be an object of intervals, e.g. "
                          '{"live": 2, "idle": 600}')
    try:
        pace = Pace.from_options(cfg.get("pace"))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"sync {sync.name!r}: pace intervals must be numbers: {exc}") from exc
    return RunSettings(
        interval=(number("interval_seconds", 1.0) if "interval_seconds" in cfg
                  else sync.frequency.interval_seconds),
        timeout=number("timeout_seconds", 20.0), pace=pace,
        confirm_after=number("confirm_after", 3, int), down_after=number("down_after", 10, int))


@dataclass
class _Running:
    sync: DataSync
    source: Source
    pipeline: SyncPipeline
    health: HealthTracker
    pace: Pace
    timeout: float
    interval: float | None
    task: asyncio.Task | None = None
    runs: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class SyncScheduler:
    """Starts, runs and stops syncs; persists them when given a store."""

    def __init__(self, sink: Sink | None = None, store: Any | None = None, *,
                 sink_timeout: float = 5.0,
                 source_factory: Callable[[DataSync], Source] = build_source) -> None:
        self.sink = sink
        self.store = store
        self.source_factory = source_factory
        self.sink_timeout = sink_timeout
        self._running: dict[str, _Running] = {}

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> list[str]:
        """Start every stored sync with auto_start and enabled set; returns their names."""
        if self.store is None:
            return []
        syncs = await asyncio.to_thread(self.store.list)
        started = []
        for sync in syncs:
            if sync.auto_start and sync.enabled:
                try:
                    await self.start_sync(sync)
                    started.append(sync.name)
                except ConfigError as exc:
                    # One broken definition must not keep the others from starting.
                    log.error("sync %s not started: %s", sync.name, exc)
        return started

    async def add(self, sync: DataSync, *, start: bool = True) -> DataSync:
        """Persist a new sync (when there is a store) and start it."""
        self.source_factory(sync)  # a bad definition fails here, before it is stored
        run_settings(sync)
        if self.store is not None:
            await asyncio.to_thread(self.store.add, sync)
        if start and sync.enabled:
            await self.start_sync(sync)
        return sync

    def _entry(self, sync: DataSync, state: dict[str, Any] | None) -> _Running:
        settings = run_settings(sync)
        source = self.source_factory(sync)
        if state:
            source.restore(state)
        return _Running(sync=sync, source=source,
                        pipeline=SyncPipeline(sync.sync_id, sync.name, settings.confirm_after),
                        health=HealthTracker(sync.health, settings.down_after),
                        pace=settings.pace, timeout=settings.timeout,
                        interval=settings.interval)

    async def start_sync(self, sync: DataSync) -> None:
        """Run a sync in its own task until stopped."""
        if sync.sync_id in self._running and self._running[sync.sync_id].task:
            return
        state = await asyncio.to_thread(self.store.state, sync.sync_id) if self.store else {}
        entry = self._running.get(sync.sync_id) or self._entry(sync, state)
        self._running[sync.sync_id] = entry
        entry.task = asyncio.create_task(self._loop(entry), name=f"sync:{sync.name}")

    async def stop_sync(self, ref: str) -> None:
        """Stop a running sync and release its source."""
        entry = self._find(ref)
        del self._running[entry.sync.sync_id]
        if entry.task is not None:
            entry.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await entry.task
        await entry.source.aclose()

    async def remove(self, ref: str) -> DataSync:
        """Stop a sync and delete its definition."""
        sync = None
        with contextlib.suppress(NotFoundError):
            sync = self._find(ref).sync
            await self.stop_sync(ref)
        if self.store is not None:
            sync = await asyncio.to_thread(self.store.remove, ref)
        if sync is None:
            raise NotFoundError(f"no sync {ref!r}")
        return sync

    async def stop(self) -> None:
        """Stop every sync; one whose source fails to close does not keep the others running."""
        for sync_id in list(self._running):
            try:
                await self.stop_sync(sync_id)
            except Exception as exc:
                log.warning("sync %s: could not release its source: %s: %s", sync_id,
                            type(exc).__name__, exc)

    async def __aenter__(self) -> SyncScheduler:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ queries

    def _find(self, ref: str) -> _Running:
        for entry in self._running.values():
            if ref in (entry.sync.sync_id, entry.sync.name):
                return entry
        raise NotFoundError(f"no running sync {ref!r}; running: "
                            f"{', '.join(e.sync.name for e in self._running.values()) or 'none'}")

    def syncs(self) -> list[DataSync]:
        """The syncs running now, their health current."""
        return [e.sync for e in self._running.values()]

    def health(self, ref: str) -> SourceHealth:
        """The health of a running sync's source."""
        return self._find(ref).health.health

    def current(self, ref: str) -> Current:
        """The data a running sync serves now (last good data marked stale when failing)."""
        return self._find(ref).pipeline.current()

    # ------------------------------------------------------------------ running

    def next_interval(self, ref: str) -> float:
        """Seconds until the sync's next run."""
        entry = self._find(ref)
        if entry.interval is not None:
            return entry.interval
        return realtime_interval(entry.pipeline.game_states(), utcnow(), entry.pace)

    async def run_once(self, ref: str | DataSync) -> SyncUpdate:
        """Run a sync once now (starting its source if it is not running) and return the update."""
        if isinstance(ref, str) and self.store is not None:
            try:
                self._find(ref)
            except NotFoundError:
                ref = await asyncio.to_thread(self.store.get, ref)
        if isinstance(ref, DataSync):
            if ref.sync_id not in self._running:
                state = (await asyncio.to_thread(self.store.state, ref.sync_id)
                         if self.store is not None else None)
                self._running[ref.sync_id] = self._entry(ref, state)
            ref = ref.sync_id
        return await self._run(self._find(ref))

    async def _loop(self, entry: _Running) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await self._run(entry)
            interval = self.next_interval(entry.sync.sync_id)
            # Interval measured start to start, so a slow fetch does not stretch the cadence.
            await asyncio.sleep(max(0.0, interval - (loop.time() - started)))

    async def _run(self, entry: _Running) -> SyncUpdate:
        async with entry.lock:
            entry.runs += 1
            try:
                async with asyncio.timeout(entry.timeout):
                    batch = await entry.source.fetch()
                # Inside the try: a batch the pipeline cannot take (a source's bug) is this
                # run's failure, not the end of the sync's task.
                update = entry.pipeline.accept(batch, entry.source.issues)
            except asyncio.CancelledError:
                raise
            except TimeoutError:
                update = self._failed(entry, f"no answer within {entry.timeout:g}s (timeout)")
            except Exception as exc:
                update = self._failed(entry, f"{type(exc).__name__}: {exc}")
            else:
                entry.health.success(batch.fetched_at, update.error,
                                     entry.pipeline.stale_since())
                if update.error:
                    update.age_seconds = entry.health.health.stale_seconds
            update.health = entry.health.health
            entry.sync.health = entry.health.health
            entry.sync.last_run_at = utcnow()
            await self._persist(entry)
            if not update.empty:
                await self._deliver(update)
            return update

    def _failed(self, entry: _Running, error: str) -> SyncUpdate:
        now = utcnow()
        update = entry.pipeline.fail(error, now)
        entry.health.failure(now, error, entry.pipeline.last_good_at)
        return update

    async def _persist(self, entry: _Running) -> None:
        if self.store is None:
            return
        try:
            await asyncio.to_thread(self.store.record_run, entry.sync.sync_id,
                                    last_run_at=entry.sync.last_run_at,
                                    health=entry.health.health, state=entry.source.state())
        except Exception as exc:  # the sync keeps running without its bookkeeping
            log.warning("sync %s: could not save its health: %s", entry.sync.name, exc)

    async def _deliver(self, update: SyncUpdate) -> None:
        if self.sink is None:
            return
        try:
            result = self.sink(update)
            if inspect.isawaitable(result):
                async with asyncio.timeout(self.sink_timeout):
                    await result
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("sync %s: the sink failed: %s: %s", update.name, type(exc).__name__, exc)
