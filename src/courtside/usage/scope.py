"""The interface call in progress, so that code below an interface describes it instead of
recording a second event.

An interface (a REST route, a WebSocket message, an MCP tool, a CLI command, a standalone
Python function) opens :func:`interface_call` around its work: one usage event is recorded when
it ends. The service, which records its own event when called directly, finds the open call
with :func:`current_call` and fills in what only it knows (the formula, the cache hit, a failed
calculation) instead. A context variable carries the call, so concurrent requests on one event
loop never see each other's. :func:`record_calculation` does either for a service calculation.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from courtside.model import CalculationStatus, ConfigError, RealtimeTask
from courtside.usage.events import Interface, Outcome, UsageEvent

__all__ = ["current_call", "interface_call", "record_calculation"]

_current: ContextVar[Any] = ContextVar("courtside_usage_call", default=None)


def current_call() -> Any:
    """The ``CallRecord`` of the interface call this code runs in, or None."""
    return _current.get()


@contextmanager
def interface_call(tracker: Any, tool: str, *, interface: str, client: str | None = None,
                   formula: str | None = None, resource: str | None = None) -> Iterator[Any]:
    """Record the ``with`` body as one call of ``tool`` through ``interface``.

    ``tracker`` is a ``UsageTracker`` or None (nothing is recorded: the service is stopped).
    Yields the call's record (or None) on which the body may set ``formula``, ``cache_hit``,
    ``items``, ``client`` or call ``fail(code)``; an exception is recorded and re-raised.
    """
    if tracker is None:
        yield None
        return
    with tracker.track(tool, interface=interface, client=client, formula=formula,
                       resource=resource) as call:
        token = _current.set(call)
        try:
            yield call
        finally:
            _current.reset(token)


def record_calculation(tracker: Any, task: RealtimeTask, interface: str,
                       client: str | None) -> None:
    """Describe the open interface call with ``task`` (formula, cache hit, a failure), or,
    when there is none, record the calculation as its own event (tool ``calculate``)."""
    outer = current_call()
    if outer is not None:
        # An interface records this call as one event: describe it rather than add another.
        outer.formula = outer.formula or task.formula_id
        outer.cache_hit = task.cache_hit
        if task.entity and "@" in task.entity and outer.resource is None:
            outer.resource = f"game:{task.entity.partition('@')[2]}"
        if task.status is not CalculationStatus.COMPLETED:
            outer.fail(task.status.value, timeout=task.status is CalculationStatus.TIMEOUT)
        return
    outcome = {CalculationStatus.COMPLETED: Outcome.OK,
               CalculationStatus.TIMEOUT: Outcome.TIMEOUT}.get(task.status, Outcome.ERROR)
    try:
        via = Interface(interface)
    except ValueError:
        raise ConfigError(f"interface {interface!r} is not one of "
                          f"{[i.value for i in Interface]}") from None
    game = task.entity.partition("@")[2] if task.entity else ""
    tracker.record(UsageEvent(
        client=client or "anonymous", interface=via, tool="calculate",
        started_at=task.started_at or task.created_at, duration_ms=task.duration_ms or 0.0,
        outcome=outcome, formula=task.formula_id,
        resource=f"game:{game}" if game else None,
        error_code=None if outcome is Outcome.OK else task.status.value,
        cache_hit=task.cache_hit))
