"""Connects WebSocket sessions to the service's metrics and formula catalog."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from courtside.api.ws.hub import WebSocketHub

__all__ = ["ServiceHooks"]


class ServiceHooks:
    """What a session reports to, and checks against, the service."""

    def __init__(self, service: Any) -> None:
        self.service = service
        metrics = service.metrics
        self._sent = metrics.messages_sent
        self._dropped = {reason: metrics.messages_dropped.labels(reason)
                         for reason in ("coalesced", "closed_slow")}
        self._subscribers = metrics.subscribers.labels("websocket")
        self._queue_depth = metrics.queue_depth

    def check_names(self, names: Iterable[str]) -> list[str]:
        """Canonical names of a subscription's filter; raises for a name that is neither a
        formula nor a stat."""
        return self.service.resolve_names(list(names))

    def track(self, tool: str, client: str, resource: str | None) -> Any:
        """A context manager recording one WebSocket call in the usage tracker."""
        from courtside.usage.scope import interface_call

        return interface_call(self.service.usage, tool, interface="websocket", client=client,
                              resource=resource)

    def on_drop(self, reason: str, count: int) -> None:
        """A queue coalesced or discarded messages."""
        if count:
            self._dropped[reason].inc(count)

    def on_sent(self) -> None:
        """A message went out."""
        self._sent.inc()

    def connected(self, hub: WebSocketHub) -> None:
        """A client came or went."""
        self._subscribers.set(hub.clients())
        self.refresh(hub)

    def refresh(self, hub: WebSocketHub) -> None:
        """Update the gauges read at scrape time."""
        self._queue_depth.set(hub.max_queue_depth())
