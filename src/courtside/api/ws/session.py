"""One WebSocket connection: reads client messages, feeds bus topics into the client's queue,
and sends the queue out. Protocol: docs/websocket.md.

Three tasks per connection: the receiver (client messages), the sender (drains the
:class:`ClientQueue` onto the socket; the only place that can block on a slow client) and
the heartbeat. The bus hands each published message straight to the session's subscription
callback, which filters it and puts it in the queue without ever waiting on the socket, so a
slow client never delays the bus or another client (and a message takes a single task hop,
the sender's, from publish to socket).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from courtside.api.ws.protocol import (
    CLOSE_GOING_AWAY,
    ClientMessage,
    ProtocolError,
    parse_client_message,
)
from courtside.api.ws.queue import CLOSE_SLOW_CONSUMER, ClientQueue, QueueOverflow
from courtside.live.bus import Bus, HistoryGap, Subscription
from courtside.live.state import GAME_VALUES
from courtside.model import CourtsideError, utcnow

__all__ = ["SessionSettings", "WebSocketSession"]

log = logging.getLogger(__name__)

# Values of the game entity that a formulas filter never removes.
_ALWAYS = frozenset((*GAME_VALUES, "RETIRED"))  # RETIRED: the game left live tracking


@dataclass(slots=True)
class SessionSettings:
    """Limits of one connection.

    Attributes:
        soft_limit, hard_limit, max_behind_seconds: the client queue's bounds (see ClientQueue).
        heartbeat_seconds: interval of ``heartbeat`` messages.
        max_topics: topics one connection may subscribe to.
        refill_timeout_seconds: how long filling a seq gap from the bus may take before a
            fresh snapshot is sent instead.
    """

    soft_limit: int = 256
    hard_limit: int = 4096
    max_behind_seconds: float = 10.0
    heartbeat_seconds: float = 15.0
    max_topics: int = 50
    refill_timeout_seconds: float = 5.0


@dataclass(slots=True, eq=False)
class _Topic:
    formulas: frozenset[str] | None
    last_seq: int = 0
    subscription: Subscription | None = None
    # Until the snapshot (or the replayed history) is queued, bus messages wait here.
    ready: bool = False
    pending: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class WebSocketSession:
    """The state of one connected client."""

    ws: WebSocket
    bus: Bus
    settings: SessionSettings
    check_names: Callable[[Iterable[str]], list[str]] | None = None
    on_drop: Callable[[str, int], None] | None = None
    on_sent: Callable[[], None] | None = None
    track: Callable[[str, str, str | None], Any] | None = None
    client: str = "anonymous"
    queue: ClientQueue = field(init=False)
    topics: dict[str, _Topic] = field(default_factory=dict)
    sent: int = 0
    _refills: set[asyncio.Task[None]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.queue = ClientQueue(soft_limit=self.settings.soft_limit,
                                 hard_limit=self.settings.hard_limit,
                                 max_behind_seconds=self.settings.max_behind_seconds,
                                 on_drop=self.on_drop)

    # ------------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        """Serve the connection until the client leaves, falls behind or the server stops."""
        tasks = [asyncio.create_task(self._receive_loop(), name="ws-receive"),
                 asyncio.create_task(self._send_loop(), name="ws-send"),
                 asyncio.create_task(self._heartbeat_loop(), name="ws-heartbeat")]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    exc = task.exception()
                    if not isinstance(exc, WebSocketDisconnect):
                        log.warning("websocket session ended by %r", exc)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            self.close_topics()
            refills = list(self._refills)
            if refills:  # cancelled by close_topics: wait until they are gone
                await asyncio.gather(*refills, return_exceptions=True)

    def close_topics(self) -> None:
        """Drop every subscription."""
        for topic in list(self.topics):
            self._drop(topic)
        for task in self._refills:
            task.cancel()

    async def close(self, code: int = CLOSE_GOING_AWAY, reason: str = "") -> None:
        """Close the socket (idempotent)."""
        if self.ws.client_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await self.ws.close(code=code, reason=reason[:120])

    # ------------------------------------------------------------------ loops

    async def _receive_loop(self) -> None:
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                text = (message.get("bytes") or b"").decode("utf-8", "replace")
            try:
                await self.handle(parse_client_message(text))
            except ProtocolError as exc:
                self.queue.put(_error(exc.code, str(exc), topic=exc.topic))

    async def _send_loop(self) -> None:
        try:
            while True:
                message = await self.queue.get()
                await self.ws.send_text(json.dumps(message, separators=(",", ":")))
                self.sent += 1
                if self.on_sent is not None:
                    self.on_sent()
        except QueueOverflow as exc:
            log.info("closing a slow websocket client: %s", exc)
            await self.close(CLOSE_SLOW_CONSUMER, f"slow consumer: {exc}")

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.heartbeat_seconds)
            self.queue.put({"type": "heartbeat", "time": utcnow().isoformat(),
                            "seqs": {t: s.last_seq for t, s in self.topics.items()}})

    # ------------------------------------------------------------------ messages

    async def handle(self, msg: ClientMessage) -> None:
        """Act on one client message (each but ``ping`` recorded as one usage event)."""
        if msg.type == "ping" or self.track is None:
            await self._handle(msg)
            return
        with self.track(f"ws {msg.type}", self.client, msg.topic) as call:
            try:
                await self._handle(msg)
            except ProtocolError as exc:
                if call is not None:
                    call.fail(exc.code)
                raise

    async def _handle(self, msg: ClientMessage) -> None:
        if msg.type == "ping":
            self.queue.put(_with_id({"type": "pong", "time": utcnow().isoformat()}, msg.id))
            return
        assert msg.topic is not None
        if msg.type == "unsubscribe":
            if self._drop(msg.topic):
                self.queue.put(_with_id({"type": "unsubscribed", "topic": msg.topic}, msg.id))
            else:
                raise ProtocolError("not_subscribed", f"not subscribed to {msg.topic}",
                                    topic=msg.topic)
            return
        if msg.topic not in self.topics and len(self.topics) >= self.settings.max_topics:
            raise ProtocolError("too_many_topics",
                                f"one connection may subscribe to {self.settings.max_topics} "
                                "topics; unsubscribe from one first", topic=msg.topic)
        formulas = self._filter(msg)
        if msg.type == "subscribe":
            await self._subscribe(msg.topic, formulas, msg.id)
        else:
            await self._resume(msg.topic, formulas, msg.seq or 0, msg.id)

    def _filter(self, msg: ClientMessage) -> frozenset[str] | None:
        if msg.formulas is None:
            # A resume keeps the filter of the current subscription.
            current = self.topics.get(msg.topic or "")
            return current.formulas if current and msg.type == "resume" else None
        if self.check_names is None:
            return frozenset(msg.formulas)
        try:
            return frozenset(self.check_names(msg.formulas))
        except CourtsideError as exc:
            raise ProtocolError("unknown_formula", str(exc), topic=msg.topic) from None

    async def _subscribe(self, topic: str, formulas: frozenset[str] | None, msg_id: Any,
                         reason: str | None = None) -> None:
        # Race-free order (bus contract): subscribe, read the state, skip what it covers.
        entry = self._open(topic, formulas)
        seq = await self._send_snapshot(topic, formulas, msg_id, reason)
        self._ready(topic, entry, seq)

    async def _send_snapshot(self, topic: str, formulas: frozenset[str] | None, msg_id: Any,
                             reason: str | None) -> int:
        state = await self.bus.latest(topic)
        entities = [_filtered_entity(e, formulas) for e in state.snapshot_entities()]
        snapshot: dict[str, Any] = {"type": "snapshot", "topic": topic, "seq": state.seq,
                                    "entities": entities, "sent_at": utcnow().isoformat()}
        if formulas is not None:
            snapshot["formulas"] = sorted(formulas)
        if not entities and state.last is not None and "entity" not in state.last:
            snapshot["last"] = state.last  # an event topic (jobs, alerts): its latest event
        if reason:
            snapshot["reason"] = reason
        self.queue.put(_with_id(snapshot, msg_id))
        return state.seq

    async def _resume(self, topic: str, formulas: frozenset[str] | None, after: int,
                      msg_id: Any) -> None:
        entry = self._open(topic, formulas)
        try:
            missed = await self.bus.resume(topic, after)
        except HistoryGap:
            seq = await self._send_snapshot(topic, formulas, msg_id, "resume_gap")
            self._ready(topic, entry, seq)
            return
        self.queue.put(_with_id({"type": "resumed", "topic": topic, "after": after,
                                 "replayed": len(missed)}, msg_id))
        last = after
        for seq, payload in missed:
            if seq > last:
                self._put_update(topic, seq, payload, formulas)
                last = seq
        self._ready(topic, entry, last)

    def _open(self, topic: str, formulas: frozenset[str] | None) -> _Topic:
        """Subscribe; the bus hands messages straight to ``_on_message`` (no reader task)."""
        self._drop(topic)
        entry = _Topic(formulas)
        entry.subscription = self.bus.subscribe(
            topic, on_message=lambda seq, payload: self._on_message(topic, entry, seq, payload))
        self.topics[topic] = entry
        return entry

    def _ready(self, topic: str, entry: _Topic, last_seq: int) -> None:
        """The snapshot or history is queued up to ``last_seq``: release what waited."""
        entry.last_seq = max(entry.last_seq, last_seq)
        waiting, entry.pending = entry.pending, []
        entry.ready = True
        for seq, payload in waiting:
            self._on_message(topic, entry, seq, payload)

    def _drop(self, topic: str) -> bool:
        entry = self.topics.pop(topic, None)
        if entry is None:
            return False
        if entry.subscription is not None:
            entry.subscription.close()
        return True

    def _on_message(self, topic: str, entry: _Topic, seq: int, payload: dict[str, Any]) -> None:
        # Called by the bus as it publishes: must not block and must not await.
        if self.topics.get(topic) is not entry:
            return
        if not entry.ready:
            entry.pending.append((seq, payload))
            return
        if seq <= entry.last_seq:
            return  # covered by the snapshot or the replayed history
        if seq != entry.last_seq + 1:
            # The bus skipped messages (a Redis reconnect): fill the gap from its history.
            entry.ready = False
            entry.pending.append((seq, payload))
            task = asyncio.get_running_loop().create_task(self._refill(topic, entry),
                                                          name=f"ws-refill:{topic}")
            self._refills.add(task)
            task.add_done_callback(self._refills.discard)
            return
        self._put_update(topic, seq, payload, entry.formulas)
        entry.last_seq = seq

    async def _refill(self, topic: str, entry: _Topic) -> None:
        """Fill a seq gap from the bus history; when that is impossible (history too short)
        or fails (a Redis error, no answer within ``refill_timeout_seconds``), send a fresh
        snapshot instead, and when even that fails an ``error``: either way the topic's
        waiting messages are released, so it keeps flowing."""
        try:
            async with asyncio.timeout(self.settings.refill_timeout_seconds):
                missed = await self.bus.resume(topic, entry.last_seq)
        except HistoryGap:
            missed = None
        except Exception as exc:  # the bus failed: a snapshot is the next best thing
            log.warning("websocket refill of %s failed: %r", topic, exc)
            missed = None
        if self.topics.get(topic) is not entry:
            return  # unsubscribed meanwhile
        if missed is None:
            await self._refill_by_snapshot(topic, entry)
            return
        for seq, payload in missed:
            if seq > entry.last_seq and (not entry.pending or seq < entry.pending[0][0]):
                self._put_update(topic, seq, payload, entry.formulas)
                entry.last_seq = seq
        self._ready(topic, entry, entry.last_seq)

    async def _refill_by_snapshot(self, topic: str, entry: _Topic) -> None:
        try:
            async with asyncio.timeout(self.settings.refill_timeout_seconds):
                seq = await self._send_snapshot(topic, entry.formulas, None, "resume_gap")
        except Exception as exc:
            log.warning("websocket snapshot of %s failed: %r", topic, exc)
            self.queue.put(_error("refill_failed", f"{topic}: missed updates could not be "
                                  "fetched; subscribe again for a fresh snapshot", topic=topic))
            seq = entry.last_seq
        if self.topics.get(topic) is not entry:
            return
        # The snapshot (or, failing it, the client's view) stands for everything before the
        # first waiting message: release them, or the next message would be a gap again.
        if entry.pending:
            seq = max(seq, entry.pending[0][0] - 1)
        self._ready(topic, entry, seq)

    def _put_update(self, topic: str, seq: int, payload: dict[str, Any],
                    formulas: frozenset[str] | None) -> None:
        if "entity" not in payload:
            # the envelope wins: a payload's own kind (job_progress, alert) goes in "event"
            message = {**payload, "type": "event", "topic": topic, "seq": seq}
            if "type" in payload:
                message["event"] = payload["type"]
            self.queue.put(message)
            return
        message = {"type": "update", "topic": topic, "seq": seq, **payload}
        if formulas is not None:
            message["values"] = _filtered_values(payload.get("values", {}), formulas)
        self.queue.put_update(message)


def _filtered_values(values: dict[str, Any], formulas: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k in formulas or k in _ALWAYS}


def _filtered_entity(entity: dict[str, Any], formulas: frozenset[str] | None) -> dict[str, Any]:
    if formulas is None:
        return entity
    return {**entity, "values": _filtered_values(entity.get("values", {}), formulas)}


def _with_id(message: dict[str, Any], msg_id: Any) -> dict[str, Any]:
    if msg_id is not None:
        message["id"] = msg_id
    return message


def _error(code: str, message: str, *, topic: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if topic:
        out["topic"] = topic
    return out
