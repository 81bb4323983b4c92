"""The connected WebSocket sessions of one app: counts and queue figures for /metrics."""

from __future__ import annotations

from dataclasses import dataclass, field

from courtside.api.ws.session import WebSocketSession

__all__ = ["WebSocketHub"]


@dataclass(slots=True)
class WebSocketHub:
    """Tracks live sessions; closed sessions fold their counts into the totals.

    Attributes:
        sessions: the connected sessions.
        coalesced_closed: updates coalesced away for clients that have left.
        slow_closed: clients closed because they stayed behind.
        connections_total: every connection accepted.
    """

    sessions: set[WebSocketSession] = field(default_factory=set)
    coalesced_closed: int = 0
    slow_closed: int = 0
    connections_total: int = 0

    def add(self, session: WebSocketSession) -> None:
        """A client connected."""
        self.sessions.add(session)
        self.connections_total += 1

    def remove(self, session: WebSocketSession) -> None:
        """A client left; keep its counts."""
        self.sessions.discard(session)
        self.coalesced_closed += session.queue.coalesced
        if session.queue.overflow:
            self.slow_closed += 1

    def clients(self) -> int:
        """Connected clients."""
        return len(self.sessions)

    def subscriptions(self) -> int:
        """Topic subscriptions over every client."""
        return sum(len(s.topics) for s in self.sessions)

    def max_queue_depth(self) -> int:
        """The deepest client queue right now."""
        return max((len(s.queue) for s in self.sessions), default=0)

    def total_queued(self) -> int:
        """Messages waiting over every client."""
        return sum(len(s.queue) for s in self.sessions)

    def coalesced(self) -> int:
        """Updates merged away for slow clients since start."""
        return self.coalesced_closed + sum(s.queue.coalesced for s in self.sessions)
