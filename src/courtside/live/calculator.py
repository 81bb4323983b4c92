"""The real-time calculation path: one formula for explicit inputs, a live entity, or both.

:class:`Calculator` turns a request into a :class:`~courtside.model.RealtimeTask`: it checks
the request, finds the live entity's inputs, serves the result cache (keyed by formula
version, entity and data version), takes the value the live engine already keeps current when
it can, and otherwise evaluates the compiled formula. Each task is counted in the Prometheus
metrics by formula and status, with its latency on the cached or computed path.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from courtside.live.cache import CacheKey, ResultCache, inputs_digest
from courtside.live.engine import LiveEngine
from courtside.live.lookup import parse_entity
from courtside.live.metrics import LiveMetrics
from courtside.live.tasks import TaskTracker
from courtside.model import CalculationStatus, ConfigError, EntityRef, RealtimeTask, utcnow

__all__ = ["UNKNOWN_FORMULA", "Calculator"]

UNKNOWN_FORMULA = "_unknown"
"""The ``formula`` label of calculations asking for a formula the catalog does not have."""

_MISS = object()

EntityArg = EntityRef | str | Mapping[str, Any] | None


class Calculator:
    """Runs real-time calculations as tasks (see the module docstring).

    Args:
        engine: the live engine whose games hold the entities' inputs.
        catalog: returns the current formula catalog (it changes when formulas are defined).
        league: the league context every formula sees.
        cache, tasks, metrics: the service's result cache, task tracker and metrics.
        default_timeout_seconds: a calculation's budget when the caller gives none.
    """

    def __init__(self, engine: LiveEngine, catalog: Callable[[], Any],
                 league: Mapping[str, float], cache: ResultCache, tasks: TaskTracker,
                 metrics: LiveMetrics, default_timeout_seconds: float) -> None:
        self.engine = engine
        self.catalog = catalog
        self.league = league
        self.cache = cache
        self.tasks = tasks
        self.metrics = metrics
        self.default_timeout_seconds = default_timeout_seconds
        self._usage_by_formula: dict[str, int] = {}
        self._compiled_cache: dict[tuple[str, int], Any] = {}
        self._calc_counters: dict[tuple[str, CalculationStatus], Any] = {}
        self._latency = {True: metrics.calculation_seconds.labels("cached"),
                         False: metrics.calculation_seconds.labels("computed")}
        tasks.observers.append(self._observe_task)

    async def calculate(self, formula_id: str, input_data: Mapping[str, Any] | None,
                        entity: EntityArg, use_live_data: bool, cache_result: bool,
                        timeout_seconds: float | None) -> RealtimeTask:
        """The task of one calculation, waiting (within the timeout) for a game without data
        yet. Raises nothing for a failing calculation: the task says why."""
        task, ref, started, problem = self._prepare(formula_id, input_data, entity,
                                                    timeout_seconds)
        if problem:
            return self._reject(task, started, problem)
        live = ref is not None and use_live_data
        if live and ref.game_id is not None and ref.game_id not in self.engine.games \
                and ref.game_id not in self.engine.retired:  # a retired game fails at once
            # The game has no data yet: wait for it, within the task's timeout.
            async def work(task: RealtimeTask) -> float | None:
                task.error = (f"game {ref.game_id} has no data yet (start a sync or replay "
                              "for it)")  # the reason, should the wait time out
                await self.engine.wait_for_game(ref.game_id)
                task.error = None
                return self._evaluate(task, ref, input_data, live, cache_result)

            return await self.tasks.run(task, work)
        return self.tasks.run_sync(
            task, lambda t: self._evaluate(t, ref, input_data, live, cache_result))

    def calculate_now(self, formula_id: str, input_data: Mapping[str, Any] | None,
                      entity: EntityArg, use_live_data: bool, cache_result: bool
                      ) -> RealtimeTask:
        """``calculate`` for synchronous callers: never waits, so a game without data yet
        FAILS instead of waiting."""
        task, ref, started, problem = self._prepare(formula_id, input_data, entity, None)
        live = ref is not None and use_live_data
        if not problem and live and ref.game_id is not None \
                and ref.game_id not in self.engine.games:
            problem = f"game {ref.game_id} has no data yet"
        if problem:
            return self._reject(task, started, problem)
        return self.tasks.run_sync(
            task, lambda t: self._evaluate(t, ref, input_data, live, cache_result))

    def usage_by_formula(self) -> dict[str, int]:
        """Calculations per formula so far (most used first)."""
        return dict(sorted(self._usage_by_formula.items(), key=lambda kv: -kv[1]))

    def _prepare(self, formula_id: str, input_data: Mapping[str, Any] | None,
                 entity: EntityArg, timeout_seconds: float | None
                 ) -> tuple[RealtimeTask, EntityRef | None, float, str | None]:
        """A new task and its parsed entity, or the reason to reject the request."""
        started = time.perf_counter()
        timeout = timeout_seconds if timeout_seconds is not None else \
            self.default_timeout_seconds
        try:
            task = self.tasks.new(str(formula_id), entity=None, timeout_seconds=timeout)
        except ConfigError:
            task = self.tasks.new(str(formula_id), entity=None, timeout_seconds=1.0)
            return task, None, started, (f"timeout_seconds must be a positive number of "
                                         f"seconds, got {timeout_seconds!r}")
        try:
            ref = parse_entity(entity) if entity is not None else None
        except ConfigError as exc:
            return task, None, started, str(exc)
        task.entity = ref.key() if ref else None
        if input_data is not None and not isinstance(input_data, Mapping):
            return task, ref, started, ("input_data must be a mapping of stat name to "
                                        f"number, not {type(input_data).__name__}")
        if ref is None and input_data is None:
            return task, ref, started, ("give input_data (stat name -> value), an entity, "
                                        "or both")
        return task, ref, started, None

    def _reject(self, task: RealtimeTask, started: float, error: str) -> RealtimeTask:
        task.status = CalculationStatus.FAILED
        task.error = error
        self.tasks.note_error(task, ConfigError)  # every rejection is a bad request argument
        task.started_at = task.completed_at = utcnow()
        return self.tasks.record(task, time.perf_counter() - started)

    def _compiled(self, formula: Any) -> Any:
        key = (formula.id, formula.version)
        compiled = self._compiled_cache.get(key)
        if compiled is None:
            compiled = self._compiled_cache[key] = self.catalog().compile(formula.id,
                                                                           self.league)
        return compiled

    def _evaluate(self, task: RealtimeTask, ref: EntityRef | None,
                  input_data: Mapping[str, Any] | None, live: bool,
                  cache_result: bool) -> float | None:
        formula = self.catalog().get(task.formula_id)
        task.formula_id = formula.id
        task.formula_version = formula.version
        self._usage_by_formula[formula.id] = self._usage_by_formula.get(formula.id, 0) + 1
        held: dict[str, Any] = {}
        data_version: Any
        entity_key = None
        explicit = _check_inputs(input_data) if input_data else {}
        if ref is not None and live:
            state, ident = self.engine.find_entity(ref.kind, ref.id, ref.game_id)
            version = state.entity_version(ref.kind, ident)
            held = state.entity_inputs(ref.kind, ident) or {}
            entity_key = f"{ref.kind}:{ident}@{state.game_id}"
            task.entity = entity_key
            task.data_version = version
            data_version = version if not explicit else (version, inputs_digest(explicit))
        elif ref is not None and not explicit:
            raise ConfigError(f"use_live_data=False for {ref.key()} needs input_data: there is "
                              "no other data for the entity")
        else:
            data_version = inputs_digest(explicit)
            entity_key = ref.key() if ref is not None else None
        key = CacheKey(formula.id, formula.version, entity_key, data_version)
        if cache_result:
            cached = self.cache.get(key, _MISS)
            if cached is not _MISS:
                task.cache_hit = True
                self.metrics.cache_hits.inc()
                return cached
            self.metrics.cache_misses.inc()
        live_formula = self.engine.formulas.by_id.get(formula.id)
        if held and not explicit and live_formula is not None \
                and live_formula.version == formula.version and formula.id in held:
            # the engine keeps this value current for this data version (equal to computing it)
            value = held[formula.id]
        else:
            value = self._compute(formula, held, explicit)
        if cache_result:
            self.cache.put(key, value)
        return value

    def _compute(self, formula: Any, held: dict[str, Any], explicit: dict[str, Any]) -> Any:
        compiled = self._compiled(formula)
        inputs = {**self.league, **held, **explicit}
        if not held:
            missing = sorted(n for n in compiled.inputs if n not in inputs)
            if missing:
                raise ConfigError(f"{formula.id} needs {', '.join(missing)}; give them in "
                                  "input_data, or name a live entity")
        return compiled(inputs)

    def _observe_task(self, task: RealtimeTask, elapsed: float) -> None:
        # labelled children memoised: labels() costs more than the calculation itself
        key = (task.formula_id, task.status)
        counter = self._calc_counters.get(key)
        if counter is None:
            # a name outside the catalog (a typo, a probe) must not add a series (and a memo
            # entry) per distinct request: they share one label
            known = task.formula_id in self.catalog()
            counter = self.metrics.calculations.labels(
                task.formula_id if known else UNKNOWN_FORMULA, task.status.value)
            if known:
                self._calc_counters[key] = counter
        counter.inc()
        self._latency[task.cache_hit].observe(elapsed)


def _check_inputs(values: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for name, value in values.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ConfigError(f"input {name!r} must be a number or null, got {value!r}")
        out[str(name)] = value
    return out
