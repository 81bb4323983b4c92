"""The Redis bus: the same contract as ``MemoryBus``, shared by several service instances.

Per topic, Redis holds the seq counter, the bounded history (a list) and the merged entity
state (a hash of ``<entity key>|<value name>`` to the value's JSON), all under ``prefix``. One
Lua script assigns the seq, appends to the history, merges the state and publishes on the
topic's channel atomically, so seq order is publication order on every instance. Each
instance runs one reader task (a pattern subscription on the prefix's channels) that hands
messages to its local subscriptions; its own publications come back the same way.

Needs the ``redis`` extra (``pip install 'courtside[redis]'``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from courtside.live.bus import (
    HistoryGap,
    Message,
    Subscription,
    TopicState,
    _Subscribers,
    entity_key,
    validate_topic,
)
from courtside.model import ConfigError

__all__ = ["RedisBus"]

log = logging.getLogger(__name__)

# KEYS: seq, history, state, channel; ARGV: message JSON, history length, then pairs of
# state field and value JSON. The message carries its seq as a prefix "<seq>|".
_PUBLISH = """
local seq = redis.call('INCR', KEYS[1])
local msg = seq .. '|' .. ARGV[1]
redis.call('RPUSH', KEYS[2], msg)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
for i = 3, #ARGV, 2 do
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
end
redis.call('SET', KEYS[5], ARGV[1])
redis.call('PUBLISH', KEYS[4], msg)
return seq
"""

# KEYS: seq, state, last -> {seq, flat state pairs, last payload}
_LATEST = """
return {redis.call('GET', KEYS[1]) or '0', redis.call('HGETALL', KEYS[2]),
        redis.call('GET', KEYS[3]) or ''}
