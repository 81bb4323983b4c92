"""The bounded outbound queue of one WebSocket client, with coalescing of updates.

The bus hands every update to every subscribed client's queue without waiting, so a slow
client can never delay another. A client's queue holds messages in send order; while it is
short, every update is kept as is and the client sees ``seq`` increase by one per topic.
Once it holds ``soft_limit`` messages the client is behind: a new update for an entity that
already has an update waiting replaces it (latest value per stat wins), and the merged
message lists the seqs it stands for in ``coalesced_from`` so the client can tell a gap from
a loss. If the queue still reaches ``hard_limit`` messages, or the client stays behind for
longer than ``max_behind_seconds``, the queue is marked overflowed and the connection is
closed with :data:`CLOSE_SLOW_CONSUMER`.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from typing import Any

__all__ = ["CLOSE_SLOW_CONSUMER", "ClientQueue", "QueueOverflow"]

#: WebSocket close code sent to a client that stayed behind (application range 4000-4999).
CLOSE_SLOW_CONSUMER = 4408

Message = dict[str, Any]


class QueueOverflow(Exception):
    """The client stayed behind; its connection must be closed."""


class ClientQueue:
    """Messages waiting to be sent to one client, bounded, coalescing updates when behind."""

    def __init__(self, *, soft_limit: int = 256, hard_limit: int = 2048,
                 max_behind_seconds: float = 10.0,
                 clock: Callable[[], float] = time.monotonic,
                 on_drop: Callable[[str, int], None] | None = None) -> None:
        if not 0 < soft_limit <= hard_limit:
            raise ValueError("need 0 < soft_limit <= hard_limit")
        self.soft_limit = soft_limit
        self.hard_limit = hard_limit
        self.max_behind_seconds = max_behind_seconds
        self._clock = clock
        self._on_drop = on_drop  # (reason, count): feeds the messages_dropped metric
        # Insertion order is send order; a coalesced update is re-inserted at the end.
        self._pending: dict[int, Message] = {}
        self._by_entity: dict[tuple[str, str, str], int] = {}
        self._keys = itertools.count()
        self._ready = asyncio.Event()
        self._behind_since: float | None = None
        self.overflow: str | None = None
        self.coalesced = 0  # messages merged away since the client connected

    def __len__(self) -> int:
        return len(self._pending)

    @property
    def behind(self) -> bool:
        """True while updates are being coalesced for this client."""
        return self._behind_since is not None

    def put(self, message: Message) -> None:
        """Queue a message that is never merged (snapshot, pong, error, heartbeat)."""
        if self.overflow:
            return
        self._append(message, None)

    def put_update(self, message: Message) -> None:
        """Queue an ``update``; merged into a waiting one for the same entity when behind."""
        if self.overflow:
            return
        entity = message["entity"]
        ekey = (message["topic"], entity["kind"], str(entity["id"]))
        if len(self._pending) >= self.soft_limit:
            now = self._clock()
            if self._behind_since is None:
                self._behind_since = now
            elif now - self._behind_since > self.max_behind_seconds:
                self._overflowed(f"behind for more than {self.max_behind_seconds:g} s")
                return
            old_key = self._by_entity.get(ekey)
            if old_key is not None:
                message = _merge(self._pending.pop(old_key), message)
                self.coalesced += 1
                if self._on_drop is not None:
                    self._on_drop("coalesced", 1)
        self._append(message, ekey)

    def _append(self, message: Message, ekey: tuple[str, str, str] | None) -> None:
        key = next(self._keys)
        self._pending[key] = message
        if ekey is not None:
            self._by_entity[ekey] = key
        self._ready.set()
        # Every kind counts: pongs, events and heartbeats pile up too for a client that
        # does not read, and only updates can be merged.
        if len(self._pending) >= self.hard_limit:
            self._overflowed(f"more than {self.hard_limit} messages waiting")

    def _overflowed(self, reason: str) -> None:
        self.overflow = reason
        if self._on_drop is not None:
            self._on_drop("closed_slow", len(self._pending))
        self._pending.clear()
        self._by_entity.clear()
        self._ready.set()

    def pop_nowait(self) -> Message | None:
        """The next message to send, or None when empty. Raises QueueOverflow once overflowed."""
        if self.overflow:
            raise QueueOverflow(self.overflow)
        if not self._pending:
            self._ready.clear()
            return None
        key = next(iter(self._pending))
        message = self._pending.pop(key)
        if message.get("type") == "update":
            entity = message["entity"]
            ekey = (message["topic"], entity["kind"], str(entity["id"]))
            if self._by_entity.get(ekey) == key:
                del self._by_entity[ekey]
        if len(self._pending) <= self.soft_limit // 2:
            # Caught up well below the limit: the client is no longer behind.
            self._behind_since = None
        return message

    async def get(self) -> Message:
        """Wait for the next message to send. Raises QueueOverflow once overflowed."""
        while True:
            message = self.pop_nowait()
            if message is not None:
                return message
            await self._ready.wait()


def _merge(old: Message, new: Message) -> Message:
    merged = dict(new)
    merged["values"] = {**old.get("values", {}), **new.get("values", {})}
    merged["coalesced_from"] = [*old.get("coalesced_from", [old["seq"]]), new["seq"]]
    return merged
