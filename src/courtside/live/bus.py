"""Pub/sub for live values: topics, per-topic sequence numbers, history and latest state.

Topics (``topic_for`` builds them): ``game:<gameId>``, ``player:<personId>``,
``team:<teamId>``, ``scoreboard``, ``jobs:<jobId>``, ``alerts``.

Contract shared by every backend (the WebSocket endpoint, MCP and tests rely on it):

- ``await bus.publish(topic, payload) -> seq``: ``payload`` is a JSON-ready dict; ``seq``
  starts at 1 per topic and increases by exactly one per publish (across every instance that
  shares a Redis). The bus never modifies the payload. ``publish_many([(topic, payload),
  ...])`` does the same for a batch, in order (one round trip on Redis).
- ``bus.subscribe(topic) -> Subscription``: an async iterator of ``(seq, payload)`` in seq
  order, starting with the first message published after the call. Its buffer is bounded
  (``maxsize``): when a consumer falls that far behind, the oldest buffered message is dropped,
  ``Subscription.dropped`` counts it and the consumer sees a seq gap, which ``resume`` can
  fill from history. ``close()`` ends the iteration.
- ``await bus.resume(topic, after_seq) -> list[(seq, payload)]``: the messages after
  ``after_seq`` from a bounded per-topic history (``history`` messages). Raises
  :class:`HistoryGap` when the history no longer reaches back that far, or when
  ``after_seq`` is past the topic's seq (a client of an earlier run): send a snapshot.
- ``await bus.latest(topic) -> TopicState``: the topic's seq and merged state at that seq. For
  entity updates (payloads with ``"entity": {"kind", "id", ...}`` and ``"values"``) the state
  holds every entity's latest values, merged (later values win); for other payloads it holds
  the last payload. A WebSocket ``snapshot`` is built from it; the race-free order is:
  subscribe, then ``latest``, then skip buffered messages with ``seq <= state.seq``.
- ``await bus.forget(topic, entities=None)``: free a topic's history and merged state (a
  game retired from live tracking), or with ``entities`` (entity keys) only those entities'
  state (a retired game's entity on ``scoreboard``). The seq counter survives while someone
  may still be subscribed (a later publish continues it, so a subscriber never sees seqs go
  back); a ``resume`` from before the forget gets :class:`HistoryGap`.

The engine's update payload (what ``courtside.live.engine`` publishes) is::

    {"entity": {"kind": "player"|"team"|"game", "id": "...", "game_id": "...", ...},
     "values": {"PTS": 12.0, "TS_PCT": 0.61, ...},   # changed values only
     "data_time": "2020-12-22T23:10:05+00:00" | None, "sent_at": "...isoformat..."}

so a WebSocket ``update`` message is ``{"type": "update", "topic": topic, "seq": seq,
**payload}``.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from courtside.model import ConfigError

__all__ = [
    "TOPIC_KINDS",
    "Bus",
    "HistoryGap",
    "MemoryBus",
    "Message",
    "Subscription",
    "TopicState",
    "entity_key",
    "topic_for",
    "validate_topic",
]

Message = tuple[int, dict[str, Any]]
"""``(seq, payload)`` as delivered to subscribers and returned by ``resume``."""

TOPIC_KINDS = ("game", "player", "team", "scoreboard", "jobs", "alerts")
_BARE_TOPICS = {"scoreboard", "alerts"}


def topic_for(kind: str, ident: str | int | None = None) -> str:
    """The topic name for a kind and id: ``topic_for("game", "0022000001")``."""
    topic = kind if ident is None else f"{kind}:{ident}"
    validate_topic(topic)
    return topic


def validate_topic(topic: str) -> str:
    """Return ``topic`` if it names a known topic, else raise a ConfigError saying why."""
    if not isinstance(topic, str):
        raise ConfigError(f"a topic is a string such as 'game:0022000001', not {topic!r}")
    if topic in _BARE_TOPICS:
        return topic
    kind, sep, ident = topic.partition(":")
    if kind in _BARE_TOPICS and not sep:
        return topic
    if kind not in TOPIC_KINDS or kind in _BARE_TOPICS or not sep:
        raise ConfigError(f"unknown topic {topic!r}: expected one of game:<gameId>, "
                          "player:<personId>, team:<teamId>, scoreboard, jobs:<jobId>, alerts")
    if not ident or len(ident) > 64 or not all(c.isalnum() or c in "-_." for c in ident):
        raise ConfigError(f"topic {topic!r}: the id after '{kind}:' must be 1 to 64 letters, "
                          "digits, '-', '_' or '.'")
    return topic


def entity_key(entity: dict[str, Any]) -> str:
    """The state key of an entity dict: ``player:203925``."""
    return f"{entity['kind']}:{entity['id']}"


class HistoryGap(LookupError):
    """``resume`` cannot fill the gap: the history no longer holds messages that old."""

    code = "resume_gap"

    def __init__(self, topic: str, after_seq: int, oldest: int | None,
                 latest: int | None = None) -> None:
        self.topic, self.after_seq, self.oldest = topic, after_seq, oldest
        if latest is not None and after_seq > latest:
            # e.g. a server restarted with a memory bus: its seqs began again at 1
            where = f"the topic is only at seq {latest}"
        else:
            where = f"the history starts at seq {oldest}"
        super().__init__(f"{topic}: cannot resume after seq {after_seq}; {where}; subscribe "
                         "again to get a fresh snapshot")


@dataclass(slots=True)
class TopicState:
    """A topic at one seq: merged entity values and the last payload.

    Attributes:
        topic: the topic.
        seq: the seq of the last message merged in (0 when nothing was published).
        entities: entity key -> ``{"kind", "id", ..., "values": {...}}`` with the latest values.
        last: the last payload published (any shape), or None.
    """

    topic: str
    seq: int = 0
    entities: dict[str, dict[str, Any]] = field(default_factory=dict)
    last: dict[str, Any] | None = None

    def merge(self, seq: int, payload: dict[str, Any]) -> None:
        """Fold one published payload into the state."""
        self.seq = seq
        self.last = payload
        entity = payload.get("entity")
        values = payload.get("values")
        if isinstance(entity, dict) and isinstance(values, dict) and "kind" in entity:
            key = entity_key(entity)
            current = self.entities.get(key)
            if current is None:
                current = self.entities[key] = {**entity, "values": {}}
            else:
                current.update({k: v for k, v in entity.items() if k != "values"})
            current["values"].update(values)

    def snapshot_entities(self) -> list[dict[str, Any]]:
        """The entities as a list (copies), ready for a WebSocket ``snapshot`` message."""
        return [{**e, "values": dict(e["values"])} for e in self.entities.values()]


class Subscription:
    """One subscriber's bounded buffer on one topic; an async iterator of ``(seq, payload)``.

    Attributes:
        topic: the topic.
        maxsize: the buffer bound; past it the oldest message is dropped.
        dropped: messages dropped because the consumer was behind.
        closed: True after ``close()``.
        on_message: when set, ``deliver`` hands each message to this callable at once
            (synchronously, in publish order) instead of buffering it: for consumers with
            their own non-blocking queue (the WebSocket sessions), one task hop less.
    """

    def __init__(self, topic: str, maxsize: int, on_close: Any = None,
                 on_message: Callable[[int, dict[str, Any]], None] | None = None) -> None:
        if maxsize < 1:
            raise ConfigError(f"subscription maxsize must be at least 1, got {maxsize}")
        self.topic = topic
        self.maxsize = maxsize
        self.dropped = 0
        self.closed = False
        self._buffer: deque[Message] = deque()
        self._ready = asyncio.Event()
        self._on_close = on_close
        self.on_message = on_message

    def deliver(self, seq: int, payload: dict[str, Any]) -> None:
        """Called by the bus; never blocks the publisher."""
        if self.closed:
            return
        if self.on_message is not None:
            self.on_message(seq, payload)
            return
        if len(self._buffer) >= self.maxsize:
            self._buffer.popleft()
            self.dropped += 1
        self._buffer.append((seq, payload))
        self._ready.set()

    def qsize(self) -> int:
        """Messages buffered and not yet read."""
        return len(self._buffer)

    def get_nowait(self) -> Message | None:
        """The next buffered message, or None when the buffer is empty."""
        if not self._buffer:
            self._ready.clear()
            return None
        return self._buffer.popleft()

    async def get(self, timeout: float | None = None) -> Message | None:
        """Wait for the next message; None on timeout or once closed."""
        while not self._buffer:
            if self.closed:
                return None
            self._ready.clear()
            try:
                async with asyncio.timeout(timeout):
                    await self._ready.wait()
            except TimeoutError:
                return None
        return self._buffer.popleft()

    def __aiter__(self) -> AsyncIterator[Message]:
        return self

    async def __anext__(self) -> Message:
        message = await self.get()
        if message is None:
            raise StopAsyncIteration
        return message

    def close(self) -> None:
        """Stop receiving; a pending ``get`` returns None (iteration ends). Idempotent."""
        if self.closed:
            return
        self.closed = True
        self._ready.set()
        if self._on_close is not None:
            self._on_close(self)


@runtime_checkable
class Bus(Protocol):
    """What the engine publishes to and subscribers read from (see the module docstring)."""

    async def start(self) -> None:
        """Connect (Redis) or nothing (memory). Idempotent."""

    async def close(self) -> None:
        """Close every subscription and connection. Idempotent."""

    async def publish(self, topic: str, payload: dict[str, Any]) -> int:
        """Publish; returns the topic's new seq."""

    async def publish_many(self, items: list[tuple[str, dict[str, Any]]]) -> list[int]:
        """Publish ``(topic, payload)`` pairs in order (Redis: one round trip); their seqs."""

    def subscribe(self, topic: str, *, maxsize: int = 10_000,
                  on_message: Callable[[int, dict[str, Any]], None] | None = None
                  ) -> Subscription:
        """A new subscription receiving messages published after this call (buffered, or
        handed to ``on_message`` as they are published)."""

    async def resume(self, topic: str, after_seq: int) -> list[Message]:
        """Messages with seq > after_seq from the history, or HistoryGap."""

    async def latest(self, topic: str) -> TopicState:
        """The topic's merged state and its seq."""

    async def forget(self, topic: str, entities: Iterable[str] | None = None) -> None:
        """Free a topic's history and state, or only some entities' state."""

    def subscriber_count(self, topic: str | None = None) -> int:
        """Local subscriptions on ``topic``, or on every topic."""

    def topics(self) -> list[str]:
        """Topics with at least one local subscription."""