"""


# How long a forgotten topic's seq counter outlives it (subscribers elsewhere continue it).
_SEQ_KEPT_SECONDS = 86_400


def _dumps(payload: Any) -> str:
    # repr-exact floats, no NaN (the engine never produces one)
    return json.dumps(payload, separators=(",", ":"), allow_nan=False)


class RedisBus:
    """A bus on a Redis server (see the module docstring).

    Args:
        url: ``redis://host:port/db``.
        history: messages kept per topic for ``resume``.
        prefix: key and channel prefix (separate deployments or tests on one Redis).
    """

    def __init__(self, url: str, *, history: int = 1000, prefix: str = "courtside") -> None:
        if history < 1:
            raise ConfigError(f"bus history must be at least 1 message, got {history}")
        self.url = url
        self.history = history
        self.prefix = prefix
        self._subs = _Subscribers()
        self._redis: Any = None
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._publish_script: Any = None
        self._latest_script: Any = None
        self.published = 0

    def _key(self, topic: str, part: str) -> str:
        return f"{self.prefix}:{part}:{topic}"

    async def start(self) -> None:
        """Connect and start the reader task; idempotent."""
        if self._redis is not None:
            return
        try:
            import redis.asyncio as aioredis
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ConfigError("the Redis bus needs the redis package: "
                              "pip install 'courtside[redis]'") from exc
        client = aioredis.from_url(self.url, decode_responses=True)
        try:
            await client.ping()
        except Exception as exc:
            await client.aclose()
            raise ConfigError(f"cannot reach Redis at {self.url}: {exc}") from exc
        self._redis = client
        self._publish_script = client.register_script(_PUBLISH)
        self._latest_script = client.register_script(_LATEST)
        self._pubsub = client.pubsub(ignore_subscribe_messages=True)
        await self._pubsub.psubscribe(f"{self.prefix}:chan:*")
        self._reader = asyncio.get_running_loop().create_task(
            self._read(), name=f"redisbus-reader:{self.prefix}")

    async def close(self) -> None:
        """Close subscriptions, stop the reader and disconnect; idempotent."""
        self._subs.close_all()
        reader, self._reader = self._reader, None
        if reader is not None and not reader.done():
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
            self._pubsub = None
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.aclose()
            self._redis = None

    def _client(self) -> Any:
        if self._redis is None:
            raise ConfigError("the Redis bus is not started; await bus.start() first")
        return self._redis

    async def _read(self) -> None:
        channel_prefix = f"{self.prefix}:chan:"
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a broken connection: log, wait, retry
                log.warning("redis bus reader: %s", exc)
                await asyncio.sleep(0.5)
                continue
            if message is None or message.get("type") != "pmessage":
                continue
            topic = message["channel"][len(channel_prefix):]
            if not self._subs.count(topic):
                continue  # nobody here listens: do not decode it
            try:
                seq_text, _, body = message["data"].partition("|")
                seq, payload = int(seq_text), json.loads(body)
                if not isinstance(payload, dict):
                    raise ValueError(f"payload is a {type(payload).__name__}, not an object")
            except (ValueError, TypeError, AttributeError) as exc:
                # someone else's (or a broken) message on our prefix: it must not end the reader
                log.warning("redis bus: skipping a malformed message on %s: %s",
                            message.get("channel"), exc)
                continue
            try:
                self._subs.deliver(topic, seq, payload)
            except Exception:  # one subscriber's failure must not stop delivery to others
                log.exception("redis bus: delivering seq %d on %s failed", seq, topic)

    async def publish(self, topic: str, payload: dict[str, Any]) -> int:
        """Publish across every instance; returns the topic's new seq."""
        return (await self.publish_many([(topic, payload)]))[0]

    async def publish_many(self, items: list[tuple[str, dict[str, Any]]]) -> list[int]:
        """Publish several messages in one round trip (in order); returns their seqs."""
        client = self._client()
        async with client.pipeline(transaction=False) as pipe:
            for topic, payload in items:
                keys, args = self._script_args(topic, payload)
                await self._publish_script(keys=keys, args=args, client=pipe)
            seqs = await pipe.execute()
        self.published += len(items)
        return [int(seq) for seq in seqs]

    def _script_args(self, topic: str, payload: dict[str, Any]) -> tuple[list[str], list[Any]]:
        validate_topic(topic)
        body = _dumps(payload)
        args: list[Any] = [body, self.history]
        entity, values = payload.get("entity"), payload.get("values")
        if isinstance(entity, dict) and isinstance(values, dict) and "kind" in entity:
            ekey = entity_key(entity)
            args += [f"{ekey}|", _dumps({k: v for k, v in entity.items() if k != "values"})]
            for name, value in values.items():
                args += [f"{ekey}|{name}", _dumps(value)]
        keys = [self._key(topic, "seq"), self._key(topic, "hist"), self._key(topic, "state"),
                self._key(topic, "chan"), self._key(topic, "last")]
        return keys, args

    def subscribe(self, topic: str, *, maxsize: int = 10_000,
                  on_message: Callable[[int, dict[str, Any]], None] | None = None
                  ) -> Subscription:
        """A local subscription fed by the reader task."""
        if self._redis is None:
            raise ConfigError("the Redis bus is not started; await bus.start() first")
        return self._subs.add(topic, maxsize, on_message)

    async def resume(self, topic: str, after_seq: int) -> list[Message]:
        """Messages after ``after_seq`` from the shared history, or HistoryGap."""
        validate_topic(topic)
        raw = await self._client().lrange(self._key(topic, "hist"), 0, -1)
        history = []
        for item in raw:
            seq_text, _, body = item.partition("|")
            history.append((int(seq_text), body))
        if not history:
            current = int(await self._client().get(self._key(topic, "seq")) or 0)
            if after_seq > current:
                raise HistoryGap(topic, after_seq, None, current)
            return []
        oldest, latest = history[0][0], history[-1][0]
        if after_seq < oldest - 1 or after_seq > latest:
            raise HistoryGap(topic, after_seq, oldest, latest)
        return [(seq, json.loads(body)) for seq, body in history if seq > after_seq]

    async def latest(self, topic: str) -> TopicState:
        """The topic's merged state, read atomically with its seq."""
        validate_topic(topic)
        seq_text, flat, last = await self._latest_script(
            keys=[self._key(topic, "seq"), self._key(topic, "state"), self._key(topic, "last")],
            client=self._client())
        state = TopicState(topic, int(seq_text), {}, json.loads(last) if last else None)
        pairs = dict(zip(flat[::2], flat[1::2], strict=True))
        for field_name, value in pairs.items():
            ekey, _, name = field_name.partition("|")
            entity = state.entities.setdefault(ekey, {"values": {}})
            if name:
                entity["values"][name] = json.loads(value)
            else:
                entity.update(json.loads(value))
        return state

    async def forget(self, topic: str, entities: Iterable[str] | None = None) -> None:
        """Free the topic's history and merged state (``courtside.live.bus``). The seq key
        is kept a day, since instances may still have subscribers (seqs must not go back)."""
        validate_topic(topic)
        client = self._client()
        if entities is not None:
            state_key = self._key(topic, "state")
            for ekey in entities:
                fields = [f async for f, _ in client.hscan_iter(state_key, match=f"{ekey}|*")]
                if fields:
                    await client.hdel(state_key, *fields)
            return
        await client.delete(self._key(topic, "hist"), self._key(topic, "state"),
                            self._key(topic, "last"))
        await client.expire(self._key(topic, "seq"), _SEQ_KEPT_SECONDS)

    async def clear(self) -> None:
        """Delete every key under the prefix (tests and resets)."""
        client = self._client()
        async for key in client.scan_iter(match=f"{self.prefix}:*"):
            await client.delete(key)

    def subscriber_count(self, topic: str | None = None) -> int:
        """Local subscriptions on ``topic``, or on every topic."""
        return self._subs.count(topic)

    def topics(self) -> list[str]:
        """Topics with at least one local subscription."""
        return sorted(self._subs.by_topic)
