"""The mission's standalone functions, acting on one default service.

``start_realtime_service`` creates and starts the default service (the other functions start
it on first use); ``stop_realtime_service`` stops and forgets it. Each call is recorded as one
usage event (interface ``python``). ``courtside.service`` re-exports every name here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from courtside import __version__
from courtside.config import DEFAULT_TIMEOUT_SECONDS
from courtside.model import EntityRef, RealtimeTask, ServiceStatus
from courtside.usage.scope import interface_call

if TYPE_CHECKING:
    from courtside.config import ServiceConfig
    from courtside.service import RealTimeCalculationService

__all__ = [
    "calculate_formula_realtime",
    "default_service",
    "get_realtime_service_status",
    "optimize_realtime_performance",
    "process_batch_calculations",
    "start_realtime_service",
    "stop_realtime_service",
    "sync_live_data",
]

T = TypeVar("T")

# The default service: created by start_realtime_service (nothing is created at import).
_default: RealTimeCalculationService | None = None


def default_service() -> RealTimeCalculationService | None:
    """The service the standalone functions use, if one was started."""
    return _default


async def start_realtime_service(config: ServiceConfig | None = None,
                                 **overrides: Any) -> RealTimeCalculationService:
    """Start the default service (idempotent: a running one is returned as is)."""
    # imported here: courtside.service re-exports this module, so a top-level import would cycle
    from courtside.service import RealTimeCalculationService

    global _default
    if _default is None:
        _default = RealTimeCalculationService(config, **overrides)
    return await _default.start()


async def stop_realtime_service() -> None:
    """Stop the default service; idempotent."""
    global _default
    service, _default = _default, None
    if service is not None:
        await service.stop()


def _python_api(fn: Callable[..., Coroutine[Any, Any, T]]
                ) -> Callable[..., Coroutine[Any, Any, T]]:
    """Record each call of a standalone function as one usage event (interface ``python``);
    the service describes it (formula, cache hit) rather than recording a second one."""

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> T:
        service = _default if _default is not None and _default.running else None
        with interface_call(service.usage if service else None, fn.__name__,
                            interface="python"):
            return await fn(*args, **kwargs)

    return wrapper


async def _service() -> RealTimeCalculationService:
    return _default if _default is not None and _default.running else \
        await start_realtime_service()


@_python_api
async def calculate_formula_realtime(formula_id: str, input_data: Mapping[str, Any] | None = None,
                                     *, entity: EntityRef | str | Mapping[str, Any] | None = None,
                                     use_live_data: bool = True, cache_result: bool = True,
                                     timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
                                     ) -> RealtimeTask:
    """Compute one formula now (see ``RealTimeCalculationService.calculate``)."""
    return await (await _service()).calculate(
        formula_id, input_data, entity=entity, use_live_data=use_live_data,
        cache_result=cache_result, timeout_seconds=timeout_seconds)


@_python_api
async def process_batch_calculations(data: Any, formulas: str | list[str], *,
                                     executor: str = "sequential", wait: bool = False,
                                     progress_callback: Any = None, **options: Any) -> Any:
    """Submit a batch calculation to the running service; returns its ``BatchJob``.

    ``data`` and ``formulas`` as for ``courtside.compute``; progress goes to
    ``progress_callback`` and the ``jobs:<jobId>`` topic. Without a running service, use
    ``courtside.batch.run_batch`` (blocking, returns the rows). Other options: see
    ``RealTimeCalculationService.process_batch``.
    """
    return await (await _service()).process_batch(formulas, data, executor=executor, wait=wait,
                                                  progress_callback=progress_callback,
                                                  **options)


@_python_api
async def sync_live_data(sync: str | None = None) -> list[dict[str, Any]]:
    """Run a sync now (see ``RealTimeCalculationService.sync_live_data``)."""
    return await (await _service()).sync_live_data(sync)


@_python_api
async def get_realtime_service_status() -> ServiceStatus:
    """The default service's status (``running=False`` when none is started)."""
    if _default is None:
        return ServiceStatus(running=False, version=__version__)
    return await _default.status()


@_python_api
async def optimize_realtime_performance(*, apply: bool = True) -> dict[str, Any]:
    """Tune the default service from its measured metrics (see ``optimize``)."""
    return await (await _service()).optimize(apply=apply)
