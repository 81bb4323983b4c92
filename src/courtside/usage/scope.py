"""The interface call in progress, so that code below an interface describes it instead of
recording a second event.

An interface (a REST route, a WebSocket message, an MCP tool, a CLI command, a standalone
Python function) opens :func:`interface_call` around its work: one usage event is recorded when
it ends. The service, which records its own event when called directly, finds the open call
with :func:`current_call` and fills in what only it knows (the formula, the cache hit, a failed
calculation) instead. A context variable carries the call, so concurrent requests on one event
loop never see each other's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = ["current_call", "interface_call"]

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