class _Subscribers:
    """Local fan-out shared by both backends."""

    def __init__(self) -> None:
        self.by_topic: dict[str, set[Subscription]] = {}

    def add(self, topic: str, maxsize: int,
            on_message: Callable[[int, dict[str, Any]], None] | None = None) -> Subscription:
        sub = Subscription(validate_topic(topic), maxsize, on_close=self._remove,
                           on_message=on_message)
        self.by_topic.setdefault(topic, set()).add(sub)
        return sub

    def _remove(self, sub: Subscription) -> None:
        subs = self.by_topic.get(sub.topic)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self.by_topic[sub.topic]

    def deliver(self, topic: str, seq: int, payload: dict[str, Any]) -> None:
        for sub in tuple(self.by_topic.get(topic, ())):
            sub.deliver(seq, payload)

    def count(self, topic: str | None) -> int:
        if topic is not None:
            return len(self.by_topic.get(topic, ()))
        return sum(len(s) for s in self.by_topic.values())

    def close_all(self) -> None:
        for subs in list(self.by_topic.values()):
            for sub in list(subs):
                sub.close()
        self.by_topic.clear()


class MemoryBus:
    """The in-process bus: the default for one service instance.

    Args:
        history: messages kept per topic for ``resume``.
    """

    def __init__(self, *, history: int = 1000) -> None:
        if history < 1:
            raise ConfigError(f"bus history must be at least 1 message, got {history}")
        self.history = history
        self._subs = _Subscribers()
        self._states: dict[str, TopicState] = {}
        self._histories: dict[str, deque[Message]] = {}
        self.published = 0

    async def start(self) -> None:
        """Nothing to connect."""

    async def close(self) -> None:
        """Close every subscription."""
        self._subs.close_all()

    async def publish(self, topic: str, payload: dict[str, Any]) -> int:
        """Publish; returns the new seq (see the module docstring)."""
        return self.publish_nowait(topic, payload)

    async def publish_many(self, items: list[tuple[str, dict[str, Any]]]) -> list[int]:
        """Publish ``(topic, payload)`` pairs in order; their seqs."""
        return [self.publish_nowait(topic, payload) for topic, payload in items]

    def publish_nowait(self, topic: str, payload: dict[str, Any]) -> int:
        """``publish`` for synchronous callers (same semantics; memory backend only)."""
        state = self._states.get(topic)
        if state is None:
            state = self._states[validate_topic(topic)] = TopicState(topic)
            self._histories[topic] = deque(maxlen=self.history)
        seq = state.seq + 1
        state.merge(seq, payload)
        self._histories[topic].append((seq, payload))
        self.published += 1
        self._subs.deliver(topic, seq, payload)
        return seq

    def subscribe(self, topic: str, *, maxsize: int = 10_000,
                  on_message: Callable[[int, dict[str, Any]], None] | None = None
                  ) -> Subscription:
        """A new subscription receiving messages published after this call."""
        return self._subs.add(topic, maxsize, on_message)

    async def resume(self, topic: str, after_seq: int) -> list[Message]:
        """Messages after ``after_seq``; HistoryGap when the history starts later."""
        history = self._histories.get(validate_topic(topic))
        if not history:
            if after_seq > 0:
                raise HistoryGap(topic, after_seq, None, 0)
            return []
        oldest, latest = history[0][0], history[-1][0]
        if after_seq < oldest - 1 or after_seq > latest:
            raise HistoryGap(topic, after_seq, oldest, latest)
        return [m for m in history if m[0] > after_seq]

    async def latest(self, topic: str) -> TopicState:
        """A copy of the topic's merged state."""
        state = self._states.get(validate_topic(topic))
        if state is None:
            return TopicState(topic)
        return TopicState(topic, state.seq,
                          {k: {**e, "values": dict(e["values"])} for k, e in state.entities.items()},
                          state.last)

    async def forget(self, topic: str, entities: Iterable[str] | None = None) -> None:
        """Free the topic's history and merged state (see the module docstring)."""
        state = self._states.get(validate_topic(topic))
        if state is None:
            return
        if entities is not None:
            for key in entities:
                state.entities.pop(key, None)
            return
        if self._subs.count(topic):
            # keep the seq so the local subscribers' next message continues it
            self._states[topic] = TopicState(topic, state.seq)
            self._histories[topic].clear()
        else:
            del self._states[topic]
            del self._histories[topic]

    def subscriber_count(self, topic: str | None = None) -> int:
        """Local subscriptions on ``topic``, or on every topic."""
        return self._subs.count(topic)

    def topics(self) -> list[str]:
        """Topics with at least one local subscription."""
        return sorted(self._subs.by_topic)

